"""The one shape every study follows: a :class:`Study` specification registered in ``STUDIES``.

A specification names the study's notebook, declares each of its parameters once (the common ones —
``profile``, ``seed``, ``device``, ``data_root``, ``output_dir`` — are shared by every study), the
profiles it runs under and the published tables it is compared with. The CLI, the sweep engine, the
notebooks' validation line and the contract tests all read it; nothing else lists a study's
parameters. Registries fill the open choices: architectures come from ``xaikit.models.MODELS``,
attribution methods from ``xaikit.explain.EXPLAINERS``, at validation time.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._validation import check_float, check_int, check_option, did_you_mean

__all__ = ["COMMON_PARAMS", "PHANTOMS", "REPLICATION_PARAM", "Param", "STUDIES", "Study", "get_study", "register_study"]

#: The phantoms: datasets generated in memory, which never read a ``data_root``.
PHANTOMS = ("chest_covid", "chest_multilabel", "brain_mri", "lung_ct")

#: Where a parameter's open choices come from: a registry, read when a value is checked.
_REGISTRIES = {"models": ("xaikit.models", "MODELS"), "explainers": ("xaikit.explain", "EXPLAINERS")}


@dataclass(frozen=True)
class Param:
    """One notebook parameter: a kind ("int", "float", "str", "choice", "list", "path"), bounds or choices.

    A "list" parameter holds one or more distinct items, each one of ``choices``; it accepts a list
    or tuple, or a comma-separated string (what ``-p archs resnet18,resnet34`` gives on the command
    line), and :meth:`check` returns it as a list. ``registry`` ("models" or "explainers") takes the
    choices from that registry when a value is checked, so a newly registered model or method is
    accepted without editing any study.
    """

    kind: str
    choices: tuple[Any, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    nullable: bool = False
    registry: str | None = None
    help: str = ""

    def options(self) -> tuple[Any, ...]:
        """The allowed values: ``choices``, or the sorted names of ``registry``."""
        if self.registry is None:
            return self.choices
        import importlib

        module, attr = _REGISTRIES[self.registry]
        return tuple(sorted(getattr(importlib.import_module(module), attr)))

    def check(self, name: str, value: Any, context: str) -> Any:
        if value is None:
            if self.nullable:
                return None
            raise ValueError(f"parameter {name!r} of {context} must not be None")
        if self.kind == "choice":
            return check_option(f"parameter {name!r}", value, self.options(), context=context)
        if self.kind == "list":
            return self._check_list(name, value, context)
        if self.kind == "int":
            return check_int(f"parameter {name!r}", value, min_value=self.min_value, max_value=self.max_value,
                             context=context)
        if self.kind == "float":
            return check_float(f"parameter {name!r}", value, min_value=self.min_value,
                               max_value=self.max_value, context=context)
        if not isinstance(value, str):
            raise ValueError(f"parameter {name!r} of {context} must be a string, got {value!r}")
        return value

    def _check_list(self, name: str, value: Any, context: str) -> list[Any]:
        options = self.options()
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",")]
        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError(f"parameter {name!r} of {context} must be a non-empty list (or a comma-separated "
                             f"string) of {', '.join(map(repr, options))}; got {value!r}")
        for item in value:
            check_option(f"each item of parameter {name!r}", item, options, context=context)
        duplicates = sorted({v for v in value if list(value).count(v) > 1})
        if duplicates:
            raise ValueError(f"parameter {name!r} of {context} lists {', '.join(map(repr, duplicates))} more than once")
        return list(value)


#: Parameters every study has, declared once.
COMMON_PARAMS: dict[str, Param] = {
    "profile": Param("choice", ("smoke", "default", "paper", "custom"), help="the profile that set the values"),
    "seed": Param("int", min_value=0, help="seeds the data, the split, training and every random draw"),
    "device": Param("choice", ("auto", "cpu", "cuda"), help="auto: CUDA when available"),
    "data_root": Param("path", nullable=True, help="folder of a real dataset; None: the phantom"),
    "output_dir": Param("path", help="where CSVs, figures and the manifest go"),
}


#: The parameter of every study with a replication section: the folder of a replication sweep over seeds
#: (``make book`` runs it and sets this; None: the chapter reports its one seed).
REPLICATION_PARAM = Param("path", nullable=True, help="folder of the replication sweep over seeds; None: one seed")


@dataclass(frozen=True)
class Study:
    """A study's specification: what it is, what it takes, what it is compared with.

    Parameters
    ----------
    name : the notebook's file name without ``.ipynb`` (``"01_model_complexity"``); the CLI's name.
    title : the chapter's title.
    package : the subpackage under ``xaikit.studies`` holding its analysis, figures and text.
    params : the study's own parameters; :attr:`parameters` adds ``COMMON_PARAMS``.
    paper : bibliography key of the reproduced paper (None for a chapter that reproduces none).
    published : names of the published tables shipped with the package (:func:`load_published`).
    status : "complete" or "planned".
    rules : cross-parameter checks, each ``rule(params) -> None`` raising ``ValueError``; run by
        :meth:`validate` once every parameter is known (not on a partial set).
    """

    name: str
    title: str
    package: str
    params: Mapping[str, Param] = field(default_factory=dict)
    paper: str | None = None
    published: tuple[str, ...] = ()
    status: str = "complete"
    rules: tuple[Callable[[Mapping[str, Any]], Any], ...] = ()

    @property
    def notebook(self) -> str:
        """The notebook's file name in ``notebooks/``."""
        return f"{self.name}.ipynb"

    @property
    def parameters(self) -> dict[str, Param]:
        """Every parameter: the common ones first (``profile``), then the study's own, ``output_dir`` last."""
        common = dict(COMMON_PARAMS)
        out = {"profile": common.pop("profile")}
        out.update({k: v for k, v in self.params.items() if k not in COMMON_PARAMS})
        for k in ("data_root", "seed", "device", "output_dir"):
            out[k] = common[k]
        return out

    def validate(self, params: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Check ``params`` against :attr:`parameters`; return them with list values normalised.

        Unknown names are refused with a did-you-mean hint; without ``partial`` every parameter must
        be given (a nullable one left out is None). Cross-parameter rules: a ``data_root`` needs a real
        ``dataset`` and a real ``dataset`` needs a ``data_root``.
        """
        spec = self.parameters
        for name in params:
            if name not in spec:
                raise ValueError(f"{self.name} has no parameter {name!r}.{did_you_mean(name, spec)} "
                                 f"Parameters: {', '.join(spec)}")
        params = dict(params)
        if not partial:
            for k, p in spec.items():  # a nullable parameter left out means None
                if k not in params and p.nullable:
                    params[k] = None
            missing = [k for k in spec if k not in params]
            if missing:
                raise ValueError(f"{self.name} is missing parameters: {', '.join(missing)}")
        checked = dict(params)
        for name, value in params.items():
            value = spec[name].check(name, value, self.name)
            if spec[name].kind == "list":
                checked[name] = value
        if params.get("data_root") and params.get("dataset") in PHANTOMS:
            raise ValueError(
                f"parameter 'data_root' of {self.name} is set ({params['data_root']!r}) but parameter 'dataset' is "
                f"the {params['dataset']!r} phantom, which reads nothing from disk; choose a real dataset "
                f"(e.g. dataset='covid-qu-ex') or leave data_root unset"
            )
        if "dataset" in params and params["dataset"] not in PHANTOMS and not params.get("data_root") and not partial:
            raise ValueError(
                f"parameter 'dataset' of {self.name} is the real dataset {params['dataset']!r}, which needs parameter "
                f"'data_root': the folder you unpacked it into (data/README.md says where to get it and the layout)"
            )
        if not partial:
            for rule in self.rules:
                rule(checked)
        return checked


#: Every registered study by name, in chapter order.
STUDIES: dict[str, Study] = {}


def register_study(study: Study) -> Study:
    """Add ``study`` to ``STUDIES`` (a name may be registered once)."""
    if study.name in STUDIES:
        raise ValueError(f"study {study.name!r} is already registered")
    check_option("status", study.status, ("complete", "planned"), context=f"study {study.name!r}")
    STUDIES[study.name] = study
    ordered = sorted(STUDIES.items())  # chapter order: the names start with their number
    STUDIES.clear()
    STUDIES.update(ordered)
    return study


def get_study(name: str) -> Study:
    """The registered study ``name`` (e.g. ``"01_model_complexity"``); a did-you-mean hint otherwise.

    Examples
    --------
    >>> get_study("01_model_complexity").package
    'model_complexity'
    """
    check_option("study", name, sorted(STUDIES))
    return STUDIES[name]
