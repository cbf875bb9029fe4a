"""Grad-CAM and Guided Grad-CAM through captum, with the target layer chosen per architecture."""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_option
from ._base import BaseExplainer
from ._propagation import captum_hook_notices_off
from ._registry import register_explainer

__all__ = ["GradCam", "GuidedGradCam", "default_cam_layer"]


def default_cam_layer(model: nn.Module) -> str:
    """The name of the module whose output Grad-CAM explains, chosen by architecture.

    ResNets (torchvision and paper 003's): ``layer4``; DenseNet: ``features`` (its output is norm5,
    before the functional ReLU); Inception-v3: ``Mixed_7c``; otherwise the last ``Conv2d``.
    """
    children = dict(model.named_children())
    for name in ("layer4", "Mixed_7c", "features"):
        if name in children:
            return name
    convs = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError(f"grad_cam needs a convolutional layer; {type(model).__name__} has none")
    return convs[-1]


def _resolve_layer(model: nn.Module, layer: str | None, context: str = "grad_cam") -> nn.Module:
    name = layer if layer is not None else default_cam_layer(model)
    names = [n for n, _ in model.named_modules() if n]
    check_option("layer", name, names, context=context)
    return model.get_submodule(name)


def _spread_channels(cam: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) map → shaped like x, divided evenly over channels (a channel sum gives the map back)."""
    return (cam / x.shape[1]).expand_as(x).contiguous()


@register_explainer("grad_cam")
class GradCam(BaseExplainer):
    """Grad-CAM (Selvaraju et al. 2017) via captum's ``LayerGradCam``, upsampled to the input size.

    Parameters
    ----------
    layer : dotted name of the module to explain (default: per architecture, see ``default_cam_layer``).
    relu : apply the paper's ReLU; captum's default (False) keeps negative evidence, a signed map.
    interpolation : "bilinear" (smooth; few ties) or "nearest" (blocky; many ties for rank metrics).
    """

    def __init__(self, layer: str | None = None, relu: bool = False, interpolation: str = "bilinear") -> None:
        self.layer = layer
        self.relu = bool(relu)
        self.interpolation = check_option("interpolation", interpolation, ("bilinear", "nearest"), context="grad_cam")

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        from captum.attr import LayerAttribution, LayerGradCam

        cam = LayerGradCam(model, _resolve_layer(model, self.layer)).attribute(
            x, target=target, relu_attributions=self.relu)
        cam = LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), interpolate_mode=self.interpolation)
        return _spread_channels(cam, x)


@register_explainer("guided_grad_cam")
class GuidedGradCam(BaseExplainer):
    """Guided Grad-CAM (Selvaraju et al. 2017): guided backpropagation times the upsampled Grad-CAM (captum)."""

    def __init__(self, layer: str | None = None) -> None:
        self.layer = layer

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        from captum.attr import GuidedGradCam as _GGC

        with captum_hook_notices_off():
            return _GGC(model, _resolve_layer(model, self.layer)).attribute(x, target=target)
