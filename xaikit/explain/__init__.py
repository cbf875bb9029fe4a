"""Attribution methods behind one contract: ``attribute(model, x, target) -> Tensor`` shaped like ``x``.

Registered names: saliency, input_x_gradient, integrated_gradients, gradient_shap, smoothgrad,
deeplift, guided_backprop, occlusion, lime, rise, grad_cam, guided_grad_cam, hires_cam,
grad_cam_plus_plus, score_cam, lrp, shap_partition, counterfactual, prototype (on a ProtoPNet), and for vision
transformers attention_last, attention_rollout, attention_grad_rollout. ``class_maps`` gives one map per class
per image. captum, zennit and shap are imported only when a method runs.
"""
from ._attention import (
    HEAD_FUSIONS,
    AttentionGradRollout,
    AttentionLast,
    AttentionRollout,
    attention_modules,
    capture_attention,
    grad_rollout,
    rollout,
)
from ._cam import GradCam, GuidedGradCam, default_cam_layer
from ._cam_variants import GradCamPlusPlus, HiResCam, ScoreCam, layer_activation_and_gradient
from ._class_maps import class_maps
from ._common import CHANNEL_SUMS, reduce_channels
from ._counterfactual import Counterfactual, counterfactual_quality, total_variation
from ._gradient import GradientShap, InputXGradient, IntegratedGradients, Saliency, SmoothGrad
from ._lrp import LRP, canonizers_for, no_inplace
from ._model_free import MODEL_FREE_MAPS, autocorrelation_length, model_free_map
from ._perturbation import Lime, Occlusion, grid_segments
from ._propagation import DeepLift, GuidedBackprop
from ._prototype import PrototypeMap
from ._registry import EXPLAINERS, Explainer, get_explainer, register_explainer
from ._rise import Rise, rise_masks
from ._shap import ShapPartition

__all__ = ["AttentionGradRollout", "AttentionLast", "AttentionRollout", "CHANNEL_SUMS", "Counterfactual",
           "DeepLift", "EXPLAINERS", "Explainer", "GradCam", "GradCamPlusPlus", "GradientShap", "GuidedBackprop",
           "GuidedGradCam", "HEAD_FUSIONS", "HiResCam", "InputXGradient", "IntegratedGradients", "LRP", "Lime",
           "MODEL_FREE_MAPS", "Occlusion", "PrototypeMap", "Rise", "Saliency", "ScoreCam", "ShapPartition",
           "SmoothGrad", "attention_modules", "autocorrelation_length", "canonizers_for", "capture_attention",
           "class_maps", "counterfactual_quality", "default_cam_layer", "get_explainer", "grad_rollout",
           "grid_segments", "layer_activation_and_gradient", "model_free_map", "no_inplace", "reduce_channels",
           "register_explainer", "rise_masks", "rollout", "total_variation"]
