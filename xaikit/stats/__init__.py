"""Statistics on tidy DataFrames: rank and paired tests, corrections, effect sizes, bootstrap.

Every test takes a long DataFrame (one row per observation), the ``value`` and ``group``
columns, optional ``by=[...]`` cell columns, and returns one tidy row per test with ``p`` and
``p_adj``. NaN handling is an explicit ``nan_policy`` ("omit" counts what it drops in ``n_nan``).
Numbers equal ``scipy.stats`` (and ``statsmodels``' ``multipletests``) on the same data.
"""
from ._bootstrap import bootstrap_ci
from ._effect import cliffs_delta, epsilon_squared, kendalls_w
from ._multitest import CORRECTIONS, adjust_pvalues
from ._tests import friedman, kruskal, paired_ttest, pairwise_mannwhitney, wilcoxon

__all__ = [
    "kruskal", "pairwise_mannwhitney", "paired_ttest", "wilcoxon", "friedman", "bootstrap_ci",
    "adjust_pvalues", "CORRECTIONS", "cliffs_delta", "epsilon_squared", "kendalls_w",
]
