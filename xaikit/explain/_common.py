"""Shared plumbing of the explainers: input checks, eval mode, seeding, channel reduction."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

from .._validation import check_option

__all__ = ["prepare", "eval_mode", "reduce_channels", "CHANNEL_SUMS"]

#: how reduce_channels sums a map's channels: signed, of |a|, of the positive parts (sign first, then sum;
#: not the metrics' CHANNEL_REDUCTIONS, which reduce first and handle the sign afterwards)
CHANNEL_SUMS = ("sum", "abs_sum", "pos_sum")


def prepare(x: torch.Tensor, target: torch.Tensor | int, *, name: str = "x") -> tuple[torch.Tensor, torch.Tensor]:
    """Validate an input batch and expand ``target`` to one class index per image.

    Returns a detached copy of ``x`` that requires grad, and ``target`` as a long tensor (N,).
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"{name} must be a tensor of shape (N, C, H, W), got {getattr(x, 'shape', type(x))}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got {x.dtype}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    target = torch.as_tensor(target, device=x.device).long()
    if target.ndim == 0:
        target = target.expand(x.shape[0])
    if target.shape != (x.shape[0],):
        raise ValueError(f"target must be an int or a tensor of shape ({x.shape[0]},), got {tuple(target.shape)}")
    return x.detach().clone().requires_grad_(True), target


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the block and restore its previous mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@contextlib.contextmanager
def frozen_parameters(model: nn.Module) -> Iterator[nn.Module]:
    """Switch ``requires_grad`` off for ``model``'s parameters in the block and restore it afterwards: maps need
    gradients to the input only, and rules that copy modified parameters (zennit's) otherwise track them too."""
    frozen = [p for p in model.parameters() if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    try:
        yield model
    finally:
        for p in frozen:
            p.requires_grad_(True)


def reduce_channels(attributions: torch.Tensor, how: str = "sum", keepdim: bool = True) -> torch.Tensor:
    """Reduce (N, C, H, W) attributions over channels.

    Parameters
    ----------
    how : "sum" (signed sum, paper 003's and captum's convention), "abs_sum" (sum of |a|) or
        "pos_sum" (sum of the positive parts).

    Examples
    --------
    >>> a = torch.tensor([[[[1.0]], [[-3.0]]]])
    >>> reduce_channels(a, "sum").item(), reduce_channels(a, "abs_sum").item(), reduce_channels(a, "pos_sum").item()
    (-2.0, 4.0, 1.0)
    """
    check_option("how", how, CHANNEL_SUMS, context="reduce_channels")
    if attributions.ndim != 4:
        raise ValueError(f"attributions must have shape (N, C, H, W), got {tuple(attributions.shape)}")
    if how == "abs_sum":
        attributions = attributions.abs()
    elif how == "pos_sum":
        attributions = attributions.clamp(min=0)
    return attributions.sum(dim=1, keepdim=keepdim)
