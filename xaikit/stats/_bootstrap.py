"""Bootstrap confidence intervals, resampling images or whole patients (clusters)."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .._validation import check_float, check_int, check_option
from ._frame import apply_nan_policy, as_list, cells, check_frame

__all__ = ["bootstrap_ci"]

_STATISTICS: dict[str, Callable[[np.ndarray], float]] = {
    "mean": np.mean, "median": np.median,
}


def bootstrap_ci(df: pd.DataFrame, value: str, *, by: str | Sequence[str] | None = None,
                 cluster: str | None = None, statistic: str = "mean", n_boot: int = 1000,
                 level: float = 0.95, seed: int | np.random.Generator = 0,
                 nan_policy: str = "omit") -> pd.DataFrame:
    """Percentile bootstrap confidence interval of a statistic, once per cell of ``by``.

    Parameters
    ----------
    df : DataFrame
        Long format, one row per observation.
    value : str
        The score column.
    by : str or list of str, optional
        Cell columns.
    cluster : str, optional
        Resample whole clusters (e.g. ``"patient_id"``) with replacement instead of rows: the
        statistic is computed on all rows of the drawn clusters (a patient drawn twice counts
        twice). CheXlocalize resamples images; several images of one patient are not independent.
    statistic : {"mean", "median"}, default "mean"
    n_boot : int, default 1000
    level : float, default 0.95
    seed : int or numpy.random.Generator, default 0
        One generator serves all cells, in the sorted order of the cells.
    nan_policy : {"omit", "raise", "propagate"}, default "omit"

    Returns
    -------
    DataFrame
        ``*by, estimate, low, high, level, n, n_clusters, n_boot, n_nan``.

    References
    ----------
    Efron, Tibshirani (1993). An Introduction to the Bootstrap. Chapman & Hall.
    Field, Welsh (2007). Bootstrapping clustered data. JRSS B 69(3), 369-390.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"score": [0.1, 0.2, 0.3, 0.4], "patient": [1, 1, 2, 2]})
    >>> bootstrap_ci(df, "score", cluster="patient", n_boot=200)[["estimate", "n_clusters"]]
       estimate  n_clusters
    0      0.25           2
    """
    ctx = "bootstrap_ci"
    by = as_list(by)
    check_frame(df, ctx, nan_policy, value=value, by=by, cluster=cluster)
    check_option("statistic", statistic, tuple(_STATISTICS), context=ctx)
    check_int("n_boot", n_boot, min_value=1, context=ctx)
    check_float("level", level, min_value=0.0, max_value=1.0, context=ctx)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(check_int("seed", seed, context=ctx))
    fn = _STATISTICS[statistic]
    alpha = (1 - level) / 2
    rows = []
    for key, sub in cells(df, by):
        x, dropped = apply_nan_policy(sub[value].to_numpy(np.float64), nan_policy, ctx, value)
        if nan_policy == "omit":
            sub = sub[~np.isnan(sub[value].to_numpy(np.float64))]
        if x.size == 0:
            rows.append({**key, "estimate": np.nan, "low": np.nan, "high": np.nan, "level": level,
                         "n": 0, "n_clusters": 0, "n_boot": n_boot, "n_nan": dropped})
            continue
        if cluster is None:
            idx = rng.integers(0, x.size, size=(n_boot, x.size))
            reps = np.array([fn(x[i]) for i in idx]) if statistic != "mean" else x[idx].mean(axis=1)
            n_clusters = x.size
        else:
            codes, _ = pd.factorize(sub[cluster], sort=True)
            members = [np.flatnonzero(codes == c) for c in range(codes.max() + 1)]
            n_clusters = len(members)
            draws = rng.integers(0, n_clusters, size=(n_boot, n_clusters))
            reps = np.array([fn(x[np.concatenate([members[c] for c in d])]) for d in draws])
        low, high = np.quantile(reps, [alpha, 1 - alpha])
        rows.append({**key, "estimate": float(fn(x)), "low": float(low), "high": float(high),
                     "level": level, "n": int(x.size), "n_clusters": int(n_clusters),
                     "n_boot": n_boot, "n_nan": dropped})
    return pd.DataFrame(rows, columns=[*by, "estimate", "low", "high", "level", "n", "n_clusters",
                                       "n_boot", "n_nan"])
