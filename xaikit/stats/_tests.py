"""Hypothesis tests on tidy (long) DataFrames: one row per observation, one result row per cell.

Every function takes ``by=[...]`` grouping columns, runs the test once per combination of their
values (a *cell*, e.g. metric x class x method in paper 003's Table 5), and returns a tidy
DataFrame with the ``by`` columns first. NaN handling is explicit (``nan_policy``):
``"omit"`` drops NaN observations (paired tests drop incomplete pairs) and counts them in
``n_nan``; ``"raise"`` raises ``ValueError``; ``"propagate"`` lets NaN reach scipy, giving NaN.
Numbers are those of ``scipy.stats`` on the same data.
"""
from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats as ss

from .._validation import check_option
from ._effect import cliffs_delta, epsilon_squared, kendalls_w
from ._frame import apply_nan_policy, as_list, cells, check_frame, group_order
from ._multitest import CORRECTIONS, adjust_pvalues

__all__ = ["kruskal", "pairwise_mannwhitney", "paired_ttest", "wilcoxon", "friedman"]

_ALTERNATIVES = ("two-sided", "less", "greater")


def _adjust(frame: pd.DataFrame, by: list[str], correction: str, family: str) -> pd.DataFrame:
    check_option("family", family, ("cell", "all"), context="correction")
    if frame.empty:
        frame["p_adj"] = []
        return frame
    if family == "all" or not by:
        frame["p_adj"] = adjust_pvalues(frame["p"].to_numpy(), correction)
    else:
        frame["p_adj"] = np.nan
        for _, idx in frame.groupby(by, sort=False, dropna=False, observed=True).groups.items():
            frame.loc[idx, "p_adj"] = adjust_pvalues(frame.loc[idx, "p"].to_numpy(), correction)
    frame["correction"] = correction
    return frame


def kruskal(df: pd.DataFrame, value: str, group: str, *, by: str | Sequence[str] | None = None,
            order: Sequence | None = None, correction: str = "none", nan_policy: str = "omit"
            ) -> pd.DataFrame:
    """Kruskal-Wallis H test across the groups of ``group``, once per cell of ``by``.

    Parameters
    ----------
    df : DataFrame
        Long format: one row per observation (e.g. image x model x method x metric).
    value, group : str
        The score column and the column whose levels are compared (e.g. ``"arch"``).
    by : str or list of str, optional
        Cell columns; one test per combination.
    order : sequence, optional
        Group levels to use and their order (default: sorted levels present).
    correction : {"none", "bonferroni", "holm", "bh"}, default "none"
        Adjust p across the cells (paper 003 reports Table 5 unadjusted).
    nan_policy : {"omit", "raise", "propagate"}, default "omit"

    Returns
    -------
    DataFrame
        ``*by, statistic (H), dof, p, p_adj, epsilon_squared, n, n_groups, n_per_group (dict),
        n_nan``.

    References
    ----------
    Kruskal, Wallis (1952). Use of ranks in one-criterion variance analysis. JASA 47, 583-621.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"arch": list("aabbcc"), "score": [1, 2, 3, 4, 5, 6]})
    >>> kruskal(df, "score", "arch")[["statistic", "dof"]].round(3).to_dict("records")
    [{'statistic': 4.571, 'dof': 2}]
    """
    ctx = "kruskal"
    by = as_list(by)
    check_frame(df, ctx, nan_policy, value=value, group=group, by=by)
    check_option("correction", correction, CORRECTIONS, context=ctx)
    rows = []
    for key, sub in cells(df, by):
        samples, sizes, dropped = [], {}, 0
        for g in group_order(sub, group, order):
            x, d = apply_nan_policy(sub.loc[sub[group] == g, value].to_numpy(np.float64), nan_policy, ctx, value)
            dropped += d
            if x.size:
                samples.append(x)
                sizes[g] = int(x.size)
        n = sum(sizes.values())
        if len(samples) >= 2:
            h, p = ss.kruskal(*samples, nan_policy="propagate")
        else:
            h, p = np.nan, np.nan
        rows.append({**key, "statistic": float(h), "dof": len(samples) - 1, "p": float(p),
                     "epsilon_squared": epsilon_squared(h, n), "n": n, "n_groups": len(samples),
                     "n_per_group": sizes, "n_nan": dropped})
    out = _adjust(pd.DataFrame(rows), by, correction, "all")
    return out[[*by, "statistic", "dof", "p", "p_adj", "epsilon_squared", "n", "n_groups",
                "n_per_group", "n_nan"]]


