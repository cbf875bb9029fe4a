"""References beside every monitor: no QC, flip everything, random flags at the monitor's own rate, the oracle.

A monitor that flips flagged predictions can raise F1 without detecting a single error: flipping a weak
classifier's predictions at random, or all of them, may do as well. A monitor is therefore said to help
only where it beats *random flags at its own per-class rate*: the same number of predictions of each class,
drawn uniformly without replacement. Its F1 distribution is exact (hypergeometric counts of the flagged
true/false positives/negatives), so the expectation and the probability that random flags do at least as
well need no simulation.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import hypergeom

from .._validation import check_float, check_int, check_option
from ._evaluate import _coded, _counts, qc_metrics
from ._thresholds import ACTIONS, _binary, _f1

__all__ = ["beats_random", "random_flags_f1", "reference_predictions", "reference_table"]


def reference_predictions(y_true, y_pred) -> dict[str, np.ndarray]:
    """The fixed references: "no_qc" (the predictions), "flip_all" (every prediction flipped) and "oracle"
    (exactly the wrong predictions flipped: the truth, the best any flip monitor can reach).

    Examples
    --------
    >>> {k: v.tolist() for k, v in reference_predictions([[1, 0]], [[1, 1]]).items()}
    {'no_qc': [[1, 1]], 'flip_all': [[0, 0]], 'oracle': [[1, 0]]}
    """
    p = _binary("y_pred", y_pred)
    y = _binary("y_true", y_true, p.shape)
    return {"no_qc": p, "flip_all": 1 - p, "oracle": y.copy()}


def _pmf(k: np.ndarray | int, population: int, successes: int, draws: int) -> np.ndarray:
    """Hypergeometric pmf that is exact for zero draws (scipy gives NaN for an empty population)."""
    if draws == 0:
        return (np.asarray(k) == 0).astype(np.float64)
    return hypergeom.pmf(k, population, successes, draws)


def _random_f1_distribution(tp: int, fp: int, fn: int, tn: int, m: int, action: str) -> tuple[np.ndarray, ...]:
    """Exact distribution (values, probabilities) of one class's F1 after acting on m flags drawn uniformly
    without replacement from its N = tp + fp + fn + tn predictions.

    u flagged predicted positives ~ Hypergeom(N, tp + fp, m); given u, the flagged true positives
    ~ Hypergeom(tp + fp, tp, u) and the flagged false negatives ~ Hypergeom(fn + tn, fn, m − u), independently.
    """
    n, pp = tp + fp + fn + tn, tp + fp
    vals, probs = [], []
    for u in range(max(0, m - (n - pp)), min(m, pp) + 1):
        pu = _pmf(u, n, pp, m)
        a_tp = np.arange(max(0, u - fp), min(u, tp) + 1)
        a_fn = np.arange(max(0, (m - u) - tn), min(m - u, fn) + 1)
        p2 = pu * np.outer(_pmf(a_tp, pp, tp, u), _pmf(a_fn, n - pp, fn, m - u))
        at, af = np.meshgrid(a_tp, a_fn, indexing="ij")
        afp, atn = u - at, (m - u) - af
        if action == "flip":
            counts = (tp - at + af, fp - afp + atn, fn - af + at)
        elif action == "defer":
            counts = (tp + af, fp - afp, fn - af)
        else:  # abstain
            counts = (tp - at, fp - afp, fn - af)
        vals.append(_f1(*counts).ravel())
        probs.append(p2.ravel())
    return np.concatenate(vals), np.concatenate(probs)


def _check(y_true, y_pred, n_flagged, action: str, ctx: str):
    check_option("action", action, ACTIONS, context=ctx)
    p = _binary("y_pred", y_pred)
    y = _binary("y_true", y_true, p.shape)
    m = np.broadcast_to(np.asarray(n_flagged), (p.shape[1],)) if np.ndim(n_flagged) == 0 else np.asarray(n_flagged)
    if m.shape != (p.shape[1],) or not np.issubdtype(m.dtype, np.integer) or (m < 0).any() or (m > len(p)).any():
        raise ValueError(f"n_flagged of {ctx} must be one int or {p.shape[1]} ints in [0, {len(p)}], got {n_flagged!r}")
    return y, p, m.astype(np.int64)


def random_flags_f1(y_true, y_pred, n_flagged, *, action: str = "flip") -> np.ndarray:
    """Expected F1 per class after acting on ``n_flagged`` predictions of that class drawn at random.

    Exact (hypergeometric) expectation over uniform draws without replacement: the reference a monitor
    flagging as many predictions must beat.

    Parameters
    ----------
    y_true, y_pred : (N, K) binary truth and predictions before QC.
    n_flagged : one int, or K ints (the monitor's flags per class).
    action : see :func:`xaikit.qc.apply_flags`.

    Returns
    -------
    numpy.ndarray (K,) of expected F1.

    Examples
    --------
    >>> y, p = [[1], [0], [1], [0]], [[1], [1], [0], [0]]   # F1 0.5 before QC
    >>> random_flags_f1(y, p, 0).tolist(), random_flags_f1(y, p, 4).tolist()
    ([0.5], [0.5])
    """
    y, p, m = _check(y_true, y_pred, n_flagged, action, "random_flags_f1")
    tp, fp, fn, tn = _counts(y, p)
    out = np.empty(p.shape[1])
    for c in range(p.shape[1]):
        v, w = _random_f1_distribution(int(tp[c]), int(fp[c]), int(fn[c]), int(tn[c]), int(m[c]), action)
        out[c] = float(v @ w / w.sum())  # the pmf sums to 1 up to rounding
    return out


def beats_random(y_true, y_pred, flags, *, action: str = "flip", alpha: float = 0.05,
                 class_names: Sequence[str] | None = None, n_sim: int = 20000, seed: int = 0) -> pd.DataFrame:
    """Does a monitor beat random flags at its own per-class rate?

    Per class: the monitor's F1 after acting on its ``flags``, the expected F1 of as many random flags
    (:func:`random_flags_f1`), and the exact probability ``p`` that random flags reach at least the monitor's
    F1 (a permutation p-value over the flagged set). The monitor "beats" random where its F1 is higher and
    p ≤ ``alpha``. The "mean" row compares the class means; its p is a Monte Carlo estimate (``n_sim``
    seeded draws from the exact per-class distributions, classes drawn independently).

    Returns
    -------
    DataFrame: class, n_flagged, rate, f1, f1_random, diff, p, beats.

    Examples
    --------
    >>> y = np.array([[1], [0], [1], [0], [1], [0]]); p = np.array([[1], [1], [0], [0], [1], [0]])
    >>> beats_random(y, p, p != y)[["class", "f1", "beats"]].values.tolist()[0]
    ['0', 1.0, False]
    """
    ctx = "beats_random"
    check_float("alpha", alpha, min_value=0.0, max_value=1.0, context=ctx)
    check_int("n_sim", n_sim, min_value=1, context=ctx)
    check_int("seed", seed, min_value=0, context=ctx)
    p = _binary("y_pred", y_pred)
    f = np.asarray(flags)
    f = f[:, None] if f.ndim == 1 else f
    if f.shape != p.shape or not np.isin(f, (0, 1)).all():
        raise ValueError(f"flags of {ctx} must be 0/1 (or bool) with the predictions' shape {p.shape}, got {f.shape}")
    f = f.astype(bool)
    y, p, m = _check(y_true, p, f.sum(0), action, ctx)
    k = p.shape[1]
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    if len(names) != k:
        raise ValueError(f"class_names of {ctx} has {len(names)} names for {k} classes")
    from ._thresholds import apply_flags

    after = qc_metrics(y, apply_flags(p, f, action=action, y_true=y))["f1"].to_numpy()[:k]
    tp, fp, fn, tn = _counts(y, p)
    rng = np.random.default_rng(seed)
    rows, sims = [], np.zeros(n_sim)
    for c in range(k):
        v, w = _random_f1_distribution(int(tp[c]), int(fp[c]), int(fn[c]), int(tn[c]), int(m[c]), action)
        w = w / w.sum()
        expected = float(v @ w)
        p_c = float(w[v >= after[c] - 1e-12].sum())
        sims += rng.choice(v, size=n_sim, p=w)
        rows.append({"class": names[c], "n_flagged": int(m[c]), "rate": m[c] / len(p), "f1": float(after[c]),
                     "f1_random": expected, "diff": float(after[c]) - expected, "p": min(p_c, 1.0),
                     "beats": bool(after[c] > expected + 1e-12 and p_c <= alpha)})
    mean_f1, mean_rand = float(after.mean()), float(np.mean([r["f1_random"] for r in rows]))
    p_mean = float((1 + (sims / k >= mean_f1 - 1e-12).sum()) / (n_sim + 1))
    rows.append({"class": "mean", "n_flagged": int(m.sum()), "rate": m.sum() / p.size, "f1": mean_f1,
                 "f1_random": mean_rand, "diff": mean_f1 - mean_rand, "p": p_mean,
                 "beats": bool(mean_f1 > mean_rand + 1e-12 and p_mean <= alpha)})
    return pd.DataFrame(rows)


def reference_table(y_true, y_pred, flags: Mapping[str, np.ndarray], *, action: str = "flip",
                    class_names: Sequence[str] | None = None) -> pd.DataFrame:
    """F1 per class (and mean) of every reference, to stand beside the monitors in every table.

    Rows for "no_qc", "flip_all", "oracle" (:func:`reference_predictions`) and, for every monitor in
    ``flags``, "random@<monitor>": the expected F1 of random flags at that monitor's per-class counts.

    Returns
    -------
    DataFrame: method, class (the class names and "mean"), f1.

    Examples
    --------
    >>> y, p = np.array([[1], [0]]), np.array([[0], [0]])
    >>> reference_table(y, p, {"m": np.array([[True], [False]])}).query("`class` == 'mean'")["f1"].tolist()
    [0.0, 0.6666666666666666, 1.0, 0.5]
    """
    y = _coded("y_true", y_true)
    k = y.shape[1]
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    frames = [qc_metrics(y, pred, class_names=names)[["class", "f1"]].assign(method=name)
              for name, pred in reference_predictions(y, y_pred).items()]
    for name, f in flags.items():
        fa = np.asarray(f)
        fa = fa[:, None] if fa.ndim == 1 else fa
        if fa.shape != y.shape:
            raise ValueError(f"flags[{name!r}] of reference_table must have shape {y.shape}, got {fa.shape}")
        exp = random_flags_f1(y, y_pred, fa.astype(bool).sum(0), action=action)
        frames.append(pd.DataFrame({"class": [*names, "mean"], "f1": [*exp, exp.mean()],
                                    "method": f"random@{name}"}))
    return pd.concat(frames, ignore_index=True)[["method", "class", "f1"]]
