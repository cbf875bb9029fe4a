"""RISE: randomised input sampling for explanation, with batched, seeded masks."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_float, check_int, check_option
from ._base import BaseExplainer
from ._cam import _spread_channels
from ._registry import register_explainer

__all__ = ["Rise", "rise_masks"]


def rise_masks(n_masks: int, height: int, width: int, *, grid: int = 8, p: float = 0.5, seed: int = 0,
               device: torch.device | str | None = None) -> torch.Tensor:
    """RISE's random smooth masks, (n_masks, 1, height, width) in [0, 1].

    A (grid + 1)² array of cells, each kept with probability ``p``, is upsampled bilinearly by the cell
    size ``⌈height / grid⌉ × ⌈width / grid⌉`` and cropped at a random shift within one cell
    (Petsiuk et al. 2018). With cells of one pixel the masks are independent Bernoulli(p) pixels.

    Examples
    --------
    >>> m = rise_masks(4, 16, 16, grid=4, seed=1)
    >>> tuple(m.shape), bool(((m >= 0) & (m <= 1)).all())
    ((4, 1, 16, 16), True)
    """
    check_int("n_masks", n_masks, min_value=1, context="rise_masks")
    check_int("grid", grid, min_value=1, context="rise_masks")
    check_float("p", p, min_value=0.0, max_value=1.0, context="rise_masks")
    g = torch.Generator().manual_seed(seed)
    ch, cw = math.ceil(height / grid), math.ceil(width / grid)
    cells = (torch.rand(n_masks, 1, grid + 1, grid + 1, generator=g) < p).float()
    up = F.interpolate(cells, size=((grid + 1) * ch, (grid + 1) * cw), mode="bilinear", align_corners=False)
    dy = torch.randint(0, ch, (n_masks,), generator=g)
    dx = torch.randint(0, cw, (n_masks,), generator=g)
    rows = (dy[:, None] + torch.arange(height))[:, :, None]  # (n, H, 1)
    cols = (dx[:, None] + torch.arange(width))[:, None, :]  # (n, 1, W)
    masks = up[torch.arange(n_masks)[:, None, None], 0, rows, cols]
    return masks[:, None].to(device)


@register_explainer("rise")
class Rise(BaseExplainer):
    """RISE (Petsiuk et al. 2018): the average of random masks weighted by the score of the masked input.

    ``a = 1 / (n_masks · p) · Σ_i f_t(x ⊙ M_i) M_i`` with the masks of :func:`rise_masks` (the same set for
    every image, drawn from ``seed``). For a linear model scored by its logit, independent pixel masks
    give ``E[a] = (1 − p) w ⊙ x + p (f_t(x) − b) + b``: the weights, up to an offset. Non-negative with
    ``score="probability"``; spread evenly over channels.

    Parameters
    ----------
    n_masks : number of random masks (the paper: 4000 for ResNet-50 at 224 px).
    grid : cells per side before upsampling (the paper: 7).
    p : probability that a cell is kept (the paper: 0.5).
    score : "probability" (the softmax probability of the target, the paper) or "logit".
    batch_size : masked images per forward pass.
    seed : seeds the masks.
    """

    stochastic = True

    def __init__(self, n_masks: int = 1000, grid: int = 8, p: float = 0.5, score: str = "probability",
                 batch_size: int = 100, seed: int = 0) -> None:
        self.n_masks = check_int("n_masks", n_masks, min_value=1, context="rise")
        self.grid = check_int("grid", grid, min_value=1, context="rise")
        self.p = check_float("p", p, min_value=0.0, max_value=1.0, context="rise")
        if self.p == 0.0:
            raise ValueError("p of rise must be a number in (0, 1], got 0.0")
        self.score = check_option("score", score, ("probability", "logit"), context="rise")
        self.batch_size = check_int("batch_size", batch_size, min_value=1, context="rise")
        self.seed = check_int("seed", seed, min_value=0, context="rise")

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        masks = rise_masks(self.n_masks, h, w, grid=self.grid, p=self.p, seed=self.seed, device=x.device)
        masks = masks.to(x.dtype)
        sal = torch.zeros(len(x), 1, h, w, dtype=x.dtype, device=x.device)
        with torch.no_grad():
            for i in range(len(x)):
                for start in range(0, self.n_masks, self.batch_size):
                    m = masks[start:start + self.batch_size]
                    out = model(x[i:i + 1].detach() * m)
                    s = (out.softmax(dim=1) if self.score == "probability" else out)[:, int(target[i])]
                    sal[i, 0] += (s[:, None, None] * m[:, 0]).sum(dim=0)
        return _spread_channels(sal / (self.n_masks * self.p), x)
