"""Multiple-comparison corrections of p-values (NaN p-values are left out of the family)."""
from __future__ import annotations

import numpy as np

from .._validation import check_option

__all__ = ["adjust_pvalues", "CORRECTIONS"]

CORRECTIONS = ("bonferroni", "holm", "bh", "none")


def adjust_pvalues(pvalues, method: str = "bonferroni") -> np.ndarray:
    """Adjusted p-values for a family of tests.

    Parameters
    ----------
    pvalues : array-like of float
        NaN entries stay NaN and do not count towards the family size ``m``.
    method : {"bonferroni", "holm", "bh", "none"}, default "bonferroni"
        ``"bonferroni"``: ``min(1, m p)``. ``"holm"``: step-down, ``max_{j<=i} min(1, (m-j+1) p_(j))``.
        ``"bh"``: Benjamini-Hochberg step-up, ``min_{j>=i} min(1, m p_(j) / j)``. The same as
        ``statsmodels.stats.multitest.multipletests`` with ``bonferroni``/``holm``/``fdr_bh``.

    References
    ----------
    Holm (1979). A simple sequentially rejective multiple test procedure. Scand. J. Statist. 6.
    Benjamini, Hochberg (1995). Controlling the false discovery rate. JRSS B 57(1), 289-300.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03], "holm").round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    check_option("method", method, CORRECTIONS, context="adjust_pvalues")
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    if np.any((q < 0) | (q > 1)):
        raise ValueError(f"pvalues of adjust_pvalues must lie in [0, 1]; got min {q.min()}, max {q.max()}")
    if method == "none":
        adj = q.copy()
    elif method == "bonferroni":
        adj = np.minimum(1.0, q * m)
    else:
        order = np.argsort(q, kind="stable")
        ranked = q[order]
        if method == "holm":
            steps = np.maximum.accumulate((m - np.arange(m)) * ranked)
        else:  # bh
            steps = np.minimum.accumulate((m * ranked / np.arange(1, m + 1))[::-1])[::-1]
        adj = np.empty(m)
        adj[order] = np.minimum(1.0, steps)
    out[ok] = adj
    return out
