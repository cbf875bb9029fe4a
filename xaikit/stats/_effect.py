"""Effect sizes that accompany the rank tests."""
from __future__ import annotations

import numpy as np

__all__ = ["cliffs_delta", "epsilon_squared", "kendalls_w"]


def cliffs_delta(x, y) -> float:
    """Cliff's delta: ``P(X > Y) - P(X < Y)`` over all pairs, in [-1, 1].

    Equals ``2 U_x / (n_x n_y) - 1`` with ``U_x`` the Mann-Whitney U statistic of ``x``.

    References
    ----------
    Cliff (1993). Dominance statistics: ordinal analyses to answer ordinal questions.
    Psychological Bulletin 114(3), 494-509.

    Examples
    --------
    >>> cliffs_delta([3, 4, 5], [1, 2, 3])
    0.8888888888888888
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.size == 0 or y.size == 0:
        return float("nan")
    ys = np.sort(y)
    greater = np.searchsorted(ys, x, side="left").sum()
    less = (y.size - np.searchsorted(ys, x, side="right")).sum()
    return float((greater - less) / (x.size * y.size))


def epsilon_squared(h: float, n: int) -> float:
    """Epsilon-squared for a Kruskal-Wallis H on ``n`` observations: ``H / (n - 1)``.

    (The form ``H / ((n^2 - 1) / (n + 1))`` of Tomczak & Tomczak simplifies to this.)

    References
    ----------
    Tomczak, Tomczak (2014). The need to report effect size estimates revisited. Trends in Sport
    Sciences 1(21), 19-25.
    """
    return float(h / (n - 1)) if n > 1 else float("nan")


def kendalls_w(chi2: float, n_blocks: int, k: int) -> float:
    """Kendall's W for a Friedman statistic: ``chi2 / (n (k - 1))``, in [0, 1]."""
    return float(chi2 / (n_blocks * (k - 1))) if n_blocks > 0 and k > 1 else float("nan")
