"""Verdicts a study may state, decided by rules on tidy frames (each branch tested).

* :func:`localisation_verdicts`: a method localises only where its interval lies above the
  interval of the strongest model-free baseline of the same cell.
* :func:`accuracy_parity`: which models reach the accuracy bar in every seed, and whether those
  are close enough in accuracy that a difference in their explanations is not a difference in how
  well they were trained. Run before any complexity claim.
* :func:`depth_effect_verdicts`: per cell, did the Friedman test across depths find a difference
  in every seed, in none, or does the verdict flip between seeds.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_float, check_int
from ._frame import as_list, cells, check_frame
from ._seeds import replicated

__all__ = ["LOCALISATION_VERDICTS", "DEPTH_VERDICTS", "accuracy_parity", "depth_effect_verdicts",
           "localisation_verdicts"]

#: The outcomes of :func:`localisation_verdicts`.
LOCALISATION_VERDICTS = ("localises", "inconclusive", "below baseline", "no baseline")
#: The outcomes of :func:`depth_effect_verdicts`.
DEPTH_VERDICTS = ("differs in every seed", "no difference in any seed", "flips between seeds",
                  "too few seeds", "not assessed")


def localisation_verdicts(methods: pd.DataFrame, baselines: pd.DataFrame, *, by: str | Sequence[str] | None = None,
                          method: str = "method", baseline: str = "baseline", estimate: str = "mean",
                          low: str = "low", high: str = "high", exclude: Sequence[str] = ("evidence",)
                          ) -> pd.DataFrame:
    """Compare each method's interval with the strongest model-free baseline of its cell.

    The strongest baseline of a cell is the one with the highest ``estimate`` (e.g. the organ mask
    on healthy images, the smoothed random map elsewhere). A method

    * "localises" when its ``low`` is above the strongest baseline's ``high`` (intervals disjoint);
    * is "below baseline" when its ``high`` is below the strongest baseline's ``low``;
    * is "inconclusive" when the intervals overlap;
    * has "no baseline" when its cell has no baseline row.

    Parameters
    ----------
    methods, baselines : DataFrame
        One row per cell x method (resp. baseline) with ``estimate``, ``low``, ``high`` (e.g. the
        output of :func:`seed_summary`); both have the ``by`` columns.
    by : str or list of str, optional
        Cell columns (e.g. ``["metric", "class"]``).
    method, baseline : str
        The name columns of ``methods`` and ``baselines``.
    estimate, low, high : str
        The interval columns, in both frames.
    exclude : sequence of str, default ("evidence",)
        Baselines never taken as the strongest: the evidence mask is the ceiling, not a baseline.

    Returns
    -------
    DataFrame
        ``methods``' rows with ``strongest_baseline``, ``baseline_estimate``, ``baseline_low``,
        ``baseline_high``, ``margin`` (method low minus baseline high) and ``verdict``.

    Examples
    --------
    >>> m = pd.DataFrame({"method": ["ig", "saliency"], "mean": [0.6, 0.3], "low": [0.55, 0.2],
    ...                   "high": [0.65, 0.4]})
    >>> b = pd.DataFrame({"baseline": ["random", "sobel"], "mean": [0.1, 0.35], "low": [0.1, 0.3],
    ...                   "high": [0.1, 0.4]})
    >>> localisation_verdicts(m, b)[["method", "strongest_baseline", "verdict"]].values.tolist()
    [['ig', 'sobel', 'localises'], ['saliency', 'sobel', 'inconclusive']]
    """
    ctx = "localisation_verdicts"
    by = as_list(by)
    for name, df, col in (("methods", methods, method), ("baselines", baselines, baseline)):
        if not isinstance(df, pd.DataFrame):
            raise ValueError(f"{name} of {ctx} must be a pandas DataFrame, got {type(df).__name__}")
        check_frame(df, ctx, "omit", by=by, name=col, estimate=estimate, low=low, high=high)
    strongest = {}
    baselines = baselines[~baselines[baseline].isin(list(exclude))]
    for key, sub in cells(baselines, by):
        sub = sub[np.isfinite(sub[estimate].to_numpy(np.float64))]
        if len(sub):
            row = sub.loc[sub[estimate].idxmax()]
            strongest[tuple(key[c] for c in by)] = (row[baseline], float(row[estimate]), float(row[low]),
                                                    float(row[high]))
    out = methods.copy().reset_index(drop=True)
    found = [strongest.get(tuple(r[c] for c in by)) for r in out.to_dict("records")]
    out["strongest_baseline"] = [f[0] if f else None for f in found]
    for i, col in enumerate(("baseline_estimate", "baseline_low", "baseline_high"), start=1):
        out[col] = [f[i] if f else np.nan for f in found]
    out["margin"] = out[low].to_numpy(np.float64) - out["baseline_high"].to_numpy(np.float64)
    verdicts = []
    for r, f in zip(out.to_dict("records"), found, strict=True):
        if f is None:
            verdicts.append("no baseline")
        elif r[low] > f[3]:
            verdicts.append("localises")
        elif r[high] < f[2]:
            verdicts.append("below baseline")
        else:
            verdicts.append("inconclusive")
    out["verdict"] = verdicts
    return out


def accuracy_parity(performance: pd.DataFrame, *, model: str = "arch", accuracy: str = "accuracy",
                    seed: str | None = "seed", bar: float = 0.90, max_gap: float = 0.05,
                    min_models: int = 2) -> dict[str, Any]:
    """Check that the compared models are all trained into the same regime before comparing them.

    A model is *eligible* when its accuracy reaches ``bar`` in every seed; the others are flagged
    and left out of the verdicts. Among the eligible models, *parity* holds when their mean
    accuracies (over seeds) differ by at most ``max_gap``.

    Parameters
    ----------
    performance : DataFrame
        One row per model (x seed) with an accuracy column.
    model, accuracy : str
        Column names.
    seed : str or None, default "seed"
        The replicate column; None when ``performance`` has one row per model.
    bar : float, default 0.90
        The accuracy every compared model must reach (issue 18: the paper's models are 0.96-0.98).
    max_gap : float, default 0.05
        The largest spread of mean accuracies still called parity.
    min_models : int, default 2
        Fewer eligible models allow no comparison.

    Returns
    -------
    dict
        ``verdict``: "parity" (claims allowed), "accuracy gap" (eligible models differ by more than
        ``max_gap``: complexity is confounded with accuracy), or "too few models"; ``allow_claims``
        (bool); ``eligible`` and ``flagged`` (model lists, in order of appearance);
        ``min_accuracy`` (model -> lowest accuracy over seeds); ``mean_accuracy`` (model -> mean);
        ``gap`` (spread of the eligible models' means, NaN with fewer than two); ``text``.

    Examples
    --------
    >>> perf = pd.DataFrame({"arch": ["r18", "r101"], "accuracy": [0.95, 0.80]})
    >>> accuracy_parity(perf, seed=None)["flagged"]
    ['r101']
    """
    ctx = "accuracy_parity"
    check_frame(performance, ctx, "omit", model=model, value=accuracy, seed=seed)
    check_float("bar", bar, min_value=0.0, max_value=1.0, context=ctx)
    check_float("max_gap", max_gap, min_value=0.0, max_value=1.0, context=ctx)
    check_int("min_models", min_models, min_value=1, context=ctx)
    if seed is None and performance[model].duplicated().any():
        raise ValueError(f"performance of {ctx} has several rows per model; name the seed column with seed=")
    if performance[accuracy].isna().any():
        raise ValueError(f"accuracy column {accuracy!r} of {ctx} has NaN values")
    grouped = performance.groupby(model, sort=False)[accuracy]
    lowest, mean = grouped.min().to_dict(), grouped.mean().to_dict()
    eligible = [m for m in lowest if lowest[m] >= bar]
    flagged = [m for m in lowest if lowest[m] < bar]
    gap = float(max(mean[m] for m in eligible) - min(mean[m] for m in eligible)) if len(eligible) > 1 else np.nan
    if len(eligible) < min_models:
        verdict = "too few models"
        text = (f"Only {len(eligible)} model(s) reach test accuracy {bar:.2f} in every seed "
                f"(flagged: {', '.join(map(str, flagged)) or 'none'}), so no complexity claim is made.")
    elif gap > max_gap:
        verdict = "accuracy gap"
        text = (f"The {len(eligible)} models that reach {bar:.2f} still differ by {gap:.3f} in mean accuracy "
                f"(more than {max_gap:.2f}): differences in their explanations may be differences in training, "
                "so no complexity claim is made.")
    else:
        verdict = "parity"
        text = (f"{len(eligible)} models reach test accuracy {bar:.2f} in every seed and lie within {gap:.3f} "
                f"of each other, so their explanations can be compared"
                + (f"; {', '.join(map(str, flagged))} missed the bar and {'is' if len(flagged) == 1 else 'are'} "
                   "left out." if flagged else "."))
    return {"verdict": verdict, "allow_claims": verdict == "parity", "eligible": eligible, "flagged": flagged,
            "min_accuracy": lowest, "mean_accuracy": mean, "gap": gap, "text": text}


def depth_effect_verdicts(friedman_by_seed: pd.DataFrame, *, by: str | Sequence[str] | None = None,
                          seed: str = "seed", p: str = "p", alpha: float = 0.05, min_seeds: int = 3,
                          parity: dict | None = None) -> pd.DataFrame:
    """Per cell: whether the Friedman test across depths is significant in every seed.

    Parameters
    ----------
    friedman_by_seed : DataFrame
        One row per cell x seed, e.g. :func:`friedman` run with ``by=[*cells, "seed"]``.
    by : str or list of str, optional
        The cell columns (e.g. ``["metric", "class", "method"]``; paper 003 has 12 cells).
    seed : str, default "seed"
    p : str, default "p"
        The p-value column ("p_adj" to use corrected values). NaN p-values count as missing.
    alpha : float, default 0.05
    min_seeds : int, default 3
    parity : dict, optional
        The result of :func:`accuracy_parity`; when it does not allow claims, every cell is
        "not assessed".

    Returns
    -------
    DataFrame
        ``*by, n_seeds, n_significant, seeds_significant (list), verdict``; ``verdict`` is one
        of ``DEPTH_VERDICTS``.

    Examples
    --------
    >>> f = pd.DataFrame({"seed": [0, 1, 2], "p": [0.01, 0.02, 0.2]})
    >>> depth_effect_verdicts(f)[["n_significant", "verdict"]].values.tolist()
    [[2, 'flips between seeds']]
    """
    ctx = "depth_effect_verdicts"
    by = as_list(by)
    check_frame(friedman_by_seed, ctx, "omit", by=by, seed=seed, value=p)
    check_float("alpha", alpha, min_value=0.0, max_value=1.0, context=ctx)
    check_int("min_seeds", min_seeds, min_value=1, context=ctx)
    if parity is not None and "allow_claims" not in parity:
        raise ValueError(f"parity of {ctx} must be the dict accuracy_parity returns")
    blocked = parity is not None and not parity["allow_claims"]
    names = {"replicated": {True: "differs in every seed", False: "no difference in any seed"},
             "flips": "flips between seeds", "too few seeds": "too few seeds"}
    rows = []
    for key, sub in cells(friedman_by_seed, by):
        if sub[seed].duplicated().any():
            raise ValueError(f"friedman_by_seed of {ctx} must have one row per cell and seed; "
                             f"cell {key} repeats a seed")
        pv = sub[p].to_numpy(np.float64)
        verdicts = {s: (None if np.isnan(v) else bool(v < alpha)) for s, v in zip(sub[seed], pv, strict=True)}
        rep = replicated(verdicts, min_seeds=min_seeds)
        if blocked:
            verdict = "not assessed"
        elif rep["status"] == "replicated":
            verdict = names["replicated"][rep["verdict"]]
        else:
            verdict = names[rep["status"]]
        rows.append({**key, "n_seeds": rep["n_seeds"], "n_significant": rep["counts"].get(True, 0),
                     "seeds_significant": rep["seeds"].get(True, []), "verdict": verdict})
    return pd.DataFrame(rows, columns=[*by, "n_seeds", "n_significant", "seeds_significant", "verdict"])
