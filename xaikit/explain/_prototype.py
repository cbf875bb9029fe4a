"""Prototype-similarity maps of a ProtoPNet-style model, upsampled to the image."""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_option
from ._base import BaseExplainer
from ._registry import register_explainer

__all__ = ["PrototypeMap"]


@register_explainer("prototype")
class PrototypeMap(BaseExplainer):
    """Prototype similarity (Chen et al. 2019, "This looks like that"): where the image resembles the
    target class's prototypes.

    For a model with ``similarity_maps(x) -> (N, M, h, w)`` and ``prototype_class`` (M,) (a
    :class:`xaikit.models.ProtoPNet`), the map is the sum over the target class's prototypes ``j`` of
    ``w[t, j] * sim_j``, with ``w`` the last layer's weights (``weighting="last_layer"``: the part of the
    target logit each position could carry), or their plain mean (``"mean"``), or their maximum (``"max"``).
    The (h, w) map is upsampled to the image and divided evenly over channels (a channel sum gives it
    back). Similarities are non-negative, so with ``"mean"``/``"max"`` the map is too.

    Parameters
    ----------
    weighting : "last_layer", "mean" or "max".
    interpolation : "bilinear" or "nearest".
    """

    def __init__(self, weighting: str = "last_layer", interpolation: str = "bilinear") -> None:
        self.weighting = check_option("weighting", weighting, ("last_layer", "mean", "max"), context="prototype")
        self.interpolation = check_option("interpolation", interpolation, ("bilinear", "nearest"),
                                          context="prototype")

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if not (hasattr(model, "similarity_maps") and hasattr(model, "prototype_class")):
            raise ValueError(f"model of prototype must be a prototype network (with similarity_maps and "
                             f"prototype_class, e.g. xaikit.models.ProtoPNet), got {type(model).__name__}")
        with torch.no_grad():
            sim = model.similarity_maps(x.detach())
            own = (model.prototype_class[None, :] == target[:, None]).to(sim.dtype)  # (N, M)
            if self.weighting == "last_layer":
                w = model.last_layer.weight[target] * own
                cam = torch.einsum("nm,nmhw->nhw", w, sim)
            elif self.weighting == "mean":
                cam = torch.einsum("nm,nmhw->nhw", own / own.sum(1, keepdim=True), sim)
            else:
                cam = torch.where(own[:, :, None, None] > 0, sim, torch.full_like(sim, float("-inf"))).amax(1)
            cam = nn.functional.interpolate(cam[:, None], size=tuple(x.shape[-2:]), mode=self.interpolation,
                                            **({"align_corners": False} if self.interpolation == "bilinear" else {}))
        return (cam / x.shape[1]).expand_as(x).contiguous()
