"""Attribution methods behind one contract: ``attribute(model, x, target) -> Tensor`` shaped like ``x``."""
from ._gradient import SaliencyExplainer
from ._registry import EXPLAINERS, Explainer, get_explainer, register_explainer

__all__ = ["EXPLAINERS", "Explainer", "SaliencyExplainer", "get_explainer", "register_explainer"]
