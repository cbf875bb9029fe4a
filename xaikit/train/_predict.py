"""Batched inference: the logits of a model on a tensor of images (used by training and evaluation)."""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["predict_logits"]


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Logits of ``model`` on ``x`` in eval mode, batched, on the model's device; returned as float32 on the CPU.

    Examples
    --------
    >>> predict_logits(nn.Linear(3, 2), torch.zeros(5, 3)).shape
    torch.Size([5, 2])
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        out = [model(x[i:i + batch_size].to(device)).float().cpu() for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(out)
