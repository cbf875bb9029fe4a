"""Attribution methods behind one contract: ``attribute(model, x, target) -> Tensor`` shaped like ``x``.

Registered names: saliency, input_x_gradient, integrated_gradients, gradient_shap, smoothgrad,
occlusion, lime, grad_cam, guided_grad_cam, lrp, shap_partition. ``class_maps`` gives one map per
class per image. captum, zennit and shap are imported only when a method runs.
"""
from ._cam import GradCam, GuidedGradCam, default_cam_layer
from ._class_maps import class_maps
from ._common import CHANNEL_REDUCTIONS, reduce_channels
from ._gradient import GradientShap, InputXGradient, IntegratedGradients, Saliency, SmoothGrad
from ._lrp import LRP, canonizers_for, no_inplace
from ._model_free import MODEL_FREE_MAPS, autocorrelation_length, model_free_map
from ._perturbation import Lime, Occlusion, grid_segments
from ._registry import EXPLAINERS, Explainer, get_explainer, register_explainer
from ._shap import ShapPartition

__all__ = ["CHANNEL_REDUCTIONS", "EXPLAINERS", "Explainer", "GradCam", "GradientShap", "GuidedGradCam",
           "InputXGradient", "IntegratedGradients", "LRP", "Lime", "MODEL_FREE_MAPS", "Occlusion", "Saliency",
           "ShapPartition", "SmoothGrad", "canonizers_for", "class_maps", "default_cam_layer", "get_explainer",
           "autocorrelation_length", "grid_segments", "model_free_map", "no_inplace", "reduce_channels",
           "register_explainer"]