def pairwise_mannwhitney(df: pd.DataFrame, value: str, group: str, *,
                         by: str | Sequence[str] | None = None, correction: str = "bonferroni",
                         family: str = "cell", order: Sequence | None = None,
                         alternative: str = "two-sided", method: str = "auto",
                         nan_policy: str = "omit") -> pd.DataFrame:
    """Mann-Whitney U for every pair of groups, corrected for multiple comparisons.

    Parameters
    ----------
    correction : {"bonferroni", "holm", "bh", "none"}, default "bonferroni"
    family : {"cell", "all"}, default "cell"
        Correct within each cell (m = number of pairs, 6 for 4 models as in paper 003) or across
        every pair of every cell.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        For ``group_a`` versus ``group_b``.
    method : {"auto", "asymptotic", "exact"}, default "auto"
        Passed to ``scipy.stats.mannwhitneyu`` (asymptotic uses the tie-corrected normal
        approximation with continuity correction).

    Returns
    -------
    DataFrame
        ``*by, group_a, group_b, n_a, n_b, statistic (U of group_a), p, p_adj, correction,
        cliffs_delta, median_a, median_b, n_nan``.

    References
    ----------
    Mann, Whitney (1947). On a test of whether one of two random variables is stochastically
    larger than the other. Ann. Math. Statist. 18(1), 50-60.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"arch": list("aaabbbccc"), "score": [1, 2, 3, 4, 5, 6, 7, 8, 9]})
    >>> pairwise_mannwhitney(df, "score", "arch")[["group_a", "group_b", "p", "p_adj"]].round(3)
      group_a group_b    p  p_adj
    0       a       b  0.1    0.3
    1       a       c  0.1    0.3
    2       b       c  0.1    0.3
    """
    ctx = "pairwise_mannwhitney"
    by = as_list(by)
    check_frame(df, ctx, nan_policy, value=value, group=group, by=by)
    check_option("correction", correction, CORRECTIONS, context=ctx)
    check_option("alternative", alternative, _ALTERNATIVES, context=ctx)
    check_option("method", method, ("auto", "asymptotic", "exact"), context=ctx)
    rows = []
    for key, sub in cells(df, by):
        data = {}
        for g in group_order(sub, group, order):
            data[g] = apply_nan_policy(sub.loc[sub[group] == g, value].to_numpy(np.float64),
                                       nan_policy, ctx, value)
        for ga, gb in combinations(data, 2):
            (x, dx), (y, dy) = data[ga], data[gb]
            if x.size and y.size:
                u, p = ss.mannwhitneyu(x, y, alternative=alternative, method=method)
            else:
                u, p = np.nan, np.nan
            rows.append({**key, "group_a": ga, "group_b": gb, "n_a": int(x.size), "n_b": int(y.size),
                         "statistic": float(u), "p": float(p), "cliffs_delta": cliffs_delta(x, y),
                         "median_a": float(np.median(x)) if x.size else np.nan,
                         "median_b": float(np.median(y)) if y.size else np.nan, "n_nan": dx + dy})
    out = _adjust(pd.DataFrame(rows), by, correction, family)
    cols = [*by, "group_a", "group_b", "n_a", "n_b", "statistic", "p", "p_adj", "correction",
            "cliffs_delta", "median_a", "median_b", "n_nan"]
    return out.reindex(columns=cols)


