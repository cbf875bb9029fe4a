"""The seed as the unit of replication: per-seed means, t-intervals over seeds, replicated verdicts.

A seed draws new data and trains a new model; images of one test set are not independent
replicates of the study. So a headline is summarised in two steps: average within each seed (over
its images), then a Student t-interval over the seed means. A verdict is *replicated* when every
seed reaches it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as ss

from .._validation import check_float, check_int
from ._frame import as_list, cells, check_frame

__all__ = ["replicated", "seed_summary"]


def seed_summary(frame: pd.DataFrame, value: str, by: str | Sequence[str] | None = None, seed: str = "seed", *,
                 level: float = 0.95) -> pd.DataFrame:
    """Mean over seeds with a t-interval, each seed first reduced to the mean of its rows.

    Parameters
    ----------
    frame : DataFrame
        Long format: one row per observation (image x seed x ...).
    value : str
        The score column. NaN rows are left out of their seed's mean (counted in ``n_nan``).
    by : str or list of str, optional
        Group columns (e.g. ``["arch", "method"]``); one row of output per group.
    seed : str, default "seed"
        The column naming the replicate.
    level : float, default 0.95
        Confidence level of the interval ``mean ± t_{(1+level)/2, n-1} sd / sqrt(n)``.

    Returns
    -------
    DataFrame
        ``*by, n_seeds, mean, sd (over seed means, ddof=1), sem, low, high, level, seed_means
        (dict seed -> mean), n_obs, n_nan``. With one seed ``sd``, ``low`` and ``high`` are NaN.

    References
    ----------
    Student (1908). The probable error of a mean. Biometrika 6(1), 1-25.

    Examples
    --------
    >>> df = pd.DataFrame({"seed": [0, 0, 1, 1, 2, 2], "score": [1.0, 3.0, 2.0, 4.0, 3.0, 5.0]})
    >>> seed_summary(df, "score")[["n_seeds", "mean", "sd"]].to_dict("records")
    [{'n_seeds': 3, 'mean': 3.0, 'sd': 1.0}]
    """
    ctx = "seed_summary"
    by = as_list(by)
    check_frame(frame, ctx, "omit", value=value, by=by, seed=seed)
    check_float("level", level, min_value=0.0, max_value=1.0, context=ctx)
    if seed in by:
        raise ValueError(f"seed of {ctx} must not be one of the by columns; got {seed!r} in {by}")
    rows = []
    for key, sub in cells(frame, by):
        vals = sub[value].to_numpy(np.float64)
        ok = ~np.isnan(vals)
        per_seed = sub[ok].groupby(seed, sort=True)[value].mean()
        m = per_seed.to_numpy(np.float64)
        n = m.size
        mean = float(m.mean()) if n else np.nan
        sd = float(m.std(ddof=1)) if n > 1 else np.nan
        sem = sd / np.sqrt(n) if n > 1 else np.nan
        half = float(ss.t.ppf((1 + level) / 2, n - 1) * sem) if n > 1 else np.nan
        rows.append({**key, "n_seeds": n, "mean": mean, "sd": sd, "sem": sem, "low": mean - half,
                     "high": mean + half, "level": level, "seed_means": per_seed.to_dict(),
                     "n_obs": int(ok.sum()), "n_nan": int((~ok).sum())})
    return pd.DataFrame(rows, columns=[*by, "n_seeds", "mean", "sd", "sem", "low", "high", "level",
                                       "seed_means", "n_obs", "n_nan"])


def replicated(verdicts_by_seed: Mapping[Any, Any] | pd.Series, *, min_seeds: int = 3) -> dict[str, Any]:
    """Whether one verdict holds in every seed, or flips between seeds.

    Parameters
    ----------
    verdicts_by_seed : mapping or Series
        seed -> verdict (a bool or a label such as "differs"); missing verdicts (None, NaN) are
        left out and counted.
    min_seeds : int, default 3
        Fewer seeds with a verdict give the status "too few seeds" (the design asks for >= 3).

    Returns
    -------
    dict
        ``status`` ("replicated", "flips" or "too few seeds"); ``verdict`` (the common verdict when
        every seed agrees, else None); ``n_seeds``; ``counts`` (verdict -> number of seeds);
        ``seeds`` (verdict -> list of seeds); ``n_missing``.

    Examples
    --------
    >>> replicated({0: "differs", 1: "differs", 2: "differs"})["status"]
    'replicated'
    >>> r = replicated({0: True, 1: False, 2: True})
    >>> r["status"], r["counts"]
    ('flips', {True: 2, False: 1})
    """
    check_int("min_seeds", min_seeds, min_value=1, context="replicated")
    if isinstance(verdicts_by_seed, pd.Series):
        items = list(verdicts_by_seed.items())
    elif isinstance(verdicts_by_seed, Mapping):
        items = list(verdicts_by_seed.items())
    else:
        raise ValueError("verdicts_by_seed of replicated must be a mapping or a pandas Series (seed -> verdict), "
                         f"got {type(verdicts_by_seed).__name__}")

    def missing(v) -> bool:
        return v is None or (isinstance(v, float) and v != v)

    given = [(s, v.item() if isinstance(v, np.generic) else v) for s, v in items if not missing(v)]
    seeds: dict[Any, list] = {}
    for s, v in given:
        seeds.setdefault(v, []).append(s)
    counts = {v: len(ss_) for v, ss_ in seeds.items()}
    n = len(given)
    if n < min_seeds:
        status, verdict = "too few seeds", None
    elif len(seeds) == 1:
        status, verdict = "replicated", next(iter(seeds))
    else:
        status, verdict = "flips", None
    return {"status": status, "verdict": verdict, "n_seeds": n, "counts": counts, "seeds": seeds,
            "n_missing": len(items) - n}
