"""Specification of study 3 (paper 004, Tsekanovskiy 2024)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._validation import check_option
from .._spec import REPLICATION_PARAM, Param, Study, register_study

__all__ = ["REAL_DOMAINS", "STUDY", "check_domains"]

REAL_DOMAINS = ("brain-tumor-mri", "iq-oth-nccd")


def check_domains(dataset: str, foreign_dataset: str, data_root: str | None) -> str:
    """Check that the training and foreign domains are both phantoms or both real; return "phantom" or "real".

    Both real datasets are read from one ``data_root`` that holds both archives (Brain Tumor MRI's
    ``Training/``/``Testing/`` or its ``brain-tumor-mri-dataset/`` folder, and ``The IQ-OTHNCCD
    lung cancer dataset/``; see data/README.md). Mixing a phantom with a real dataset is refused: a
    phantom-trained model on real CT (or the reverse) answers a different question.

    Examples
    --------
    >>> check_domains("brain_mri", "lung_ct", None)
    'phantom'
    >>> check_domains("brain_mri", "iq-oth-nccd", None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: dataset 'brain_mri' is a phantom but foreign_dataset 'iq-oth-nccd' is real; use both phantoms ...
    """
    ctx = "03_shap_transfer"
    check_option("dataset", dataset, ("brain_mri", "brain-tumor-mri"), context=ctx)
    check_option("foreign_dataset", foreign_dataset, ("lung_ct", "iq-oth-nccd"), context=ctx)
    real = (dataset in REAL_DOMAINS, foreign_dataset in REAL_DOMAINS)
    if real[0] != real[1]:
        kind = ["real" if r else "a phantom" for r in real]
        raise ValueError(f"dataset {dataset!r} is {kind[0]} but foreign_dataset {foreign_dataset!r} is "
                         f"{kind[1]}; use both phantoms "
                         f"(brain_mri, lung_ct) or both real datasets (brain-tumor-mri, iq-oth-nccd) with "
                         f"data_root holding both")
    if real[0] and not data_root:
        raise ValueError("dataset and foreign_dataset are real datasets and need data_root: one folder holding "
                         "both Brain Tumor MRI and IQ-OTH/NCCD (data/README.md gives the layouts)")
    if not real[0] and data_root:
        raise ValueError(f"data_root is set ({data_root!r}) but both domains are phantoms, which read nothing "
                         f"from disk; choose dataset='brain-tumor-mri' and foreign_dataset='iq-oth-nccd' or "
                         f"leave data_root unset")
    return "real" if real[0] else "phantom"


def _domains_rule(params: Mapping[str, Any]) -> None:
    check_domains(params["dataset"], params["foreign_dataset"], params.get("data_root"))


STUDY = register_study(Study(
    name="03_shap_transfer",
    title="Study 3 — SHAP for debugging a classifier and testing cross-domain transfer",
    package="shap_transfer",
    paper="tsekanovskiy_shap_debugging",
    published=("metrics", "notebook_test", "per_class", "table1_probabilities", "table2_probabilities",
               "xlsx_counts"),
    rules=(_domains_rule,),
    params={
        "dataset": Param("choice", ("brain_mri", "brain-tumor-mri"), help="the training domain"),
        "foreign_dataset": Param("choice", ("lung_ct", "iq-oth-nccd"), help="explained without retraining"),
        "difficulty": Param("choice", ("easy", "default", "hard"), help="of the phantoms; ignored for real data"),
        "arch": Param("choice", registry="models", help="the brain classifier (paper 004: inception_v3)"),
        "n_images": Param("int", min_value=40, help="brain phantom images (all splits); real data: every image"),
        "n_foreign": Param("int", min_value=3, help="foreign images (real data: a stratified sample)"),
        "image_size": Param("int", min_value=32, max_value=1024),
        "epochs": Param("int", min_value=1, max_value=1000),
        "batch_size": Param("int", min_value=2, max_value=4096),
        "lr": Param("float", min_value=0.0, max_value=10.0),
        "amsgrad": Param("choice", (True, False)),
        "plateau_patience": Param("int", min_value=0, max_value=1000),
        "early_stopping": Param("int", min_value=0, max_value=1000, help="0 = off"),
        "augmentation": Param("choice", ("none", "light", "paper004")),
        "max_evals": Param("int", min_value=10, max_value=100_000),
        "top_k": Param("int", min_value=1, max_value=4),
        "n_explain": Param("int", min_value=1, max_value=1000, help="SHAP-explained images per class and domain"),
        "gradient_method": Param("choice", ("saliency", "input_x_gradient", "integrated_gradients")),
        "shortcut_share": Param("float", min_value=0.0, max_value=1.0, help="pituitary images with the marker"),
        "n_boot": Param("int", min_value=100, max_value=100_000),
        "replication_dir": REPLICATION_PARAM,
    },
))
