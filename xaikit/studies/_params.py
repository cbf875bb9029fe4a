"""Parameter specifications of the study notebooks, and their validation.

A notebook's second cell calls :func:`validate_params` with the study name and the
values of its ``parameters`` cell; the CLI calls it before starting papermill, so a
bad value fails in a second with a message naming the parameter.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._validation import check_float, check_int, check_option, did_you_mean

__all__ = ["Param", "STUDY_PARAMS", "validate_params"]


@dataclass(frozen=True)
class Param:
    """One notebook parameter: a kind ("int", "float", "str", "choice", "list", "path"), bounds or choices.

    A "list" parameter holds one or more distinct items, each one of ``choices``; it accepts a list
    or tuple, or a comma-separated string (what ``-p archs resnet18,resnet34`` gives on the command
    line), and :meth:`check` returns it as a list.
    """

    kind: str
    choices: tuple[Any, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    nullable: bool = False

    def check(self, name: str, value: Any, context: str) -> Any:
        if value is None:
            if self.nullable:
                return None
            raise ValueError(f"parameter {name!r} of {context} must not be None")
        if self.kind == "choice":
            return check_option(f"parameter {name!r}", value, self.choices, context=context)
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
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",")]
        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError(f"parameter {name!r} of {context} must be a non-empty list (or a comma-separated "
                             f"string) of {', '.join(map(repr, self.choices))}; got {value!r}")
        for item in value:
            check_option(f"each item of parameter {name!r}", item, self.choices, context=context)
        duplicates = sorted({v for v in value if list(value).count(v) > 1})
        if duplicates:
            raise ValueError(f"parameter {name!r} of {context} lists {', '.join(map(repr, duplicates))} more than once")
        return list(value)


def _model_names() -> tuple[str, ...]:
    from ..models import MODELS

    return tuple(sorted(MODELS))


PHANTOMS = ("chest_covid", "chest_multilabel", "brain_mri", "lung_ct")

STUDY_PARAMS: dict[str, dict[str, Param]] = {
    "00_phantoms": {
        "profile": Param("choice", ("smoke", "default", "paper", "custom")),
        "image_size": Param("int", min_value=32, max_value=1024),
        "n_per_class": Param("int", min_value=1, max_value=16),
        "seed": Param("int", min_value=0),
        "device": Param("choice", ("auto", "cpu", "cuda")),
        "data_root": Param("path", nullable=True),
        "output_dir": Param("path"),
    },
    "01_model_complexity": {
        "profile": Param("choice", ("smoke", "default", "paper", "custom")),
        "dataset": Param("choice", ("chest_covid", "covid-qu-ex")),
        "data_root": Param("path", nullable=True),
        "difficulty": Param("choice", ("easy", "default", "hard")),  # of the phantom; ignored for real data
        "archs": Param("list", ()),  # filled from the model registry at validation time
        "methods": Param("list", ("saliency", "gradient_shap", "integrated_gradients")),
        "ig_steps": Param("int", min_value=1, max_value=1000),
        "ig_method": Param("choice", ("riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle",
                                      "gausslegendre")),
        "gs_samples": Param("int", min_value=1, max_value=1000),
        "gs_stdevs": Param("float", min_value=0.0, max_value=10.0),
        "n_images": Param("int", min_value=20),
        "image_size": Param("int", min_value=32, max_value=1024),
        "epochs": Param("int", min_value=1, max_value=1000),
        "batch_size": Param("int", min_value=1, max_value=4096),
        "optimizer": Param("choice", ("sgd", "adam")),
        "lr": Param("float", min_value=0.0, max_value=10.0),
        "momentum": Param("float", min_value=0.0, max_value=1.0),
        "n_explain": Param("int", min_value=1),
        "n_sanity": Param("int", min_value=1, max_value=64),
        "n_boot": Param("int", min_value=100, max_value=100_000),
        "seed": Param("int", min_value=0),
        "device": Param("choice", ("auto", "cpu", "cuda")),
        "output_dir": Param("path"),
    },
    "02_informer_qc": {
        "profile": Param("choice", ("smoke", "default", "paper", "custom")),
        "dataset": Param("choice", ("chest_multilabel", "chexpert")),
        "data_root": Param("path", nullable=True),
        "difficulty": Param("choice", ("easy", "default", "hard")),  # of the phantom; ignored for real data
        "label_noise": Param("float", min_value=0.0, max_value=0.5),  # of the phantom's observed labels
        "arch": Param("choice", ("densenet121", "resnet18", "smallcnn")),
        "weights": Param("path", nullable=True),  # a local state_dict to start from (e.g. ImageNet); else scratch
        "methods": Param("list", ("input_x_gradient", "lrp", "saliency", "integrated_gradients", "gradient_shap",
                                  "smoothgrad", "grad_cam")),
        "n_images": Param("int", min_value=30),
        "image_size": Param("int", min_value=32, max_value=1024),
        "epochs": Param("int", min_value=1, max_value=1000),
        "batch_size": Param("int", min_value=1, max_value=4096),
        "lr": Param("float", min_value=0.0, max_value=10.0),
        "augment": Param("choice", ("none", "light", "paper002")),
        "tta_copies": Param("int", min_value=2, max_value=256),
        "action": Param("choice", ("flip", "defer", "abstain")),
        "direction": Param("choice", ("auto", "below", "above")),
        "step": Param("float", min_value=1e-6, max_value=1.0),
        "n_boot": Param("int", min_value=2, max_value=10_000),
        "n_show": Param("int", min_value=1, max_value=16),
        "seed": Param("int", min_value=0),
        "device": Param("choice", ("auto", "cpu", "cuda")),
        "output_dir": Param("path"),
    },
    "03_shap_transfer": {
        "profile": Param("choice", ("smoke", "default", "paper", "custom")),
        "dataset": Param("choice", ("brain_mri", "brain-tumor-mri")),  # the training domain
        "foreign_dataset": Param("choice", ("lung_ct", "iq-oth-nccd")),  # explained without retraining
        "data_root": Param("path", nullable=True),  # one folder holding both real datasets
        "difficulty": Param("choice", ("easy", "default", "hard")),  # of the phantoms; ignored for real data
        "arch": Param("choice", ("inception_v3", "resnet18", "smallcnn")),
        "n_images": Param("int", min_value=40),  # brain phantom images (all splits); real data: every image
        "n_foreign": Param("int", min_value=3),  # foreign images (phantom count; real data: a stratified sample)
        "image_size": Param("int", min_value=32, max_value=1024),
        "epochs": Param("int", min_value=1, max_value=1000),
        "batch_size": Param("int", min_value=2, max_value=4096),
        "lr": Param("float", min_value=0.0, max_value=10.0),
        "amsgrad": Param("choice", (True, False)),
        "plateau_patience": Param("int", min_value=0, max_value=1000),
        "early_stopping": Param("int", min_value=0, max_value=1000),  # 0 = off
        "augmentation": Param("choice", ("none", "light", "paper004")),
        "max_evals": Param("int", min_value=10, max_value=100_000),
        "top_k": Param("int", min_value=1, max_value=4),
        "n_explain": Param("int", min_value=1, max_value=1000),  # SHAP-explained images per class and domain
        "gradient_method": Param("choice", ("saliency", "input_x_gradient", "integrated_gradients")),
        "shortcut_share": Param("float", min_value=0.0, max_value=1.0),  # pituitary images with the marker
        "n_boot": Param("int", min_value=100, max_value=100_000),
        "seed": Param("int", min_value=0),
        "device": Param("choice", ("auto", "cpu", "cuda")),
        "output_dir": Param("path"),
    },
}


def validate_params(study: str, params: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Check every parameter of ``study``; return them unchanged if valid.

    Parameters
    ----------
    study : a key of ``STUDY_PARAMS`` (the notebook's file name without ``.ipynb``).
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
    check_option("study", study, sorted(STUDY_PARAMS))
    spec = dict(STUDY_PARAMS[study])
    if "archs" in spec:
        spec["archs"] = Param("list", _model_names())
    for name in params:
        if name not in spec:
            raise ValueError(f"{study} has no parameter {name!r}.{did_you_mean(name, spec)} "
                             f"Parameters: {', '.join(spec)}")
    if not partial:
        missing = [k for k in spec if k not in params]
        if missing:
            raise ValueError(f"{study} is missing parameters: {', '.join(missing)}")
    checked = dict(params)
    for name, value in params.items():
        value = spec[name].check(name, value, study)
        if spec[name].kind == "list":
            checked[name] = value
    if params.get("data_root") and params.get("dataset") in PHANTOMS:
        raise ValueError(
            f"parameter 'data_root' of {study} is set ({params['data_root']!r}) but parameter 'dataset' is the "
            f"{params['dataset']!r} phantom, which reads nothing from disk; choose a real dataset "
            f"(e.g. dataset='covid-qu-ex') or leave data_root unset"
        )
    if "dataset" in params and params["dataset"] not in PHANTOMS and not params.get("data_root") and not partial:
        raise ValueError(
            f"parameter 'dataset' of {study} is the real dataset {params['dataset']!r}, which needs parameter "
            f"'data_root': the folder you unpacked it into (data/README.md says where to get it and the layout)"
        )
    return checked
