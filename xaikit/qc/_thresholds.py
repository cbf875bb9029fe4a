"""Acting on flags (flip, defer, abstain) and the per-class threshold grid search of paper 002.

Every function works on binary multi-label predictions (N, K) in {0, 1}. An abstained
prediction is coded −1 and left out of that class's counts.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_float, check_option

__all__ = ["ACTIONS", "DIRECTIONS", "ThresholdSearch", "apply_flags", "f1_after_action", "search_threshold"]

#: What happens to a flagged prediction: "flip" (ŷ ← 1 − ŷ, the paper's "swapping"), "defer" (an expert
#: gives the true label: an oracle), "abstain" (the prediction is withdrawn and not counted).
ACTIONS = ("flip", "defer", "abstain")
#: Which scores are flagged: "below" τ (low distinctiveness = uncertain), "above" τ (high entropy), or
#: "auto": the one with the higher validation F1.
DIRECTIONS = ("below", "above", "auto")


def _binary(name: str, a, shape=None) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (N, K) (or (N,)), got {arr.shape}")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if arr.dtype != bool and not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must hold 0/1 (or bool) values")
    return arr.astype(np.int64)


def apply_flags(y_pred, flags, *, action: str = "flip", y_true=None) -> np.ndarray:
    """Act on flagged predictions: flip them, defer them to an expert (the truth), or abstain (−1).

    Parameters
    ----------
    y_pred : (N, K) binary predictions.
    flags : (N, K) bool, True where the monitor flags the prediction.
    action : "flip" (default, paper 002's "swapping"), "defer" (needs ``y_true``: an oracle expert
        replaces the flagged prediction by the truth, an upper bound on what flagging can give), or
        "abstain" (the flagged prediction becomes −1 and is not counted by :func:`xaikit.qc.qc_metrics`).

    Returns
    -------
    numpy.ndarray of int64, (N, K), values in {0, 1} (and −1 for "abstain").

    Examples
    --------
    >>> pred, flags, truth = [[1, 0, 1]], [[True, True, False]], [[1, 1, 0]]
    >>> apply_flags(pred, flags).tolist(), apply_flags(pred, flags, action="defer", y_true=truth).tolist()
    ([[0, 1, 1]], [[1, 1, 1]])
    >>> apply_flags(pred, flags, action="abstain").tolist()
    [[-1, -1, 1]]
    """
    check_option("action", action, ACTIONS, context="apply_flags")
    p = _binary("y_pred", y_pred)
    f = np.asarray(flags)
    f = f[:, None] if f.ndim == 1 else f
    if f.shape != p.shape:
        raise ValueError(f"flags must have the predictions' shape {p.shape}, got {f.shape}")
    f = f.astype(bool)
    if action == "flip":
        return np.where(f, 1 - p, p)
    if action == "abstain":
        return np.where(f, -1, p)
    if y_true is None:
        raise ValueError("action='defer' of apply_flags needs y_true (the expert's answer)")
    return np.where(f, _binary("y_true", y_true, p.shape), p)


def _f1(tp, fp, fn) -> np.ndarray:
    tp, fp, fn = (np.asarray(a, np.float64) for a in (tp, fp, fn))
    den = 2 * tp + fp + fn
    return np.divide(2 * tp, den, out=np.zeros(np.broadcast(tp, den).shape), where=den != 0)


# Per-sample change of (TP, FP, FN, TN) when a prediction of each outcome is flagged.
_DELTAS = {
    "flip": {"tp": (-1, 0, 1, 0), "fp": (0, -1, 0, 1), "fn": (1, 0, -1, 0), "tn": (0, 1, 0, -1)},
    "defer": {"tp": (0, 0, 0, 0), "fp": (0, -1, 0, 1), "fn": (1, 0, -1, 0), "tn": (0, 0, 0, 0)},
    "abstain": {"tp": (-1, 0, 0, 0), "fp": (0, -1, 0, 0), "fn": (0, 0, -1, 0), "tn": (0, 0, 0, -1)},
}


def f1_after_action(y_true, y_pred, order: np.ndarray, action: str = "flip") -> np.ndarray:
    """F1 of one class after acting on the first m samples of ``order``, for every m = 0 … N.

    The kernel of the threshold search: flagging by a threshold on a score flags a prefix of the
    samples sorted by that score, so one cumulative sum gives the F1 of every threshold.

    Examples
    --------
    >>> f1_after_action([1, 0, 1], [0, 0, 1], order=np.array([0, 1, 2])).round(3).tolist()
    [0.667, 1.0, 0.8, 0.5]
    """
    y = np.asarray(y_true).astype(bool).ravel()
    p = np.asarray(y_pred).astype(bool).ravel()
    outcome = np.where(p, np.where(y, 0, 1), np.where(y, 2, 3))  # tp, fp, fn, tn
    table = np.array([_DELTAS[action][o] for o in ("tp", "fp", "fn", "tn")])  # (4 outcomes, 4 counts)
    base = np.bincount(outcome, minlength=4)
    counts = base + np.vstack([np.zeros(4, np.int64), np.cumsum(table[outcome[order]], axis=0)])
    return _f1(counts[:, 0], counts[:, 1], counts[:, 2])


@dataclass(frozen=True)
class ThresholdSearch:
    """The result of :func:`search_threshold` for one class.

    Attributes
    ----------
    threshold : τ; flagged are the scores strictly below τ ("below") or strictly above it ("above").
    direction : "below" or "above".
    f1_before, f1_after : validation F1 without flags and after acting on the flags at τ.
    n_flagged : validation predictions flagged at τ.
    grid : the candidate thresholds; f1_grid : validation F1 after acting, per candidate (for plots).
    """

    threshold: float
    direction: str
    f1_before: float
    f1_after: float
    n_flagged: int
    grid: np.ndarray
    f1_grid: np.ndarray


def _grid(s: np.ndarray, step: float) -> np.ndarray:
    lo = min(0.0, np.floor(s.min() / step) * step)
    n = int(np.ceil((s.max() - lo) / step - 1e-9)) + 1
    # Rounded to 10 decimals so 0.95 on the grid is the double 0.95 (not 0.9500000000000001): a score equal
    # to a grid point is then never flagged by that point, as the strict inequalities say.
    return np.round(lo + step * np.arange(n + 1), 10)  # one past the maximum: "above" flags nothing there


def _search_one(s, y, p, direction: str, action: str, step: float) -> ThresholdSearch:
    grid = _grid(s, step)
    srt = np.sort(s)
    if direction == "below":  # flag s < τ: a prefix of the ascending order
        order = np.argsort(s, kind="stable")
        m = np.searchsorted(srt, grid, side="left")
    else:  # flag s > τ: a prefix of the descending order
        order = np.argsort(-s, kind="stable")
        m = len(s) - np.searchsorted(srt, grid, side="right")
    f1_m = f1_after_action(y, p, order, action)
    f1_grid = f1_m[m]
    best = f1_grid.max()
    ties = np.flatnonzero(f1_grid >= best - 1e-12)
    # Among equally good thresholds: flag as few as possible, then the most conservative τ.
    fewest = ties[m[ties] == m[ties].min()]
    i = int(fewest[0] if direction == "below" else fewest[-1])
    return ThresholdSearch(threshold=float(grid[i]), direction=direction, f1_before=float(f1_m[0]),
                           f1_after=float(f1_grid[i]), n_flagged=int(m[i]), grid=grid, f1_grid=f1_grid)


def search_threshold(scores, y_true, y_pred, *, direction: str = "below", action: str = "flip",
                     step: float = 0.001, prefer: str = "below") -> ThresholdSearch:
    """Paper 002's threshold for one class: the τ on a grid of ``step`` that maximises F1 after acting on flags.

    The grid runs from min(0, min score) to one step past the maximum score, so it always holds a
    threshold that flags nothing ("below": the lowest τ; "above": the highest): the F1 after acting
    is never below the F1 without quality control on the data it is fitted on. Among thresholds of
    equal F1 the one flagging fewest predictions wins (then the lowest τ for "below", the highest
    for "above").

    Parameters
    ----------
    scores : (N,) finite monitor scores of one class.
    y_true, y_pred : (N,) binary truth and predictions of that class.
    direction : "below", "above", or "auto" (both searched; the higher F1 after acting wins,
        ``prefer`` on a tie).
    action : see :func:`apply_flags`.
    step : grid spacing (paper 002: 0.001).

    Examples
    --------
    >>> r = search_threshold([0.5, 2.0, 3.0, 0.2], [1, 1, 0, 0], [0, 1, 0, 1], step=0.1)
    >>> round(r.threshold, 3), r.n_flagged, r.f1_before, r.f1_after
    (0.6, 2, 0.5, 1.0)
    """
    ctx = "search_threshold"
    check_option("direction", direction, DIRECTIONS, context=ctx)
    check_option("prefer", prefer, ("below", "above"), context=ctx)
    check_option("action", action, ACTIONS, context=ctx)
    check_float("step", step, min_value=1e-9, context=ctx)
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = _binary("y_true", y_true).ravel()
    p = _binary("y_pred", y_pred).ravel()
    if not (len(s) == len(y) == len(p)) or len(s) == 0:
        raise ValueError(f"scores, y_true and y_pred of {ctx} must have one equal length > 0, "
                         f"got {len(s)}, {len(y)}, {len(p)}")
    if not np.isfinite(s).all():
        raise ValueError(f"scores of {ctx} contain NaN or infinite values ({int((~np.isfinite(s)).sum())} of {len(s)})")
    if (s.max() - min(0.0, s.min())) / step > 5e6:
        raise ValueError(f"step of {ctx} gives more than 5 million thresholds for scores up to {s.max():.3g}; "
                         "rescale the scores or use a larger step")
    if direction != "auto":
        return _search_one(s, y, p, direction, action, step)
    first = _search_one(s, y, p, prefer, action, step)
    other = _search_one(s, y, p, "above" if prefer == "below" else "below", action, step)
    return other if other.f1_after > first.f1_after + 1e-12 else first
