"""Study plumbing: notebook parameter specifications, validation and execution."""
from ._params import STUDY_PARAMS, Param, validate_params
from ._runner import NOTEBOOK_DIR, PROFILES, load_profile, run_study, studies

__all__ = ["NOTEBOOK_DIR", "PROFILES", "Param", "STUDY_PARAMS", "load_profile", "run_study", "studies",
           "validate_params"]
