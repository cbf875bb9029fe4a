"""Metric kernels: batched torch, per-sample scores, NaN with a recorded reason.

Every metric is ``(attributions, masks, ...) -> Tensor[N]`` (float64, on the attributions'
device). ``return_reasons=True`` returns a :class:`MetricResult` whose ``reasons()`` say why a
score is NaN. Faithfulness (deletion / insertion curves) also takes the model and the images; the
randomisation sanity check takes the model and an explainer and returns a tidy DataFrame. ROAD
(noisy linear imputation) and max-sensitivity batch their ``N * S`` forward (or explanation)
passes; map agreement (top-k IoU, Spearman, SSIM) serves repeatability, reproducibility and
Arun et al.'s random-pair floor. Quantus is
imported only when :class:`PositiveAttributionRatio` (a ``quantus.Metric``) is first accessed.

Every scoring function is registered in ``METRICS`` (``get_metric(name)``) with its kind
(localisation, faithfulness, randomisation, complexity) and the inputs it needs.
"""
from ._agreement import AGREEMENTS, agreement_table, map_agreement, random_pair_similarity, top_k_iou
from ._chance import random_attribution_scores, random_baseline
from ._checks import NAN_REASONS, MetricResult
from ._complexity import entropy, sparseness
from ._faithfulness import (
    FaithfulnessCurve,
    curve_auc,
    deletion_auc,
    deletion_curve,
    insertion_auc,
    insertion_curve,
)
from ._interop import run_on_quantus_inputs
from ._localisation import (
    attribution_localisation,
    energy_pointing_game,
    pointing_game,
    positive_attribution_ratio,
    relevance_mass_accuracy,
    relevance_rank_accuracy,
    top_k_intersection,
)
from ._randomisation import model_randomisation, randomisable_layers, spearman_correlation, ssim
from ._ranking import auprc, auroc
from ._regions import REGIONS, body_mask, image_regions, mass_fractions
from ._registry import INPUTS, KINDS, METRICS, RETURNS, MetricSpec, get_metric, register_metric
from ._road import noisy_linear_imputation, road
from ._robustness import max_sensitivity
from ._threshold import iou, otsu_threshold

__all__ = [
    "MetricResult", "NAN_REASONS",
    "relevance_rank_accuracy", "top_k_intersection", "relevance_mass_accuracy",
    "positive_attribution_ratio", "energy_pointing_game", "attribution_localisation",
    "pointing_game", "auroc", "auprc", "iou", "otsu_threshold", "sparseness", "entropy",
    "run_on_quantus_inputs", "PositiveAttributionRatio",
    "FaithfulnessCurve", "deletion_curve", "insertion_curve", "deletion_auc", "insertion_auc", "curve_auc",
    "model_randomisation", "randomisable_layers", "spearman_correlation", "ssim",
    "REGIONS", "body_mask", "image_regions", "mass_fractions", "random_baseline", "random_attribution_scores",
    "AGREEMENTS", "top_k_iou", "map_agreement", "agreement_table", "random_pair_similarity",
    "road", "noisy_linear_imputation", "max_sensitivity",
    "METRICS", "KINDS", "INPUTS", "RETURNS", "MetricSpec", "get_metric", "register_metric",
]


def __getattr__(name: str):
    if name == "PositiveAttributionRatio":  # a quantus.Metric: import quantus only now
        from ._quantus import PositiveAttributionRatio
        return PositiveAttributionRatio
    raise AttributeError(f"module 'xaikit.metrics' has no attribute {name!r}")
