"""Parameter-count tables: our models beside the counts papers publish."""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import torch

from .._validation import check_int, check_option
from ._paper003 import REDUCED_WIDTHS
from ._registry import MODELS, count_parameters

__all__ = ["PAPER003_TABLE1", "parameter_table"]

#: Paper 003 (Cedro & Chlebus), Table 1: trainable parameters for 1 input channel and 2 classes.
PAPER003_TABLE1 = {18: 6_139_842, 34: 12_329_218, 50: 23_532_418, 101: 42_550_658}

# Published counts each registered model is compared with: name -> depth key of Table 1.
_DEFAULT = {**{f"paper003_resnet{d}": d for d in PAPER003_TABLE1}, **{f"resnet{d}": d for d in PAPER003_TABLE1}}
# The width-reduced variants sit beside the full model of their depth too (listed on request only).
_REFERENCES = {**_DEFAULT, **{f"paper003_resnet{d}_w{w}": d for d in PAPER003_TABLE1 for w in REDUCED_WIDTHS}}


def _count(name: str, in_channels: int, num_classes: int) -> tuple[int, int]:
    try:  # no memory, no initialisation: the meta device only records shapes
        with torch.device("meta"):
            model = MODELS[name](in_channels, num_classes)
    except (NotImplementedError, RuntimeError):
        model = MODELS[name](in_channels, num_classes)
    return count_parameters(model), count_parameters(model, trainable_only=True)


def parameter_table(names: Iterable[str] | None = None, in_channels: int = 1, num_classes: int = 2) -> pd.DataFrame:
    """Parameter counts of registered models, beside paper 003's Table 1 where it has one.

    Models are built on the ``meta`` device, so even ResNet-101 takes milliseconds. The
    reference column is filled for ``paper003_resnet*`` (also the width-reduced ``_w*`` variants)
    and torchvision's ``resnet*`` (same depth) only when ``in_channels == 1`` and
    ``num_classes == 2``, the paper's setting. By default the eight full-width ResNets are listed.

    Returns
    -------
    DataFrame
        One row per model: ``model, parameters, trainable, paper003_table1, difference``
        (ours minus the paper's; 0 means an exact reproduction).

    Examples
    --------
    >>> t = parameter_table(["paper003_resnet18", "resnet18"])
    >>> t[["model", "parameters", "difference"]].values.tolist()
    [['paper003_resnet18', 6139842, 0.0], ['resnet18', 11171266, 5031424.0]]
    """
    check_int("in_channels", in_channels, min_value=1, context="parameter_table")
    check_int("num_classes", num_classes, min_value=1, context="parameter_table")
    names = list(_DEFAULT) if names is None else list(names)
    rows = []
    for name in names:
        check_option("names", name, sorted(MODELS), context="parameter_table")
        total, trainable = _count(name, in_channels, num_classes)
        depth = _REFERENCES.get(name)
        ref = PAPER003_TABLE1[depth] if depth and (in_channels, num_classes) == (1, 2) else None
        rows.append({"model": name, "parameters": total, "trainable": trainable, "paper003_table1": ref,
                     "difference": None if ref is None else total - ref})
    return pd.DataFrame(rows).astype({"paper003_table1": "float64", "difference": "float64"})
