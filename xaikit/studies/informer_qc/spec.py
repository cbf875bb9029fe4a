"""Specification of study 2 (paper 002, Shu et al. 2024, INFORMER)."""
from .._spec import REPLICATION_PARAM, Param, Study, register_study

STUDY = register_study(Study(
    name="02_informer_qc",
    title="Study 2 — INFORMER: can saliency maps tell when a prediction is wrong?",
    package="informer_qc",
    paper="shu2024informer",
    published=("table1_f1", "bootstrap_medians", "model", "classes"),
    params={
        "dataset": Param("choice", ("chest_multilabel", "chexpert")),
        "difficulty": Param("choice", ("easy", "default", "hard"), help="of the phantom; ignored for real data"),
        "label_noise": Param("float", min_value=0.0, max_value=0.5, help="of the phantom's observed labels"),
        "arch": Param("choice", registry="models", help="the inspected classifier (paper 002: densenet121)"),
        "weights": Param("path", nullable=True, help="a local state_dict to start from (e.g. ImageNet); else scratch"),
        "methods": Param("list", ("input_x_gradient", "lrp", "saliency", "integrated_gradients", "gradient_shap",
                                  "smoothgrad", "grad_cam"), help="saliency methods behind INFORMER's class maps"),
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
        "replication_dir": REPLICATION_PARAM,
    },
))
