"""Quality control of a multi-label classifier's predictions: INFORMER (paper 002) and its baselines.

A monitor scores every (image, class) prediction, flags those beyond a per-class threshold fitted on
validation data, and acts on the flags — flip (paper 002's "swapping", the default), defer to an
expert (an oracle), or abstain::

    monitor = Informer("input_x_gradient").fit(y_val, pred_val, model=model, x=x_val)
    flags = monitor.flag(model=model, x=x_test)
    pred_after = monitor.apply(pred_test, flags)

Scores: :func:`class_distinctiveness` of class-specific saliency maps (INFORMER),
:func:`predictive_entropy` (eq. 2) and :func:`tta_uncertainty` (test-time augmentation).
Evaluation: :func:`qc_metrics`; :func:`error_detection_auroc` (per-class and pooled AUROC of a score for
wrong predictions, declared or validation-learned direction, bootstrap CIs); the references
:func:`reference_predictions` / :func:`reference_table` (no QC, flip all, oracle, random flags at a monitor's
rate) and :func:`beats_random`; :func:`paired_bootstrap_f1` (paired CI over images of F1 differences);
:func:`qc_conclusion` (the verdict sentences). Paper 002's protocol: :func:`bootstrap_qc` (30 bootstrapped
test sets) and :func:`qc_ttests` (paired t-tests over them); :func:`error_detection` (reliability bins).
"""
from ._baselines import TTA_PAPER002, predictive_entropy, tta_logits, tta_uncertainty
from ._conclusion import REGIME, qc_conclusion
from ._detection import AUROC_DIRECTIONS, DECLARED_DIRECTIONS, declared_direction, error_detection_auroc
from ._distinctiveness import SIGNS, ZERO_NORM_POLICIES, class_distinctiveness
from ._evaluate import bootstrap_indices, bootstrap_qc, error_detection, qc_metrics, qc_ttests, significance_stars
from ._monitor import EntropyMonitor, Informer, ThresholdMonitor, TTAMonitor
from ._paired import paired_bootstrap_f1
from ._references import beats_random, random_flags_f1, reference_predictions, reference_table
from ._thresholds import ACTIONS, DIRECTIONS, ThresholdSearch, apply_flags, f1_after_action, search_threshold

__all__ = ["ACTIONS", "AUROC_DIRECTIONS", "DECLARED_DIRECTIONS", "DIRECTIONS", "REGIME", "SIGNS", "TTA_PAPER002",
           "ZERO_NORM_POLICIES", "EntropyMonitor", "Informer", "TTAMonitor", "ThresholdMonitor", "ThresholdSearch",
           "apply_flags", "beats_random", "bootstrap_indices", "bootstrap_qc", "class_distinctiveness",
           "declared_direction", "error_detection", "error_detection_auroc", "f1_after_action",
           "paired_bootstrap_f1", "predictive_entropy", "qc_conclusion", "qc_metrics", "qc_ttests",
           "random_flags_f1", "reference_predictions", "reference_table", "search_threshold",
           "significance_stars", "tta_logits", "tta_uncertainty"]
