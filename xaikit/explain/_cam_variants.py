"""Grad-CAM's relatives on the same layer choice: HiResCAM, Grad-CAM++ and Score-CAM (own implementations).

All three read the activations ``A`` (N, K, h, w) of the layer :func:`default_cam_layer` picks (or
``layer``), combine them into one (N, 1, h, w) map, upsample it to the input and spread it evenly over
the input's channels (a channel sum gives the map back), as ``grad_cam`` does.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_int, check_option
from ._base import BaseExplainer
from ._cam import _resolve_layer, _spread_channels
from ._registry import register_explainer

__all__ = ["HiResCam", "GradCamPlusPlus", "ScoreCam", "layer_activation_and_gradient"]

INTERPOLATIONS = ("bilinear", "nearest")


def _layer_forward(model: nn.Module, layer: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits, the layer's output) from one forward pass.

    The hook hands the rest of the network a copy, so an in-place operation after the layer (DenseNet's
    functional ReLU) cannot change the captured activations.
    """
    store: list[torch.Tensor] = []

    def hook(module, inputs, output):
        store.append(output)
        return output.clone()

    handle = layer.register_forward_hook(hook)
    try:
        out = model(x)
    finally:
        handle.remove()
    return out, store[-1]


def layer_activation_and_gradient(model: nn.Module, layer: nn.Module, x: torch.Tensor,
                                  target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The layer's activations ``A`` and the target logits' gradient ``∂f_t/∂A``, both (N, K, h, w), detached."""
    out, act = _layer_forward(model, layer, x)
    (grad,) = torch.autograd.grad(out.gather(1, target[:, None]).sum(), act)
    return act.detach(), grad


def _upsample(cam: torch.Tensor, x: torch.Tensor, mode: str) -> torch.Tensor:
    cam = F.interpolate(cam, size=tuple(x.shape[-2:]), mode=mode,
                        **({"align_corners": False} if mode == "bilinear" else {}))
    return _spread_channels(cam, x)


class _CamBase(BaseExplainer):
    def __init__(self, layer: str | None = None, relu: bool = False, interpolation: str = "bilinear") -> None:
        if layer is not None and not isinstance(layer, str):
            raise ValueError(f"layer of {self.name} must be a module name (str) or None, got {layer!r}")
        if not isinstance(relu, bool):
            raise ValueError(f"relu of {self.name} must be a bool, got {relu!r}")
        self.layer = layer
        self.relu = relu
        self.interpolation = check_option("interpolation", interpolation, INTERPOLATIONS, context=self.name)

    def _finish(self, cam: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return _upsample(cam.clamp(min=0) if self.relu else cam, x, self.interpolation)


@register_explainer("hires_cam")
class HiResCam(_CamBase):
    """HiResCAM (Draelos & Carin 2020): the element-wise gradient × activation summed over channels.

    ``L = Σ_k ∂f_t/∂A^k ⊙ A^k``. Unlike Grad-CAM it does not average the gradient over space, so for a
    head that is linear in ``A`` (global average pooling then a dense layer) the map on the layer's grid
    sums to the logit minus the bias. Signed unless ``relu=True`` (the paper shows the signed map).

    Parameters
    ----------
    layer : dotted module name (default: per architecture, :func:`default_cam_layer`).
    relu : clip negative evidence.
    interpolation : "bilinear" or "nearest" upsampling.
    """

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        act, grad = layer_activation_and_gradient(model, _resolve_layer(model, self.layer, self.name), x, target)
        return self._finish((grad * act).sum(dim=1, keepdim=True), x)


@register_explainer("grad_cam_plus_plus")
class GradCamPlusPlus(_CamBase):
    """Grad-CAM++ (Chattopadhay et al. 2018): channel weights from positive gradients, pixel-weighted.

    With ``g = ∂f_t/∂A`` and the paper's closed form for an exponential output ``Y = exp(f_t)``,
    ``α^k_ij = g² / (2 g² + Σ_ab A^k_ab g³)`` (0 where the denominator is 0) and
    ``w_k = Σ_ij α^k_ij relu(g^k_ij)``; the map is ``Σ_k w_k A^k``. The paper's weights carry an extra
    factor ``exp(f_t)`` per image, dropped here as in the common implementations (a per-image scale).
    Signed unless ``relu=True`` (the paper's final ReLU).

    Parameters
    ----------
    layer, relu, interpolation : as for :class:`HiResCam`.
    """

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        act, grad = layer_activation_and_gradient(model, _resolve_layer(model, self.layer, self.name), x, target)
        g2 = grad.pow(2)
        denom = 2 * g2 + act.sum(dim=(2, 3), keepdim=True) * grad.pow(3)
        alpha = torch.where(denom != 0, g2 / torch.where(denom != 0, denom, torch.ones_like(denom)),
                            torch.zeros_like(denom))
        weights = (alpha * grad.clamp(min=0)).sum(dim=(2, 3), keepdim=True)
        return self._finish((weights * act).sum(dim=1, keepdim=True), x)


@register_explainer("score_cam")
class ScoreCam(_CamBase):
    """Score-CAM (Wang et al. 2020): channels weighted by the score of the input masked with each of them.

    Each channel ``A^k`` is upsampled to the input and min-max normalised to a mask ``M^k`` in [0, 1]
    (a constant channel gives an all-zero mask); the input ``x ⊙ M^k`` is scored, the scores are turned
    into weights with a softmax over channels, and the map is ``Σ_k w_k A^k``. Gradient-free; costs one
    forward pass per channel per image (``batch_size`` masked images per pass). The paper's baseline
    score (of a blank image) is a constant per image and cancels in the softmax. Signed unless ``relu=True``.

    Parameters
    ----------
    layer, relu, interpolation : as for :class:`HiResCam`.
    score : "probability" (the softmax probability of the target, the paper) or "logit".
    batch_size : masked images per forward pass.
    """

    def __init__(self, layer: str | None = None, relu: bool = False, interpolation: str = "bilinear",
                 score: str = "probability", batch_size: int = 64) -> None:
        super().__init__(layer, relu, interpolation)
        self.score = check_option("score", score, ("probability", "logit"), context="score_cam")
        self.batch_size = check_int("batch_size", batch_size, min_value=1, context="score_cam")

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        layer = _resolve_layer(model, self.layer, self.name)
        with torch.no_grad():
            _, act = _layer_forward(model, layer, x)
            up = F.interpolate(act, size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False)
            lo, hi = up.amin(dim=(2, 3), keepdim=True), up.amax(dim=(2, 3), keepdim=True)
            span = hi - lo
            masks = torch.where(span > 0, (up - lo) / torch.where(span > 0, span, torch.ones_like(span)),
                                torch.zeros_like(up))
            scores = torch.empty(act.shape[:2], dtype=x.dtype, device=x.device)
            for i in range(len(x)):
                for start in range(0, act.shape[1], self.batch_size):
                    m = masks[i, start:start + self.batch_size, None]  # (k, 1, H, W), broadcast over channels
                    out = model(x[i:i + 1].detach() * m)
                    s = out.softmax(dim=1) if self.score == "probability" else out
                    scores[i, start:start + len(m)] = s[:, int(target[i])]
            weights = scores.softmax(dim=1)[:, :, None, None]
            return self._finish((weights * act).sum(dim=1, keepdim=True), x)
