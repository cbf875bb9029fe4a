"""Perturbation explainers wrapping captum: Occlusion and LIME."""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_float, check_int
from ._base import BaseExplainer
from ._registry import register_explainer

__all__ = ["Occlusion", "Lime", "grid_segments"]


def grid_segments(height: int, width: int, cell: int, device: torch.device | None = None) -> torch.Tensor:
    """A (1, 1, H, W) long tensor labelling square cells of side ``cell`` (LIME's superpixels)."""
    rows = torch.arange(height, device=device) // cell
    cols = torch.arange(width, device=device) // cell
    n_cols = (width + cell - 1) // cell
    return (rows[:, None] * n_cols + cols[None, :])[None, None]


@register_explainer("occlusion")
class Occlusion(BaseExplainer):
    """Occlusion (Zeiler & Fergus 2014): the drop of the target logit when a patch is replaced by a baseline.

    Parameters
    ----------
    window : side of the square patch, in pixels.
    stride : step between patches (default: ``window // 2``).
    baseline : value patches are replaced with.
    perturbations_per_eval : occluded copies per forward pass.
    """

    def __init__(self, window: int = 8, stride: int | None = None, baseline: float = 0.0,
                 perturbations_per_eval: int = 16) -> None:
        self.window = check_int("window", window, min_value=1, context="occlusion")
        self.stride = check_int("stride", stride if stride is not None else max(1, window // 2), min_value=1,
                                context="occlusion")
        self.baseline = check_float("baseline", baseline, context="occlusion")
        self.perturbations_per_eval = check_int("perturbations_per_eval", perturbations_per_eval, min_value=1,
                                                context="occlusion")

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        from captum.attr import Occlusion as _Occlusion

        if self.window > min(x.shape[-2:]):
            raise ValueError(f"window of occlusion must be <= the image size {tuple(x.shape[-2:])}, got {self.window}")
        c = x.shape[1]
        with torch.no_grad():
            return _Occlusion(model).attribute(
                x.detach(), sliding_window_shapes=(c, self.window, self.window), strides=(c, self.stride, self.stride),
                baselines=self.baseline, target=target, perturbations_per_eval=self.perturbations_per_eval)


@register_explainer("lime")
class Lime(BaseExplainer):
    """LIME (Ribeiro et al. 2016, captum): a weighted linear surrogate over on/off superpixels.

    Superpixels are square grid cells of side ``cell`` (deterministic, no segmentation library);
    switched-off cells take ``baseline``. Every pixel of a cell gets the cell's coefficient.

    Parameters
    ----------
    n_samples : perturbed copies per image.
    cell : superpixel side in pixels.
    baseline : value of switched-off cells.
    perturbations_per_eval : copies per forward pass.
    seed : seeds the sampling.
    """

    stochastic = True

    def __init__(self, n_samples: int = 200, cell: int = 8, baseline: float = 0.0,
                 perturbations_per_eval: int = 32, seed: int = 0) -> None:
        self.n_samples = check_int("n_samples", n_samples, min_value=2, context="lime")
        self.cell = check_int("cell", cell, min_value=1, context="lime")
        self.baseline = check_float("baseline", baseline, context="lime")
        self.perturbations_per_eval = check_int("perturbations_per_eval", perturbations_per_eval, min_value=1,
                                                context="lime")
        self.seed = check_int("seed", seed, min_value=0, context="lime")

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        from captum.attr import Lime as _Lime

        mask = grid_segments(x.shape[-2], x.shape[-1], self.cell, x.device).expand(1, x.shape[1], -1, -1)
        lime = _Lime(model)
        out = [lime.attribute(x[i:i + 1].detach(), baselines=self.baseline, target=int(target[i]),
                              feature_mask=mask, n_samples=self.n_samples,
                              perturbations_per_eval=self.perturbations_per_eval)
               for i in range(len(x))]  # captum's Lime explains one image per call
        return torch.cat(out)