def _paired_cells(df, value, group, pair, by, order, nan_policy, ctx):
    """Per cell: the wide table (pairs x groups), NaN handled per pair of groups later."""
    for key, sub in cells(df, by):
        dup = sub.duplicated([group, pair])
        if dup.any():
            raise ValueError(f"pair of {ctx} must identify one row per group within a cell; "
                             f"{int(dup.sum())} duplicate ({group}, {pair}) rows")
        wide = sub.pivot(index=pair, columns=group, values=value)
        levels = group_order(sub, group, order)
        if nan_policy == "raise" and wide[levels].isna().to_numpy().any():
            raise ValueError(f"value column {value!r} of {ctx} has NaN or unpaired rows and "
                             "nan_policy='raise'; use 'omit' to drop incomplete pairs")
        yield key, wide, levels


def _pairwise_paired(df, value, group, pair, by, order, correction, family, nan_policy, ctx, test):
    by = as_list(by)
    check_frame(df, ctx, nan_policy, value=value, group=group, pair=pair, by=by)
    check_option("correction", correction, CORRECTIONS, context=ctx)
    rows = []
    for key, wide, levels in _paired_cells(df, value, group, pair, by, order, nan_policy, ctx):
        for ga, gb in combinations(levels, 2):
            x, y = wide[ga].to_numpy(np.float64), wide[gb].to_numpy(np.float64)
            complete = ~(np.isnan(x) | np.isnan(y))
            dropped = int((~complete).sum())
            if nan_policy == "omit":
                x, y = x[complete], y[complete]
            else:
                dropped = 0
            rows.append({**key, "group_a": ga, "group_b": gb, "n": int(x.size), **test(x, y),
                         "n_nan": dropped})
    return _adjust(pd.DataFrame(rows), by, correction, family), by


def paired_ttest(df: pd.DataFrame, value: str, group: str, pair: str, *,
                 by: str | Sequence[str] | None = None, correction: str = "none",
                 family: str = "cell", order: Sequence | None = None,
                 alternative: str = "two-sided", nan_policy: str = "omit") -> pd.DataFrame:
    """Paired t-test for every pair of groups, observations matched on ``pair``.

    ``pair`` identifies the unit measured under every group (an image, a patient, or a bootstrap
    replicate as in INFORMER's 30 paired bootstraps).

    Returns
    -------
    DataFrame
        ``*by, group_a, group_b, n, statistic (t), dof, p, p_adj, correction, mean_diff (a - b),
        cohens_dz, n_nan``.

    References
    ----------
    Student (1908). The probable error of a mean. Biometrika 6(1), 1-25.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"m": list("aaabbb"), "rep": [0, 1, 2] * 2, "f1": [1, 2, 3, 2, 4, 5]})
    >>> paired_ttest(df, "f1", "m", pair="rep")[["statistic", "dof"]].round(3).to_dict("records")
    [{'statistic': -5.0, 'dof': 2}]
    """
    ctx = "paired_ttest"
    check_option("alternative", alternative, _ALTERNATIVES, context=ctx)

    def test(x, y):
        if x.size < 2:
            return {"statistic": np.nan, "dof": max(x.size - 1, 0), "p": np.nan,
                    "mean_diff": np.nan, "cohens_dz": np.nan}
        t, p = ss.ttest_rel(x, y, alternative=alternative)
        d = x - y
        sd = d.std(ddof=1)
        return {"statistic": float(t), "dof": int(x.size - 1), "p": float(p),
                "mean_diff": float(d.mean()), "cohens_dz": float(d.mean() / sd) if sd > 0 else np.nan}

    out, by = _pairwise_paired(df, value, group, pair, by, order, correction, family, nan_policy, ctx, test)
    cols = [*by, "group_a", "group_b", "n", "statistic", "dof", "p", "p_adj", "correction",
            "mean_diff", "cohens_dz", "n_nan"]
    return out.reindex(columns=cols)


