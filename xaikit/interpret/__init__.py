"""Interpretable-by-design models, global surrogates and feature visualisation.

Prototype networks (training; the model is :class:`xaikit.models.ProtoPNet`, its explainer ``prototype``),
concept bottlenecks on the phantom generators' ground-truth concepts, decision-tree surrogates of a model's
predictions, and class-logit maximisation scored against the phantom's mean lesion template.
scikit-learn is imported only when a surrogate is fitted.
"""
from ._concepts import (
    ZONES,
    ConceptBottleneck,
    concept_accuracy,
    fit_concept_bottleneck,
    intervention_curve,
    phantom_concepts,
)
from ._featvis import class_template, feature_visualisation, template_correlation
from ._prototypes import fit_protopnet, prototype_costs
from ._surrogate import SurrogateTree, fit_surrogate

__all__ = ["ZONES", "ConceptBottleneck", "SurrogateTree", "class_template", "concept_accuracy",
           "feature_visualisation", "fit_concept_bottleneck", "fit_protopnet", "fit_surrogate",
           "intervention_curve", "phantom_concepts", "prototype_costs", "template_correlation"]
