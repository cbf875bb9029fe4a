"""Attention maps of vision transformers: raw last-layer attention, rollout and gradient-weighted rollout.

The attention probabilities softmax(q k^T / sqrt(d)) of every timm ``Attention`` block are captured with a
forward hook on its ``attn_drop`` module (the identity in eval mode); fused attention
(``scaled_dot_product_attention``, which never materialises them) is switched off for the call and
restored afterwards. The token-to-token matrices are reduced to the class token's row over the patch
tokens, a (gh, gw) grid, upsampled to the image and spread evenly over its channels.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_option
from ._base import BaseExplainer
from ._cam import _spread_channels
from ._registry import register_explainer

__all__ = ["AttentionLast", "AttentionRollout", "AttentionGradRollout", "attention_modules", "capture_attention",
           "rollout", "grad_rollout", "HEAD_FUSIONS"]

HEAD_FUSIONS = ("mean", "max", "min")


def attention_modules(model: nn.Module) -> list[nn.Module]:
    """The self-attention modules of a timm vision transformer, in forward order.

    A module qualifies when it has timm's ``Attention`` layout: a ``qkv`` projection, an ``attn_drop``
    module applied to the attention probabilities and a ``fused_attn`` switch.
    """
    return [m for m in model.modules()
            if hasattr(m, "fused_attn") and isinstance(getattr(m, "attn_drop", None), nn.Module)
            and isinstance(getattr(m, "qkv", None), nn.Module)]


@contextlib.contextmanager
def capture_attention(model: nn.Module, *, context: str = "attention") -> Iterator[list[torch.Tensor]]:
    """Collect each block's attention probabilities (B, heads, N, N) during the forward passes in the block.

    Fused attention is switched off inside the block and the hooks removed afterwards. The captured tensors
    are part of the autograd graph, so gradients with respect to them can be taken.

    Examples
    --------
    >>> from xaikit.models import create_model
    >>> vit = create_model("vit_tiny_phantom", 1, 2).eval()
    >>> with capture_attention(vit) as maps:
    ...     _ = vit(torch.rand(1, 1, 64, 64))
    >>> len(maps), tuple(maps[0].shape)
    (4, (1, 4, 65, 65))
    """
    modules = attention_modules(model)
    if not modules:
        raise ValueError(f"{context} needs a vision transformer with timm Attention modules (qkv, attn_drop); "
                         f"{type(model).__name__} has none")
    maps: list[torch.Tensor] = []
    fused = [m.fused_attn for m in modules]
    handles = []
    for m in modules:
        m.fused_attn = False
        handles.append(m.attn_drop.register_forward_hook(lambda mod, inp, out: maps.append(out)))
    try:
        yield maps
    finally:
        for h in handles:
            h.remove()
        for m, f in zip(modules, fused, strict=True):
            m.fused_attn = f


def _fuse_heads(a: torch.Tensor, how: str) -> torch.Tensor:
    if how == "mean":
        return a.mean(dim=1)
    return a.amax(dim=1) if how == "max" else a.amin(dim=1)


def rollout(attentions: Sequence[torch.Tensor], *, residual: bool = True, head_fusion: str = "mean") -> torch.Tensor:
    """Attention rollout (Abnar & Zuidema 2020): the product of the layers' attention matrices.

    Each layer's heads are fused (``head_fusion``), the residual connection is modelled as
    ``0.5 A + 0.5 I`` with rows renormalised to sum to 1 (``residual=True``), and the layers are
    multiplied from the first to the last: ``R = A_L ... A_2 A_1``.

    Parameters
    ----------
    attentions : one (B, heads, N, N) tensor of row-stochastic attention per layer, in forward order.
    residual : add the identity for the skip connection, as the paper does.
    head_fusion : "mean" (the paper), "max" or "min" over heads.

    Returns
    -------
    (B, N, N) tensor: row i is how much each input token flows into output token i.

    Examples
    --------
    >>> eye = torch.eye(3).expand(1, 2, 3, 3)
    >>> torch.equal(rollout([eye, eye]), torch.eye(3)[None])
    True
    """
    check_option("head_fusion", head_fusion, HEAD_FUSIONS, context="rollout")
    if len(attentions) == 0:
        raise ValueError("attentions of rollout must hold at least one layer, got none")
    joint = None
    for a in attentions:
        if a.ndim != 4 or a.shape[-1] != a.shape[-2]:
            raise ValueError(f"attentions of rollout must be (B, heads, N, N) tensors, got {tuple(a.shape)}")
        a = _fuse_heads(a, head_fusion)
        if residual:
            a = 0.5 * a + 0.5 * torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
            a = a / a.sum(dim=-1, keepdim=True)
        joint = a if joint is None else a @ joint
    return joint


def grad_rollout(attentions: Sequence[torch.Tensor], gradients: Sequence[torch.Tensor]) -> torch.Tensor:
    """Gradient-weighted attention rollout (Chefer, Gur & Wolf 2021, "Generic attention-model explainability").

    Each layer's attention is weighted by the gradient of the explained logit with respect to it, its
    positive part averaged over heads, ``Ā = E_h[(∇A ⊙ A)^+]``, and accumulated with the residual
    identity: ``R_0 = I``, ``R_l = R_{l-1} + Ā_l R_{l-1}``.

    Parameters
    ----------
    attentions, gradients : one (B, heads, N, N) tensor per layer, in forward order.

    Returns
    -------
    (B, N, N) relevance matrix; row 0 is the class token's relevance over the tokens.
    """
    if len(attentions) == 0 or len(attentions) != len(gradients):
        raise ValueError(f"grad_rollout needs one gradient per attention layer (at least one), got "
                         f"{len(attentions)} attention and {len(gradients)} gradient tensors")
    b, _, n, _ = attentions[0].shape
    r = torch.eye(n, dtype=attentions[0].dtype, device=attentions[0].device).expand(b, n, n)
    for a, g in zip(attentions, gradients, strict=True):
        cam = (g * a).clamp(min=0).mean(dim=1)
        r = r + cam @ r
    return r


def _token_map(model: nn.Module, x: torch.Tensor, rows: torch.Tensor, interpolation: str) -> torch.Tensor:
    """Class-token row(s) over the patch tokens (B, N) → a map shaped like x."""
    n_prefix = int(getattr(model, "num_prefix_tokens", 1))
    has_cls = getattr(model, "cls_token", None) is not None
    h, w = x.shape[-2:]
    embed = model.patch_embed
    gh, gw = (embed.dynamic_feat_size((h, w)) if hasattr(embed, "dynamic_feat_size")
              else (h // embed.patch_size[0], w // embed.patch_size[1]))
    ph, pw = embed.patch_size
    # the class token reads row 0; without one (average pooling) the head reads the mean over patch rows
    per_token = rows[:, 0, n_prefix:] if has_cls else rows[:, n_prefix:, n_prefix:].mean(dim=1)
    if per_token.shape[1] != gh * gw:  # pragma: no cover - an unusual token layout
        raise ValueError(f"{per_token.shape[1]} patch tokens do not form the {gh} x {gw} patch grid of "
                         f"{type(model).__name__}")
    grid = per_token.reshape(-1, 1, gh, gw)
    up = F.interpolate(grid, size=(gh * ph, gw * pw), mode=interpolation,
                       **({"align_corners": False} if interpolation == "bilinear" else {}))
    # pixels past the last whole patch (zero-padded by the model) get nothing; padded rows are cut off
    up = F.pad(up, (0, max(0, w - gw * pw), 0, max(0, h - gh * ph)))[..., :h, :w]
    return _spread_channels(up, x)


class _AttentionExplainer(BaseExplainer):
    needs_attention = True  # the contract suite runs these on a vision transformer

    def __init__(self, interpolation: str = "bilinear") -> None:
        self.interpolation = check_option("interpolation", interpolation, ("bilinear", "nearest"), context=self.name)

    def _maps(self, model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
        with torch.no_grad(), capture_attention(model, context=self.name) as maps:
            model(x)
        return maps


@register_explainer("attention_last")
class AttentionLast(_AttentionExplainer):
    """Raw attention of the last block: the class token's attention over the patches, averaged over heads.

    Class-agnostic (``target`` is validated but does not change the map); non-negative; upsampled to the
    image (``interpolation``) and spread evenly over channels.

    Examples
    --------
    >>> from xaikit.explain import get_explainer
    >>> from xaikit.models import create_model
    >>> vit = create_model("vit_tiny_phantom", 1, 2)
    >>> get_explainer("attention_last").attribute(vit, torch.rand(2, 1, 64, 64), 0).shape
    torch.Size([2, 1, 64, 64])
    """

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        last = self._maps(model, x)[-1].mean(dim=1)
        return _token_map(model, x, last, self.interpolation)


@register_explainer("attention_rollout")
class AttentionRollout(_AttentionExplainer):
    """Attention rollout (Abnar & Zuidema 2020): the class token's row of the product of all layers' attention.

    Parameters
    ----------
    residual : model the skip connections as ``0.5 A + 0.5 I`` (the paper; default).
    head_fusion : "mean" (the paper), "max" or "min" over heads.
    interpolation : "bilinear" or "nearest" upsampling of the patch grid.

    Class-agnostic and non-negative, like the raw attention it is built from.
    """

    def __init__(self, residual: bool = True, head_fusion: str = "mean", interpolation: str = "bilinear") -> None:
        super().__init__(interpolation)
        if not isinstance(residual, bool):
            raise ValueError(f"residual of attention_rollout must be a bool, got {residual!r}")
        self.residual = residual
        self.head_fusion = check_option("head_fusion", head_fusion, HEAD_FUSIONS, context="attention_rollout")

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        joint = rollout(self._maps(model, x), residual=self.residual, head_fusion=self.head_fusion)
        return _token_map(model, x, joint, self.interpolation)


@register_explainer("attention_grad_rollout")
class AttentionGradRollout(_AttentionExplainer):
    """Gradient-weighted rollout (Chefer et al. 2021): class-specific, see :func:`grad_rollout`.

    One forward and one backward pass; the target logit's gradients with respect to every layer's
    attention weight it, so the map depends on the target. Non-negative.
    """

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with capture_attention(model, context=self.name) as maps:
            out = model(x)
        grads = torch.autograd.grad(out.gather(1, target[:, None]).sum(), maps)
        relevance = grad_rollout([m.detach() for m in maps], grads)
        return _token_map(model, x, relevance, self.interpolation)
