"""Studies: one :class:`Study` specification per chapter, registered in ``STUDIES``, and the plumbing
that runs them.

Each study is a subpackage — ``phantoms``, ``model_complexity`` (study 1), ``informer_qc`` (study 2),
``shap_transfer`` (study 3), ``methods_atlas`` (study 4) — with ``spec`` (its parameters, profiles and published
tables), ``analysis`` (the numbers), ``figures`` and ``text`` (every sentence of its conclusion that depends
on the numbers). A notebook validates its parameters with :func:`start_run` and calls into those
modules; :func:`run_study` executes a notebook with papermill, :func:`load_published` reads the
published numbers it is compared with. Importing this package stays light (no torch, no pandas).
"""
from . import informer_qc, methods_atlas, model_complexity, phantoms, shap_transfer  # noqa: F401  (registers the studies)
from ._params import STUDY_PARAMS, validate_params
from ._published import load_published, published_tables
from ._replication import (
    RUNNING_MARKER,
    Replication,
    replicate,
    replication_figure,
    replication_text,
    wait_for_sweep,
)
from ._run import StudyRun, start_run
from ._runner import (
    NOTEBOOK_DIR,
    PROFILES,
    ROOT,
    load_profile,
    parse_value,
    portable_path,
    real_data_overrides,
    run_study,
    studies,
    write_hardware_table,
)
from ._spec import COMMON_PARAMS, PHANTOMS, STUDIES, Param, Study, get_study, register_study

__all__ = ["COMMON_PARAMS", "NOTEBOOK_DIR", "PHANTOMS", "PROFILES", "Param", "REPLICATION_PARAM", "ROOT",
           "RUNNING_MARKER",
           "Replication", "STUDIES", "STUDY_PARAMS", "Study", "StudyRun", "get_study", "load_profile",
           "load_published", "parse_value", "portable_path", "published_tables", "real_data_overrides",
           "register_study", "replicate", "replication_figure", "replication_text", "run_study", "start_run",
           "studies", "validate_params", "wait_for_sweep", "write_hardware_table"]
