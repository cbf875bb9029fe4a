"""Valid inference on one test set: the paired bootstrap CI over images of each F1 difference.

Resamples of one test set are not independent replicates: a t-test over them (paper 002's protocol,
:func:`xaikit.qc.qc_ttests`) gives p-values that shrink as the number of resamples grows. The interval of
the difference, from resampling images with every method scored on the same resample, does not.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._validation import check_float, check_int
from ._evaluate import _coded
from ._thresholds import _f1

__all__ = ["paired_bootstrap_f1"]


def _multiplicities(n: int, n_boot: int, seed: int) -> np.ndarray:
    """(1 + n_boot, n): how often each image is drawn; row 0 is the test set itself."""
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    w = np.bincount((np.arange(n_boot)[:, None] * n + idx).ravel(), minlength=n_boot * n).reshape(n_boot, n)
    return np.vstack([np.ones((1, n), np.int64), w]).astype(np.float64)


def _f1_per_resample(w: np.ndarray, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """(1 + B, K + 1) F1 per class and its class mean on every resample (abstained −1 entries not counted)."""
    kept = p >= 0
    tp = w @ ((y == 1) & (p == 1) & kept)
    fp = w @ ((y == 0) & (p == 1) & kept)
    fn = w @ ((y == 1) & (p == 0) & kept)
    f1 = _f1(tp, fp, fn)
    return np.hstack([f1, f1.mean(1, keepdims=True)])


def paired_bootstrap_f1(y_true, predictions: Mapping[str, np.ndarray], methods: Sequence[str],
                        baselines: Sequence[str], *, n_boot: int = 2000, level: float = 0.95, seed: int = 0,
                        class_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Paired percentile-bootstrap CI over images of each F1 difference (method − baseline), per class and mean.

    Every method is scored on the same resampled test sets, so the interval is of the paired difference.
    The chapter's verdicts come from these intervals (and from replication over seeds), not from
    :func:`xaikit.qc.qc_ttests`.

    Parameters
    ----------
    y_true : (N, K) truth of the test set.
    predictions : name → (N, K) predictions after QC (−1 = abstained); references included
        (see :func:`xaikit.qc.reference_predictions`).
    methods, baselines : every method is compared with every baseline (a name compared with itself is skipped).
    n_boot, level, seed : resamples of the N images, interval level, generator seed.

    Returns
    -------
    DataFrame: method, baseline, class (class names and "mean"), f1_method, f1_baseline, diff, low, high,
    p (two-sided bootstrap p: twice the smaller share of resampled differences on either side of 0, at most 1),
    verdict ("higher" if the interval lies above 0, "lower" if below, else "no difference").

    Examples
    --------
    >>> y = np.array([[1], [0], [1], [0], [1], [0]]); preds = {"a": y, "b": 1 - y}
    >>> paired_bootstrap_f1(y, preds, ["a"], ["b"], n_boot=200).query("`class` == 'mean'")["verdict"].tolist()
    ['higher']
    """
    ctx = "paired_bootstrap_f1"
    check_int("n_boot", n_boot, min_value=1, context=ctx)
    check_float("level", level, min_value=0.0, max_value=1.0, context=ctx)
    check_int("seed", seed, min_value=0, context=ctx)
    y = _coded("y_true", y_true)
    if (y < 0).any():
        raise ValueError(f"y_true of {ctx} must hold 0/1 values")
    missing = [m for m in (*methods, *baselines) if m not in predictions]
    if missing:
        raise ValueError(f"methods/baselines of {ctx} {missing} are not in predictions (has {list(predictions)})")
    k = y.shape[1]
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    if len(names) != k:
        raise ValueError(f"class_names of {ctx} has {len(names)} names for {k} classes")
    w = _multiplicities(len(y), n_boot, seed)
    f1 = {m: _f1_per_resample(w, y, _coded(f"predictions[{m!r}]", predictions[m], y.shape))
          for m in dict.fromkeys([*methods, *baselines])}
    alpha = (1 - level) / 2
    rows = []
    for m in methods:
        for b in baselines:
            if m == b:
                continue
            d = f1[m] - f1[b]
            for j, cls in enumerate([*names, "mean"]):
                reps = d[1:, j]
                low, high = np.quantile(reps, [alpha, 1 - alpha])
                p = min(1.0, 2 * min(float((reps <= 0).mean()), float((reps >= 0).mean())))
                rows.append({"method": m, "baseline": b, "class": cls, "f1_method": float(f1[m][0, j]),
                             "f1_baseline": float(f1[b][0, j]), "diff": float(d[0, j]), "low": float(low),
                             "high": float(high), "p": p,
                             "verdict": "higher" if low > 0 else "lower" if high < 0 else "no difference"})
    return pd.DataFrame(rows, columns=["method", "baseline", "class", "f1_method", "f1_baseline", "diff", "low",
                                       "high", "p", "verdict"])
