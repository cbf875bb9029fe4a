"""Class-specific maps for every image × class, in one batched pass (INFORMER needs all of them)."""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_int
from ._base import BaseExplainer
from ._common import eval_mode, prepare
from ._gradient import InputXGradient, Saliency
from ._lrp import LRP
from ._registry import get_explainer

__all__ = ["class_maps"]


def _shared_forward_gradients(model: nn.Module, x: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """d logit_c / d x for every c in ``classes``: one forward pass and one vmapped backward pass.

    Returns (N, K, C, H, W).
    """
    x = x.detach().requires_grad_(True)
    out = model(x)
    k = len(classes)
    grad_outputs = torch.zeros(k, *out.shape, dtype=out.dtype, device=out.device)
    grad_outputs[torch.arange(k), :, classes] = 1.0
    (grads,) = torch.autograd.grad(out, x, grad_outputs=grad_outputs, is_grads_batched=True)
    return grads.transpose(0, 1)


def class_maps(model: nn.Module, x: torch.Tensor, classes: list[int] | torch.Tensor | None = None,
               method: str | BaseExplainer = "input_x_gradient", *, batch_size: int = 64,
               **params) -> torch.Tensor:
    """One attribution map per class per image: (N, K, C, H, W) for K classes.

    Saliency, Input×Gradient and LRP share one forward pass per image batch and compute all K class
    maps in one vmapped backward pass (LRP's rules are linear in the output relevance, so zennit's
    hooks take a batch of K output relevances); any other registered method gets images × classes
    batched through single ``attribute`` calls of up to ``batch_size`` rows, instead of K separate calls.

    Parameters
    ----------
    classes : class indices to explain (default: every output of the model).
    method : a registered explainer name (with ``**params``) or an explainer instance.
    batch_size : images per pass for the shared-forward paths; image × class rows per call otherwise.

    Examples
    --------
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    >>> class_maps(model, torch.rand(2, 1, 2, 2)).shape
    torch.Size([2, 3, 1, 2, 2])
    """
    check_int("batch_size", batch_size, min_value=1, context="class_maps")
    explainer = get_explainer(method, **params) if isinstance(method, str) else method
    x, _ = prepare(x, 0)
    x = x.detach()
    with eval_mode(model), torch.no_grad():
        n_out = int(model(x[:1]).shape[1])
    cls = torch.arange(n_out) if classes is None else torch.as_tensor(classes).long().flatten()
    if len(cls) == 0 or int(cls.min()) < 0 or int(cls.max()) >= n_out:
        raise ValueError(f"classes must be indices in [0, {n_out - 1}], got {cls.tolist()}")
    cls = cls.to(x.device)
    k = len(cls)
    if type(explainer) in (Saliency, InputXGradient):
        chunks = []
        with eval_mode(model):
            for i in range(0, len(x), batch_size):
                xb = x[i:i + batch_size]
                g = _shared_forward_gradients(model, xb, cls)
                if isinstance(explainer, InputXGradient):
                    g = g * xb[:, None]
                elif explainer.sign == "absolute":
                    g = g.abs()
                chunks.append(g)
        return torch.cat(chunks).detach()
    if isinstance(explainer, LRP):  # rules linear in the output relevance: K classes in one backward pass
        return torch.cat([explainer.attribute_classes(model, x[i:i + batch_size], cls)
                          for i in range(0, len(x), batch_size)])
    rows_x = x.repeat_interleave(k, dim=0)
    rows_t = cls.repeat(len(x))
    out = [explainer.attribute(model, rows_x[i:i + batch_size], rows_t[i:i + batch_size])
           for i in range(0, len(rows_x), batch_size)]
    return torch.cat(out).view(len(x), k, *x.shape[1:])
