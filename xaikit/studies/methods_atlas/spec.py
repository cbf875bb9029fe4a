"""Specification of study 4, the methods atlas (issue 21): every method against every criterion, on ground truth."""
from .._spec import Param, Study, register_study

#: Model-free baselines a run may score beside the explainers (the keys of ``xaikit.explain.MODEL_FREE_MAPS``).
ATLAS_BASELINES = ("random", "smoothed_random", "sobel", "laplace", "intensity", "organ", "random_in_organ",
                   "centre", "evidence")

#: The atlas runs on the chest lesion phantom only: its exact lesion masks, organ masks and shortcut marker are the
#: ground truth every criterion needs (no real dataset has all three), so a ``data_root`` is noted and not read.
DATASET = "chest_covid"

STUDY = register_study(Study(
    name="04_methods_atlas",
    title="Study 4 — the methods atlas: every method against every criterion, on ground truth",
    package="methods_atlas",
    paper="arun2021assessing",
    published=("adebayo_randomisation", "arun_criteria", "arun_localisation", "chexlocalize_localisation",
               "venkatesh_criteria"),
    params={
        "difficulty": Param("choice", ("easy", "default", "hard")),
        "archs": Param("list", registry="models", help="architectures trained from scratch, each seed"),
        "shortcut_arch": Param("choice", registry="models",
                               help="trained on marker-carrying data: the known-wrong case"),
        "methods": Param("list", registry="explainers", help="explainers, run with their documented defaults"),
        "baselines": Param("list", ATLAS_BASELINES, help="model-free maps; 'evidence' is the ceiling"),
        "seed_count": Param("int", min_value=1, max_value=50,
                            help="seeds seed, seed+1, ...: each a new data set and new models"),
        "n_images": Param("int", min_value=20),
        "test_share": Param("float", min_value=0.05, max_value=0.5,
                            help="share held out for testing (validation 0.2, training the rest), as study 1"),
        "image_size": Param("int", min_value=32, max_value=1024),
        "epochs": Param("int", min_value=1, max_value=1000, help="the most epochs (with early_stopping: a cap)"),
        "early_stopping": Param("int", min_value=0, max_value=1000,
                                help="stop after this many epochs without a lower validation loss; 0 = off"),
        "batch_size": Param("int", min_value=1, max_value=4096),
        "lr": Param("float", min_value=0.0, max_value=10.0),
        "n_explain": Param("int", min_value=2, help="COVID-19 test images explained per seed"),
        "n_costly": Param("int", min_value=1, help="of those, images for faithfulness, randomisation, robustness"),
        "faith_steps": Param("int", min_value=1, max_value=1000, help="deletion / insertion steps"),
        "sens_samples": Param("int", min_value=1, max_value=1000, help="noisy copies per image (max-sensitivity)"),
        "agreement_measure": Param("choice", ("ssim", "spearman", "top_k_iou"),
                                   help="repeatability / reproducibility similarity (Arun et al.: SSIM)"),
        "agreement_threshold": Param("float", min_value=-1.0, max_value=1.0,
                                     help="repeatability / reproducibility pass when the interval lies above it"),
    },
))
