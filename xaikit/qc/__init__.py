"""Quality control of a multi-label classifier's predictions: INFORMER (paper 002) and its baselines.

A monitor scores every (image, class) prediction, flags those beyond a per-class threshold fitted on
validation data, and acts on the flags — flip (paper 002's "swapping", the default), defer to an
expert (an oracle), or abstain::

    monitor = Informer("input_x_gradient").fit(y_val, pred_val, model=model, x=x_val)
    flags = monitor.flag(model=model, x=x_test)
    pred_after = monitor.apply(pred_test, flags)

Scores: :func:`class_distinctiveness` of class-specific saliency maps (INFORMER),
:func:`predictive_entropy` (eq. 2) and :func:`tta_uncertainty` (test-time augmentation).
Evaluation: :func:`qc_metrics`, :func:`bootstrap_qc` (30 bootstrapped test sets), :func:`qc_ttests`
(paired t-tests), :func:`error_detection` (AUROC and reliability bins of a score for wrong predictions).
"""
from ._baselines import TTA_PAPER002, predictive_entropy, tta_logits, tta_uncertainty
from ._distinctiveness import SIGNS, ZERO_NORM_POLICIES, class_distinctiveness
from ._evaluate import bootstrap_indices, bootstrap_qc, error_detection, qc_metrics, qc_ttests, significance_stars
from ._monitor import EntropyMonitor, Informer, ThresholdMonitor, TTAMonitor
from ._thresholds import ACTIONS, DIRECTIONS, ThresholdSearch, apply_flags, f1_after_action, search_threshold

__all__ = ["ACTIONS", "DIRECTIONS", "SIGNS", "TTA_PAPER002", "ZERO_NORM_POLICIES", "EntropyMonitor", "Informer",
           "TTAMonitor", "ThresholdMonitor", "ThresholdSearch", "apply_flags", "bootstrap_indices", "bootstrap_qc",
           "class_distinctiveness", "error_detection", "f1_after_action", "predictive_entropy", "qc_metrics",
           "qc_ttests", "search_threshold", "significance_stars", "tta_logits", "tta_uncertainty"]
