"""Pixel-space counterfactuals: the smallest smooth input change that takes the prediction off the target.

The map is the change the search found, signed like an attribution: ``x - x_cf``, positive where the
target's evidence brightens the image (on the chest phantom: the opacity, i.e. ``image - twin``).
"""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_float, check_int, check_option
from ._base import BaseExplainer
from ._common import prepare
from ._registry import register_explainer

__all__ = ["Counterfactual", "counterfactual_quality", "total_variation"]

OPTIMIZERS = ("adam", "sgd")


def total_variation(a: torch.Tensor) -> torch.Tensor:
    """Anisotropic total variation per image: mean absolute difference of vertical and horizontal neighbours.

    Parameters
    ----------
    a : tensor (N, C, H, W).

    Returns
    -------
    Tensor (N,): ``mean|a[..., 1:, :] - a[..., :-1, :]| + mean|a[..., :, 1:] - a[..., :, :-1]|``.

    Examples
    --------
    >>> total_variation(torch.tensor([[[[0.0, 1.0], [0.0, 1.0]]]])).item()
    1.0
    """
    if a.ndim != 4:
        raise ValueError(f"a must have shape (N, C, H, W), got {tuple(a.shape)}")
    dv = (a[..., 1:, :] - a[..., :-1, :]).abs().flatten(1).mean(1) if a.shape[-2] > 1 else a.new_zeros(len(a))
    dh = (a[..., :, 1:] - a[..., :, :-1]).abs().flatten(1).mean(1) if a.shape[-1] > 1 else a.new_zeros(len(a))
    return dv + dh


