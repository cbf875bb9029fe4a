"""Evaluating quality control as paper 002 does: F1 per class after acting on flags, 30 bootstrapped test sets,
paired t-tests; plus sensitivity/specificity tables and how well a monitor's score ranks wrong predictions."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._validation import check_int
from ._thresholds import _f1

__all__ = ["bootstrap_indices", "bootstrap_qc", "error_detection", "qc_metrics", "qc_ttests", "significance_stars"]


def _coded(name: str, a, shape=None) -> np.ndarray:
    arr = np.asarray(a)
    arr = arr[:, None] if arr.ndim == 1 else arr
    if arr.ndim != 2 or (shape is not None and arr.shape != shape):
        raise ValueError(f"{name} must have shape {shape or '(N, K)'}, got {arr.shape}")
    if not np.isin(arr, (-1, 0, 1)).all():
        raise ValueError(f"{name} must hold 0/1 (and -1 for an abstained prediction)")
    return arr.astype(np.int64)


def _counts(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-class TP, FP, FN, TN over the non-abstained (p != −1) entries."""
    kept = p >= 0
    yb, pb = y == 1, p == 1
    return ((yb & pb & kept).sum(0), (~yb & pb & kept).sum(0), (yb & ~pb & kept).sum(0),
            (~yb & ~pb & kept).sum(0))


def qc_metrics(y_true, y_pred, *, class_names: Sequence[str] | None = None) -> pd.DataFrame:
    """F1, sensitivity, specificity, precision and coverage per class (and their means) of predictions after QC.

    Abstained predictions (−1, from ``action="abstain"``) are left out of their class's counts; coverage is
    the share kept. A 0/0 ratio is 0 (as :func:`xaikit.train.evaluate_logits`). The "mean" row is the
    unweighted mean over the classes (paper 002's F̄1).

    Returns
    -------
    DataFrame with columns class, f1, sensitivity, specificity, precision, coverage, tp, fp, fn, tn.

    Examples
    --------
    >>> qc_metrics([[1, 0], [1, 1], [0, 0]], [[1, 0], [0, 1], [0, -1]], class_names=["a", "b"])["f1"].round(3).tolist()
    [0.667, 1.0, 0.833]
    """
    p = _coded("y_pred", y_pred)
    y = _coded("y_true", y_true, p.shape)
    if (y < 0).any():
        raise ValueError("y_true must hold 0/1 values")
    k = p.shape[1]
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    if len(names) != k:
        raise ValueError(f"class_names has {len(names)} names for {k} classes")
    tp, fp, fn, tn = _counts(y, p)

    def div(a, b):
        return np.divide(a, b, out=np.zeros(k), where=b != 0)

    frame = pd.DataFrame({"class": names, "f1": _f1(tp, fp, fn), "sensitivity": div(tp, tp + fn),
                          "specificity": div(tn, tn + fp), "precision": div(tp, tp + fp),
                          "coverage": (p >= 0).mean(0), "tp": tp, "fp": fp, "fn": fn, "tn": tn})
    mean = {c: frame[c].mean() for c in ("f1", "sensitivity", "specificity", "precision", "coverage")}
    frame = pd.concat([frame, pd.DataFrame([{"class": "mean", **mean}])], ignore_index=True)
    return frame


def bootstrap_indices(n: int, n_sets: int = 30, *, seed: int = 0) -> np.ndarray:
    """(n_sets, n) indices: each row a test set of size n drawn with replacement (paper 002: 30 sets of 284).

    Examples
    --------
    >>> bootstrap_indices(5, 2, seed=0).shape
    (2, 5)
    """
    check_int("n", n, min_value=1, context="bootstrap_indices")
    check_int("n_sets", n_sets, min_value=1, context="bootstrap_indices")
    return np.random.default_rng(seed).integers(0, n, size=(n_sets, n))


def bootstrap_qc(y_true, predictions: Mapping[str, np.ndarray], *, n_sets: int = 30, seed: int = 0,
                 class_names: Sequence[str] | None = None) -> pd.DataFrame:
    """F1 per class and its class mean on ``n_sets`` bootstrapped test sets: one row per set × method × class.

    Every method is scored on the same resampled sets (the pairing of the t-test).

    Parameters
    ----------
    y_true : (N, K) truth of the test set.
    predictions : method name → (N, K) predictions after QC (−1 = abstained).
    n_sets, seed : see :func:`bootstrap_indices`.

    Returns
    -------
    DataFrame: set, method, class (the class names and "mean"), f1.

    Examples
    --------
    >>> y = np.array([[1], [0], [1], [0]]); preds = {"a": y, "b": 1 - y}
    >>> bootstrap_qc(y, preds, n_sets=3).query("`class` == 'mean'").groupby("method")["f1"].max().tolist()
    [1.0, 0.0]
    """
    y = _coded("y_true", y_true)
    idx = bootstrap_indices(len(y), n_sets, seed=seed)
    k = y.shape[1]
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    rows = []
    for method, pred in predictions.items():
        p = _coded(f"predictions[{method!r}]", pred, y.shape)
        for b, rows_b in enumerate(idx):
            tp, fp, fn, _ = _counts(y[rows_b], p[rows_b])
            f1 = _f1(tp, fp, fn)
            rows += [{"set": b, "method": method, "class": names[c], "f1": float(f1[c])} for c in range(k)]
            rows.append({"set": b, "method": method, "class": "mean", "f1": float(f1.mean())})
    return pd.DataFrame(rows, columns=["set", "method", "class", "f1"])


