"""Run xaikit metrics on Quantus-style numpy inputs (no quantus import)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .._validation import check_option
from ._registry import METRICS

__all__ = ["run_on_quantus_inputs"]


def run_on_quantus_inputs(metric: str | Callable, a_batch: np.ndarray, s_batch: np.ndarray, *,
                          device: str | torch.device = "cpu", **kwargs) -> np.ndarray:
    """Score Quantus-style numpy arrays with an xaikit metric and return numpy scores.

    Parameters
    ----------
    metric : str or callable
        The name of a registered metric that needs only maps and masks (``xaikit.metrics.METRICS``,
        e.g. ``"relevance_rank_accuracy"``) or the function itself.
    a_batch : ndarray, (B, H, W) or (B, C, H, W), channel first
        Attributions as Quantus takes them (``a_batch``).
    s_batch : ndarray, (B, 1, H, W) or (B, H, W)
        Binary masks (``s_batch``; 0/1 or bool).
    device : str or torch.device, default "cpu"
        Where to compute (e.g. ``"cuda"``); the arrays are copied there once.
    **kwargs
        Passed to the metric (``sign=``, ``ties=``, ...).

    Returns
    -------
    ndarray
        float64, (B,), NaN where undefined.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[[3.0, 2.0], [1.0, 0.0]]]); s = np.array([[[[1, 0], [1, 0]]]])
    >>> run_on_quantus_inputs("relevance_rank_accuracy", a, s)
    array([0.5])
    """
    ctx = "run_on_quantus_inputs"
    if isinstance(metric, str):
        scoring = [n for n, spec in METRICS.items() if spec.returns == "scores" and "attributions" in spec.needs
                   and set(spec.needs) <= {"attributions", "masks"}]
        check_option("metric", metric, scoring, context=ctx)
        metric = METRICS[metric].func
    for name, arr in (("a_batch", a_batch), ("s_batch", s_batch)):
        if not isinstance(arr, np.ndarray):
            raise ValueError(f"{name} of {ctx} must be a numpy array, got {type(arr).__name__}")
    a = torch.from_numpy(np.ascontiguousarray(a_batch)).to(device)
    s = torch.from_numpy(np.ascontiguousarray(s_batch)).to(device)
    spec = next((m for m in METRICS.values() if m.func is metric), None)
    if spec is not None and spec.needs == ("attributions",):
        out = metric(a, **kwargs)
    else:
        out = metric(a, s, **kwargs)
    return out.cpu().numpy()
