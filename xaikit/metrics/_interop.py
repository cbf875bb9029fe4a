"""Run xaikit metrics on Quantus-style numpy inputs (no quantus import)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .._validation import check_option

__all__ = ["run_on_quantus_inputs"]


def run_on_quantus_inputs(metric: str | Callable, a_batch: np.ndarray, s_batch: np.ndarray, *,
                          device: str | torch.device = "cpu", **kwargs) -> np.ndarray:
    """Score Quantus-style numpy arrays with an xaikit metric and return numpy scores.

    Parameters
    ----------
    metric : str or callable
        A name from ``xaikit.metrics.__all__`` (e.g. ``"relevance_rank_accuracy"``) or the
        function itself.
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
    import xaikit.metrics as xm

    from . import __all__ as names

    if isinstance(metric, str):
        scoring = [n for n in names if n[0].islower() and n not in ("otsu_threshold", "run_on_quantus_inputs")]
        check_option("metric", metric, scoring, context="run_on_quantus_inputs")
        metric = getattr(xm, metric)
    for name, arr in (("a_batch", a_batch), ("s_batch", s_batch)):
        if not isinstance(arr, np.ndarray):
            raise ValueError(f"{name} of run_on_quantus_inputs must be a numpy array, got {type(arr).__name__}")
    a = torch.from_numpy(np.ascontiguousarray(a_batch)).to(device)
    s = torch.from_numpy(np.ascontiguousarray(s_batch)).to(device)
    if metric.__name__ in ("sparseness", "entropy"):
        out = metric(a, **kwargs)
    else:
        out = metric(a, s, **kwargs)
    return out.cpu().numpy()