def significance_stars(p: float) -> str:
    """Paper 002's marks: "***" for p ≤ 0.001, "**" for p ≤ 0.01, "*" for p ≤ 0.05, else "ns"."""
    if not np.isfinite(p):
        return "n/a"
    return "***" if p <= 0.001 else "**" if p <= 0.01 else "*" if p <= 0.05 else "ns"


def qc_ttests(boot: pd.DataFrame, methods: Sequence[str], baselines: Sequence[str], *,
              cls: str = "mean") -> pd.DataFrame:
    """Paper 002's protocol: paired t-tests (``scipy.stats.ttest_rel``) of each method vs each baseline on the
    F1 of the bootstrapped test sets.

    Kept to reproduce the paper, labelled as its protocol: the resamples of one test set are not independent
    replicates, so these p-values shrink as ``n_sets`` grows whatever the true difference. Verdicts should
    come from :func:`xaikit.qc.paired_bootstrap_f1` (a paired CI over images) and replication over seeds.

    Returns
    -------
    DataFrame: method, baseline, n, mean_method, mean_baseline, median_method, median_baseline,
    mean_diff, t, p, stars. A test of two identical samples has t = p = NaN.

    Examples
    --------
    >>> y = np.array([[1], [0], [1], [0], [1]]); preds = {"a": y, "b": np.array([[1], [1], [1], [0], [0]])}
    >>> qc_ttests(bootstrap_qc(y, preds, n_sets=10), ["a"], ["b"])[["method", "baseline", "n"]].values.tolist()
    [['a', 'b', 10]]
    """
    from scipy.stats import ttest_rel

    sub = boot[boot["class"] == cls]
    wide = sub.pivot(index="set", columns="method", values="f1")
    missing = [m for m in (*methods, *baselines) if m not in wide.columns]
    if missing:
        raise ValueError(f"qc_ttests: methods {missing} are not in the bootstrap table (has {list(wide.columns)})")
    rows = []
    for m in methods:
        for b in baselines:
            x, z = wide[m].to_numpy(np.float64), wide[b].to_numpy(np.float64)
            same = np.allclose(x, z)
            t, p = (np.nan, np.nan) if same else ttest_rel(x, z)
            rows.append({"method": m, "baseline": b, "n": len(x), "mean_method": x.mean(), "mean_baseline": z.mean(),
                         "median_method": float(np.median(x)), "median_baseline": float(np.median(z)),
                         "mean_diff": float((x - z).mean()), "t": float(t), "p": float(p),
                         "stars": significance_stars(float(p))})
    return pd.DataFrame(rows)


def error_detection(scores, y_true, y_pred, *, direction: Sequence[str] | str = "above",
                    class_names: Sequence[str] | None = None, n_bins: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How well a monitor's score separates wrong from right predictions, and its reliability curve.

    The score is oriented so that larger = more suspicious ("below" scores are negated). Per class:
    the AUROC of the oriented score for "the prediction is wrong" (0.5 = no better than chance), and
    the observed error rate in ``n_bins`` equal-count bins of the oriented score (the monitor's
    reliability diagram: a useful monitor's error rate rises from bin to bin).

    Returns
    -------
    (auroc, bins): DataFrames ``class, auroc, error_rate, n`` and ``class, bin, score_mean, error_rate, n``.

    Examples
    --------
    >>> s = np.array([[0.1], [0.2], [0.8], [0.9]])
    >>> y, p = np.array([[0], [0], [0], [1]]), np.array([[0], [0], [1], [0]])
    >>> error_detection(s, y, p, n_bins=2)[0]["auroc"].tolist()
    [1.0]
    """
    from ..train import roc_auc

    s = np.asarray(scores, dtype=np.float64)
    y = _coded("y_true", y_true, s.shape)
    p = _coded("y_pred", y_pred, s.shape)
    k = s.shape[1]
    dirs = [direction] * k if isinstance(direction, str) else list(direction)
    if len(dirs) != k:
        raise ValueError(f"direction must be one string or one per class ({k}), got {len(dirs)}")
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    check_int("n_bins", n_bins, min_value=1, context="error_detection")
    auc_rows, bin_rows = [], []
    for c in range(k):
        o = s[:, c] if dirs[c] == "above" else -s[:, c]
        wrong = (p[:, c] != y[:, c]).astype(int)
        auc_rows.append({"class": names[c], "auroc": roc_auc(wrong, o), "error_rate": wrong.mean(), "n": len(o)})
        order = np.argsort(o, kind="stable")
        for b, part in enumerate(np.array_split(order, n_bins)):
            if len(part):
                bin_rows.append({"class": names[c], "bin": b + 1, "score_mean": float(s[part, c].mean()),
                                 "error_rate": float(wrong[part].mean()), "n": len(part)})
    return pd.DataFrame(auc_rows), pd.DataFrame(bin_rows)
