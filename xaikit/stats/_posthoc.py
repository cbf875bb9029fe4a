"""The paired design's analysis in one call: Friedman across the groups, Wilcoxon post-hoc with Holm."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .._validation import check_float, check_option
from ._frame import as_list, check_frame
from ._multitest import CORRECTIONS
from ._tests import friedman, wilcoxon

__all__ = ["paired_posthoc"]


def paired_posthoc(frame: pd.DataFrame, value: str, by: str, block: str, *,
                   cells: str | Sequence[str] | None = None, order: Sequence | None = None,
                   correction: str = "holm", alpha: float = 0.05, zero_method: str = "wilcox",
                   nan_policy: str = "omit") -> pd.DataFrame:
    """Wilcoxon signed-rank test for every pair of ``by`` levels, matched on ``block``, with Holm.

    The post-hoc half of a repeated-measures rank analysis: the same images (``block``) scored
    under every model (``by``). Each pair's row carries the Friedman omnibus test of its cell, so
    a table reader sees both; ``significant`` requires both the omnibus and the pair's adjusted
    p below ``alpha`` (the usual protected post-hoc).

    Parameters
    ----------
    frame : DataFrame
        Long format, one row per block x level (x cell).
    value : str
        The score column.
    by : str
        The factor whose levels are compared (e.g. ``"arch"``).
    block : str
        The matching unit measured under every level (e.g. ``"image"``).
    cells : str or list of str, optional
        One analysis per combination of these columns (e.g. metric x class x method); Holm
        corrects within a cell (``m`` = number of pairs).
    order : sequence, optional
        Levels of ``by`` to compare and their order (default: sorted).
    correction : {"holm", "bonferroni", "bh", "none"}, default "holm"
    alpha : float, default 0.05
    zero_method : {"wilcox", "pratt", "zsplit"}, default "wilcox"
        ``scipy.stats.wilcoxon``'s handling of zero differences.
    nan_policy : {"omit", "raise", "propagate"}, default "omit"
        "omit" drops incomplete blocks per pair (Wilcoxon) and per cell (Friedman).

    Returns
    -------
    DataFrame
        ``*cells, group_a, group_b, n, statistic (W), p, p_adj, correction, median_diff (a - b),
        rank_biserial, friedman_chi2, friedman_p, kendalls_w, n_blocks, significant``.
        ``rank_biserial`` is the matched-pairs rank-biserial correlation
        ``(W+ - W-) / (W+ + W-)`` (Kerby 2014), positive when ``a`` scores higher.

    References
    ----------
    Friedman (1937). JASA 32(200), 675-701. Wilcoxon (1945). Biometrics Bulletin 1(6), 80-83.
    Holm (1979). Scand. J. Statist. 6, 65-70. Kerby (2014). The simple difference formula: an
    approach to teaching nonparametric correlation. Comprehensive Psychology 3, 11.IT.3.1.

    Examples
    --------
    >>> df = pd.DataFrame({"arch": list("aaaabbbbcccc"), "image": [0, 1, 2, 3] * 3,
    ...                    "score": [1, 2, 3, 4, 2, 3, 4, 6, 5, 6, 7, 9]})
    >>> paired_posthoc(df, "score", "arch", "image")[["group_a", "group_b", "rank_biserial"]]
      group_a group_b  rank_biserial
    0       a       b           -1.0
    1       a       c           -1.0
    2       b       c           -1.0
    """
    ctx = "paired_posthoc"
    cells = as_list(cells)
    if not isinstance(by, str) or not isinstance(block, str):
        raise ValueError(f"by and block of {ctx} must each name one column, got {by!r} and {block!r}")
    check_frame(frame, ctx, nan_policy, value=value, by=by, block=block, cells=cells)
    check_option("correction", correction, CORRECTIONS, context=ctx)
    check_float("alpha", alpha, min_value=0.0, max_value=1.0, context=ctx)
    post = wilcoxon(frame, value, by, block, by=cells or None, correction=correction, family="cell",
                    order=order, zero_method=zero_method, nan_policy=nan_policy)
    omni = friedman(frame, value, by, block, by=cells or None, order=order, nan_policy=nan_policy)
    omni = omni.rename(columns={"statistic": "friedman_chi2", "p": "friedman_p", "n": "n_blocks"})
    omni = omni[[*cells, "friedman_chi2", "friedman_p", "kendalls_w", "n_blocks"]]
    out = post.merge(omni, on=cells, how="left") if cells else post.assign(**omni.iloc[0].to_dict())
    out["significant"] = (out["friedman_p"] < alpha) & (out["p_adj"] < alpha)
    return out.drop(columns="n_nan").reset_index(drop=True)