def _margin(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Target logit minus the largest other logit, per image (> 0: the target is predicted)."""
    own = logits.gather(1, target[:, None])[:, 0]
    other = logits.scatter(1, target[:, None], float("-inf")).amax(1)
    return own - other


@register_explainer("counterfactual")
class Counterfactual(BaseExplainer):
    """Pixel-space counterfactual (Wachter et al. 2018): a change ``d`` that takes the prediction off the target.

    Minimises, per image and jointly over the batch (the loss is a sum of per-image terms, so images do
    not interact),

    ``max(0, m(x + d) + kappa) + l1 * mean|d| + l2 * mean d**2 + tv * TV(d)``

    where ``m`` is the target logit minus the largest other logit and ``TV`` the total variation
    (:func:`total_variation`). ``d`` starts at Gaussian noise of std ``init_std`` drawn from ``seed``.
    The returned map is ``-d = x - x_cf``: positive where removing brightness removes the target's evidence.
    The counterfactual image is ``x - map``; :func:`counterfactual_quality` scores it.

    Parameters
    ----------
    n_steps : optimisation steps.
    lr : step size.
    kappa : margin by which another class must win (in logits).
    l1, l2, tv : weights of the proximity (L1, L2) and smoothness (total variation) penalties.
    optimizer : "adam" (default; fast) or "sgd" (plain gradient descent: ``d`` stays in the span of the
        gradients, as the analytic test of a linear model needs).
    clamp : ``(low, high)`` range the counterfactual image is kept in, or ``None``.
    init_std : std of the initial change.
    seed : seeds the initial change.

    Examples
    --------
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    >>> Counterfactual(n_steps=5).attribute(model, torch.rand(3, 1, 2, 2), 1).shape
    torch.Size([3, 1, 2, 2])
    """

    stochastic = True

    def __init__(self, n_steps: int = 200, lr: float = 0.01, kappa: float = 0.5, l1: float = 0.0,
                 l2: float = 1.0, tv: float = 1.0, optimizer: str = "adam",
                 clamp: tuple[float, float] | None = None, init_std: float = 1e-3, seed: int = 0) -> None:
        ctx = "counterfactual"
        self.n_steps = check_int("n_steps", n_steps, min_value=1, context=ctx)
        self.lr = check_float("lr", lr, min_value=1e-12, context=ctx)
        self.kappa = check_float("kappa", kappa, min_value=0.0, context=ctx)
        self.l1 = check_float("l1", l1, min_value=0.0, context=ctx)
        self.l2 = check_float("l2", l2, min_value=0.0, context=ctx)
        self.tv = check_float("tv", tv, min_value=0.0, context=ctx)
        self.optimizer = check_option("optimizer", optimizer, OPTIMIZERS, context=ctx)
        if clamp is not None:
            ok = isinstance(clamp, (tuple, list)) and len(clamp) == 2
            ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in clamp)
            if not ok or not float(clamp[0]) < float(clamp[1]):
                raise ValueError(f"clamp of counterfactual must be None or (low, high) with low < high, got {clamp!r}")
            clamp = (float(clamp[0]), float(clamp[1]))
        self.clamp = clamp
        self.init_std = check_float("init_std", init_std, min_value=0.0, context=ctx)
        self.seed = check_int("seed", seed, min_value=0, context=ctx)

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        x = x.detach()
        gen = torch.Generator(device=x.device).manual_seed(self.seed)
        d = (torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype) * self.init_std).requires_grad_(True)
        opt = (torch.optim.Adam([d], lr=self.lr) if self.optimizer == "adam"
               else torch.optim.SGD([d], lr=self.lr))
        params = [p for p in model.parameters() if p.requires_grad]
        for p in params:
            p.requires_grad_(False)
        try:
            for _ in range(self.n_steps):
                x_cf = x + d
                if self.clamp is not None:
                    x_cf = x_cf.clamp(*self.clamp)
                hinge = (_margin(model(x_cf), target) + self.kappa).clamp(min=0)
                loss = (hinge + self.l1 * d.abs().flatten(1).mean(1) + self.l2 * d.pow(2).flatten(1).mean(1)
                        + self.tv * total_variation(d)).sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
        finally:
            for p in params:
                p.requires_grad_(True)
        x_cf = x + d.detach()
        if self.clamp is not None:
            x_cf = x_cf.clamp(*self.clamp)
        return x - x_cf


@torch.no_grad()
def counterfactual_quality(model: nn.Module, x: torch.Tensor, maps: torch.Tensor,
                           target: torch.Tensor | int) -> dict[str, torch.Tensor]:
    """Validity, proximity and smoothness of counterfactual maps (``x_cf = x - maps``).

    Parameters
    ----------
    model : the explained model (run in its current mode; put it in eval mode first).
    x : images (N, C, H, W).
    maps : counterfactual maps shaped like ``x`` (the ``counterfactual`` explainer's output).
    target : the explained class per image (int or (N,)).

    Returns
    -------
    dict of (N,) tensors: ``valid`` (bool: the counterfactual's prediction is not the target; its mean is
    the flip rate), ``margin`` (target logit minus the best other one, on ``x_cf``), ``l1`` (mean
    ``|map|``), ``l2`` (root mean square of the map), ``tv`` (:func:`total_variation` of the map).

    Examples
    --------
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(1, 2, bias=False))
    >>> with torch.no_grad():
    ...     _ = model[1].weight.copy_(torch.tensor([[1.0], [-1.0]]))
    >>> q = counterfactual_quality(model, torch.ones(1, 1, 1, 1), torch.full((1, 1, 1, 1), 2.0), 0)
    >>> bool(q["valid"][0]), q["l1"].item()
    (True, 2.0)
    """
    x, target = prepare(x, target)
    x = x.detach()
    if not isinstance(maps, torch.Tensor) or maps.shape != x.shape:
        raise ValueError(f"maps must be a tensor shaped like x {tuple(x.shape)}, got {getattr(maps, 'shape', None)}")
    margin = _margin(model(x - maps), target)
    return {"valid": margin < 0, "margin": margin, "l1": maps.abs().flatten(1).mean(1),
            "l2": maps.pow(2).flatten(1).mean(1).sqrt(), "tv": total_variation(maps)}
