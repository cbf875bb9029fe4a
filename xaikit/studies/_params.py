"""Parameter validation of the study notebooks (the specifications themselves live in each study's ``spec``).

The CLI calls :func:`validate_params` before starting papermill, so a bad value fails in a second with a
message naming the parameter; a notebook validates its own globals with :func:`~xaikit.studies.start_run`.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._spec import STUDIES, Param, get_study

__all__ = ["Param", "STUDY_PARAMS", "validate_params"]


class _ParamsView(Mapping):
    """Read-only view: study name → its parameters (common ones included), from ``STUDIES``."""

    def __getitem__(self, study: str) -> dict[str, Param]:
        return STUDIES[study].parameters

    def __iter__(self) -> Iterator[str]:
        return iter(STUDIES)

    def __len__(self) -> int:
        return len(STUDIES)


#: Every study's parameters by study name (derived from the specifications, never written twice).
STUDY_PARAMS: Mapping[str, dict[str, Param]] = _ParamsView()


def validate_params(study: str, params: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Check every parameter of ``study``; return them unchanged if valid.

    Parameters
    ----------
    study : a registered study's name (the notebook's file name without ``.ipynb``).
    params : name → value; names the study does not know are rejected with a hint.
    partial : accept a subset of the parameters (the CLI's overrides).

    Returns
    -------
    dict
        The parameters, with "list" values normalised to lists (``"a,b"`` → ``["a", "b"]``).

    Raises
    ------
    ValueError naming the parameter, the allowed values or range, and the value given.

    Examples
    --------
    >>> validate_params("01_model_complexity", {"archs": "resnet18,resnet34"}, partial=True)
    {'archs': ['resnet18', 'resnet34']}
    """
    return get_study(study).validate(params, partial=partial)
