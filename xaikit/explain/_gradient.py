"""Gradient explainers wrapping captum, with the sign convention explicit."""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_option
from ._registry import register_explainer

__all__ = ["SaliencyExplainer"]


def _prepare(model: nn.Module, x: torch.Tensor, target: torch.Tensor | int) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"x must be a tensor of shape (N, C, H, W), got {getattr(x, 'shape', type(x))}")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or infinite values")
    target = torch.as_tensor(target, device=x.device).long()
    if target.ndim == 0:
        target = target.expand(x.shape[0])
    if target.shape != (x.shape[0],):
        raise ValueError(f"target must be an int or a tensor of shape ({x.shape[0]},), got {tuple(target.shape)}")
    return x, target


@register_explainer("saliency")
class SaliencyExplainer:
    """Saliency (Simonyan et al. 2014): the gradient of the target logit with respect to the input.

    Parameters
    ----------
    sign : "signed" keeps the gradient's sign (paper 003's ``Saliency(abs=False)``);
        "absolute" returns |gradient| (captum's default and the paper's equation).
    """

    def __init__(self, sign: str = "signed") -> None:
        self.sign = check_option("sign", sign, ("signed", "absolute"), context="saliency")

    def attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor | int) -> torch.Tensor:
        from captum.attr import Saliency

        x, target = _prepare(model, x, target)
        x = x.detach().clone().requires_grad_(True)
        was_training = model.training
        model.eval()
        try:
            out = Saliency(model).attribute(x, target=target, abs=self.sign == "absolute")
        finally:
            model.train(was_training)
        return out.detach()
