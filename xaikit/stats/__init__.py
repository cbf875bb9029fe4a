"""Statistics on tidy DataFrames: rank and paired tests, corrections, effect sizes, bootstrap.

Every test takes a long DataFrame (one row per observation), the ``value`` and ``group``
columns, optional ``by=[...]`` cell columns, and returns one tidy row per test with ``p`` and
``p_adj``. NaN handling is an explicit ``nan_policy`` ("omit" counts what it drops in ``n_nan``).
Numbers equal ``scipy.stats`` (and ``statsmodels``' ``multipletests``) on the same data.
The seed is the unit of replication (``seed_summary``, ``replicated``); study verdicts are rules
on tidy frames (``localisation_verdicts``, ``accuracy_parity``, ``depth_effect_verdicts``).
"""
from ._bootstrap import bootstrap_ci
from ._effect import cliffs_delta, epsilon_squared, kendalls_w
from ._multitest import CORRECTIONS, adjust_pvalues
from ._posthoc import paired_posthoc
from ._seeds import replicated, seed_summary
from ._tests import friedman, kruskal, paired_ttest, pairwise_mannwhitney, wilcoxon
from ._verdicts import (
    DEPTH_VERDICTS,
    LOCALISATION_VERDICTS,
    accuracy_parity,
    depth_effect_verdicts,
    localisation_verdicts,
)

__all__ = [
    "kruskal", "pairwise_mannwhitney", "paired_ttest", "wilcoxon", "friedman", "bootstrap_ci",
    "adjust_pvalues", "CORRECTIONS", "cliffs_delta", "epsilon_squared", "kendalls_w",
    "paired_posthoc", "seed_summary", "replicated",
    "localisation_verdicts", "accuracy_parity", "depth_effect_verdicts", "LOCALISATION_VERDICTS", "DEPTH_VERDICTS",
]
