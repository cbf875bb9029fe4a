"""Error detection done right: how well a monitor's score ranks wrong predictions above right ones.

Per class, the AUROC of a score for "this prediction is wrong", with the score oriented by a direction
that is *declared* before the data are seen (each score's rationale), or *learned* on validation data by
AUROC — never by F1 after flipping, which rewards rewriting a weak classifier rather than detecting its
errors. The opposite orientation is reported (1 − AUROC) so signal against the rationale is shown, not
hidden. Classes are pooled two ways: the mean of the per-class AUROCs, and one AUROC of the scores
rank-normalised within each class (a pooled AUROC of raw scores would mix scales). Intervals resample
images (rows), the unit a test set is drawn in.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from .._validation import check_float, check_int, check_option
from ._evaluate import _coded

__all__ = ["AUROC_DIRECTIONS", "DECLARED_DIRECTIONS", "declared_direction", "error_detection_auroc"]

#: The orientation each score's rationale gives it, fixed in advance: a prediction is suspect when its
#: class map is *not* distinct from the other classes' (INFORMER, paper 002), when its predictive entropy is
#: high (paper 002, eq. 2), or when its logits spread across test-time-augmented copies.
DECLARED_DIRECTIONS = {"distinctiveness": "below", "entropy": "above", "tta": "above"}
#: ``direction`` of :func:`error_detection_auroc`.
AUROC_DIRECTIONS = ("declared", "learned", "above", "below")


def declared_direction(score: str) -> str:
    """The declared direction of a score or monitor name ("informer_lrp" → distinctiveness → "below").

    Examples
    --------
    >>> declared_direction("informer_input_x_gradient"), declared_direction("entropy"), declared_direction("tta")
    ('below', 'above', 'above')
    """
    key = "distinctiveness" if str(score) == "informer" or str(score).startswith("informer_") else str(score)
    check_option("score", key, tuple(DECLARED_DIRECTIONS), context="declared_direction")
    return DECLARED_DIRECTIONS[key]


def _auroc_rows(s: np.ndarray, wrong: np.ndarray) -> np.ndarray:
    """AUROC of each row of ``s`` (B, N) for the positives ``wrong`` (B, N); ties count one half; NaN if one
    outcome is absent. The Mann–Whitney form, as :func:`xaikit.train.roc_auc`, vectorised over rows."""
    ranks = rankdata(s, axis=1)
    n_pos = wrong.sum(1).astype(np.float64)
    n_neg = wrong.shape[1] - n_pos
    u = (ranks * wrong).sum(1) - n_pos * (n_pos + 1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((n_pos > 0) & (n_neg > 0), u / (n_pos * n_neg), np.nan)


def _within_class_ranks(s: np.ndarray) -> np.ndarray:
    """(B, N, K) oriented scores → ranks within each class and resample, scaled to (0, 1]."""
    return rankdata(s, axis=1) / s.shape[1]


def _verdict(low: float, high: float) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "undefined"
    return "detects" if low > 0.5 else "opposite" if high < 0.5 else "chance"


def error_detection_auroc(scores, y_true, y_pred, *, direction: str = "declared", score: str | None = None,
                          scores_val=None, y_val=None, pred_val=None, class_names: Sequence[str] | None = None,
                          n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Per-class and pooled AUROC of a monitor's score for "this prediction is wrong", with bootstrap CIs.

    Parameters
    ----------
    scores : (N, K) the monitor's scores on the test set.
    y_true, y_pred : (N, K) binary truth and the classifier's binary predictions (before QC).
    direction : how each class's score is oriented so that larger = more suspicious:
        "declared" (default): the direction of ``score`` in ``DECLARED_DIRECTIONS``;
        "learned": per class, the orientation whose AUROC on the validation set (``scores_val``, ``y_val``,
        ``pred_val``) is ≥ 0.5 (an exact 0.5 or an undefined validation AUROC keeps the declared direction
        when ``score`` is given, else "above"); "above" / "below": the same for every class.
    score : the score's name ("distinctiveness", "entropy", "tta", or a monitor name such as
        "informer_lrp"); needed by "declared".
    scores_val, y_val, pred_val : validation data of the same monitor; needed by "learned".
    class_names : names of the K classes.
    n_boot, level, seed : percentile bootstrap over images (test rows resampled with replacement, the same
        resamples for every class and the pooled figures).

    Returns
    -------
    DataFrame, one row per class, then "mean" (the mean of the per-class AUROCs) and "pooled" (the AUROC of
    the oriented scores rank-normalised within each class, all image × class pairs together): class,
    direction_source (the ``direction`` argument), direction (per class; "mixed" on the pooled rows when
    classes differ), auroc, low, high, auroc_opposite (1 − auroc: the opposite orientation), verdict ("detects"
    if the interval lies above 0.5, "opposite" if below, "chance", or "undefined"), n, n_wrong.
    A class without a wrong (or without a right) prediction has AUROC NaN and is left out of both pools.

    Examples
    --------
    >>> y = np.array([[0], [1], [0], [1]]); p = np.array([[0], [0], [1], [1]])
    >>> wrong = (y != p).astype(float)                     # a score equal to the error indicator
    >>> error_detection_auroc(wrong, y, p, direction="above", n_boot=50)["auroc"].tolist()
    [1.0, 1.0, 1.0]
    """
    ctx = "error_detection_auroc"
    check_option("direction", direction, AUROC_DIRECTIONS, context=ctx)
    check_int("n_boot", n_boot, min_value=1, context=ctx)
    check_float("level", level, min_value=0.0, max_value=1.0, context=ctx)
    check_int("seed", seed, min_value=0, context=ctx)
    s = np.asarray(scores, dtype=np.float64)
    s = s[:, None] if s.ndim == 1 else s
    if s.ndim != 2 or len(s) == 0:
        raise ValueError(f"scores of {ctx} must have shape (N, K) with N > 0, got {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError(f"scores of {ctx} contain NaN or infinite values")
    y = _coded("y_true", y_true, s.shape)
    p = _coded("y_pred", y_pred, s.shape)
    if (y < 0).any() or (p < 0).any():
        raise ValueError(f"y_true and y_pred of {ctx} must hold 0/1 values")
    n, k = s.shape
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    if len(names) != k:
        raise ValueError(f"class_names of {ctx} has {len(names)} names for {k} classes")
    declared = declared_direction(score) if score is not None else None
    if direction == "declared":
        if declared is None:
            raise ValueError(f"direction='declared' of {ctx} needs score= (one of {sorted(DECLARED_DIRECTIONS)} "
                             "or a monitor name)")
        dirs = [declared] * k
    elif direction == "learned":
        if scores_val is None or y_val is None or pred_val is None:
            raise ValueError(f"direction='learned' of {ctx} needs scores_val, y_val and pred_val")
        sv = np.asarray(scores_val, dtype=np.float64)
        sv = sv[:, None] if sv.ndim == 1 else sv
        if sv.ndim != 2 or sv.shape[1] != k or not np.isfinite(sv).all():
            raise ValueError(f"scores_val of {ctx} must be finite with shape (M, {k}), got {sv.shape}")
        yv, pv = _coded("y_val", y_val, sv.shape), _coded("pred_val", pred_val, sv.shape)
        auc_val = _auroc_rows(sv.T, (yv != pv).T)
        fallback = declared or "above"
        dirs = ["above" if a > 0.5 else "below" if a < 0.5 else fallback for a in auc_val]
    else:
        dirs = [direction] * k
    o = s * np.where(np.array(dirs) == "below", -1.0, 1.0)
    wrong = y != p
    idx = np.vstack([np.arange(n), np.random.default_rng(seed).integers(0, n, size=(n_boot, n))])
    ob, wb = o[idx], wrong[idx]  # (1 + B, N, K); row 0 is the observed test set
    per_class = np.stack([_auroc_rows(ob[:, :, c], wb[:, :, c]) for c in range(k)], axis=1)  # (1 + B, K)
    defined = np.isfinite(per_class[0])
    kept = per_class[:, defined]
    counted = np.isfinite(kept).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counted > 0, np.nansum(kept, axis=1) / counted, np.nan)
    r = _within_class_ranks(ob[:, :, defined]).reshape(len(idx), -1)
    pooled = _auroc_rows(r, wb[:, :, defined].reshape(len(idx), -1)) if defined.any() else np.full(len(idx), np.nan)
    alpha = (1 - level) / 2
    rows = []
    for name, d, values, n_wrong in [*((names[c], dirs[c], per_class[:, c], int(wrong[:, c].sum())) for c in range(k)),
                                     ("mean", _summary_direction(dirs), mean, int(wrong.sum())),
                                     ("pooled", _summary_direction(dirs), pooled, int(wrong.sum()))]:
        est, reps = float(values[0]), values[1:]
        finite = reps[np.isfinite(reps)]
        low, high = (np.quantile(finite, [alpha, 1 - alpha]) if np.isfinite(est) and finite.size
                     else (np.nan, np.nan))
        rows.append({"class": name, "direction_source": direction, "direction": d, "auroc": est, "low": float(low),
                     "high": float(high),
                     "auroc_opposite": 1.0 - est, "verdict": _verdict(low, high),
                     "n": n if name != "pooled" else n * int(defined.sum()), "n_wrong": n_wrong})
    return pd.DataFrame(rows)


def _summary_direction(dirs: list[str]) -> str:
    return dirs[0] if len(set(dirs)) == 1 else "mixed"