def wilcoxon(df: pd.DataFrame, value: str, group: str, pair: str, *,
             by: str | Sequence[str] | None = None, correction: str = "holm", family: str = "cell",
             order: Sequence | None = None, alternative: str = "two-sided",
             zero_method: str = "wilcox", nan_policy: str = "omit") -> pd.DataFrame:
    """Wilcoxon signed-rank test for every pair of groups, matched on ``pair``.

    ``zero_method`` is passed to ``scipy.stats.wilcoxon`` (``"wilcox"`` drops zero differences).

    Returns
    -------
    DataFrame
        ``*by, group_a, group_b, n, statistic, p, p_adj, correction, median_diff (a - b),
        rank_biserial, n_nan``. ``rank_biserial = (W+ - W-) / (W+ + W-)`` over non-zero
        differences.

    References
    ----------
    Wilcoxon (1945). Individual comparisons by ranking methods. Biometrics Bulletin 1(6), 80-83.
    """
    ctx = "wilcoxon"
    check_option("alternative", alternative, _ALTERNATIVES, context=ctx)
    check_option("zero_method", zero_method, ("wilcox", "pratt", "zsplit"), context=ctx)

    def test(x, y):
        d = x - y
        nz = d[d != 0]
        if nz.size == 0:
            return {"statistic": np.nan, "p": np.nan, "median_diff": float(np.median(d)) if d.size else np.nan,
                    "rank_biserial": np.nan}
        w, p = ss.wilcoxon(x, y, zero_method=zero_method, alternative=alternative)
        r = ss.rankdata(np.abs(nz))
        rb = (r[nz > 0].sum() - r[nz < 0].sum()) / r.sum()
        return {"statistic": float(w), "p": float(p), "median_diff": float(np.median(d)),
                "rank_biserial": float(rb)}

    out, by = _pairwise_paired(df, value, group, pair, by, order, correction, family, nan_policy, ctx, test)
    cols = [*by, "group_a", "group_b", "n", "statistic", "p", "p_adj", "correction",
            "median_diff", "rank_biserial", "n_nan"]
    return out.reindex(columns=cols)


def friedman(df: pd.DataFrame, value: str, group: str, pair: str, *,
             by: str | Sequence[str] | None = None, order: Sequence | None = None,
             correction: str = "none", nan_policy: str = "omit") -> pd.DataFrame:
    """Friedman test across the groups, blocks given by ``pair``; incomplete blocks are omitted.

    Returns
    -------
    DataFrame
        ``*by, statistic (chi2), dof, p, p_adj, kendalls_w, n (blocks), n_groups, n_nan``.

    References
    ----------
    Friedman (1937). The use of ranks to avoid the assumption of normality implicit in the
    analysis of variance. JASA 32(200), 675-701.
    """
    ctx = "friedman"
    by = as_list(by)
    check_frame(df, ctx, nan_policy, value=value, group=group, pair=pair, by=by)
    check_option("correction", correction, CORRECTIONS, context=ctx)
    rows = []
    for key, wide, levels in _paired_cells(df, value, group, pair, by, order, nan_policy, ctx):
        m = wide[levels].to_numpy(np.float64)
        complete = ~np.isnan(m).any(axis=1)
        dropped = int((~complete).sum()) if nan_policy == "omit" else 0
        if nan_policy == "omit":
            m = m[complete]
        if len(levels) >= 3 and m.shape[0] >= 2:
            chi2, p = ss.friedmanchisquare(*m.T)
        else:
            chi2, p = np.nan, np.nan
        rows.append({**key, "statistic": float(chi2), "dof": len(levels) - 1, "p": float(p),
                     "kendalls_w": kendalls_w(chi2, m.shape[0], len(levels)), "n": int(m.shape[0]),
                     "n_groups": len(levels), "n_nan": dropped})
    out = _adjust(pd.DataFrame(rows), by, correction, "all")
    return out.reindex(columns=[*by, "statistic", "dof", "p", "p_adj", "kendalls_w", "n",
                                "n_groups", "n_nan"])
