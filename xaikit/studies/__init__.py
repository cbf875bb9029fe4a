"""Study plumbing: notebook parameter specifications, validation and execution; study helpers.

The study-1 helpers (paper 003's tables, score collection, ours-vs-paper tables) live in
``_study1`` and are imported on first access, so ``import xaikit.studies`` stays light for the CLI.
"""
from ._params import STUDY_PARAMS, Param, validate_params
from ._runner import NOTEBOOK_DIR, PROFILES, load_profile, run_study, studies

_STUDY1 = ("PAPER003_TABLE1", "PAPER003_TABLE2", "PAPER003_TABLE3_RRA", "PAPER003_TABLE4_PAR", "PAPER003_TABLE5",
           "PAPER003_POSTHOC", "METRICS", "arch_depth", "arch_label", "collect_scores", "random_baseline",
           "random_attribution_scores", "performance_vs_paper", "parameters_vs_paper", "score_summary",
           "scores_vs_paper", "kruskal_vs_paper", "posthoc_tests", "hypothesis_verdicts", "score_bars",
           "format_mean_sd", "classification_scores", "block_layers", "training_curves_grid", "attribution_grid",
           "randomisation_curves", "beyond_paper_text")

__all__ = ["NOTEBOOK_DIR", "PROFILES", "Param", "STUDY_PARAMS", "load_profile", "run_study", "studies",
           "validate_params", *_STUDY1]


def __getattr__(name: str):
    if name in _STUDY1:  # pandas-based helpers: import them only when a notebook asks
        from . import _study1

        return getattr(_study1, name)
    raise AttributeError(f"module 'xaikit.studies' has no attribute {name!r}")
