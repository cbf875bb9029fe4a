"""Parameter-count tables of registered models (the studies put the counts papers publish beside them)."""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import torch

from .._validation import check_int, check_option
from ._registry import MODELS, count_parameters

__all__ = ["parameter_table"]


def _count(name: str, in_channels: int, num_classes: int) -> tuple[int, int]:
    try:  # no memory, no initialisation: the meta device only records shapes
        with torch.device("meta"):
            model = MODELS[name](in_channels, num_classes)
    except (NotImplementedError, RuntimeError):
        model = MODELS[name](in_channels, num_classes)
    return count_parameters(model), count_parameters(model, trainable_only=True)


def parameter_table(names: Iterable[str] | None = None, in_channels: int = 1, num_classes: int = 2) -> pd.DataFrame:
    """Parameter counts of registered models (all of them by default).

    Models are built on the ``meta`` device, so even ResNet-101 takes milliseconds. Study 1 puts
    paper 003's Table 1 beside these counts (:func:`xaikit.studies.load_published`).

    Returns
    -------
    DataFrame
        One row per model: ``model, parameters, trainable``.

    Examples
    --------
    >>> t = parameter_table(["paper003_resnet18", "resnet18"])
    >>> t[["model", "parameters"]].values.tolist()
    [['paper003_resnet18', 6139842], ['resnet18', 11171266]]
    """
    check_int("in_channels", in_channels, min_value=1, context="parameter_table")
    check_int("num_classes", num_classes, min_value=1, context="parameter_table")
    names = sorted(MODELS) if names is None else list(names)
    rows = []
    for name in names:
        check_option("names", name, sorted(MODELS), context="parameter_table")
        total, trainable = _count(name, in_channels, num_classes)
        rows.append({"model": name, "parameters": total, "trainable": trainable})
    return pd.DataFrame(rows, columns=["model", "parameters", "trainable"])
