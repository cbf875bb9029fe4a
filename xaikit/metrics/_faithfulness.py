"""Faithfulness: deletion and insertion curves and their areas (Petsiuk, Das, Saenko 2018, RISE).

A map is faithful when the pixels it ranks highest are the ones the model needs. **Deletion**
replaces the most relevant pixels of ``x`` by a baseline, a growing share at a time, and records the
model's score for the target class: a faithful map makes it fall fast (low AUC). **Insertion**
starts from the baseline and puts back the most relevant pixels of ``x`` first: the score should
rise fast (high AUC).

Semantics the paper leaves implicit, fixed here:

* A *pixel* is a spatial location: all channels of it are replaced together. Its relevance is the
  attribution reduced over channels (``channel_reduce``), then ``sign`` (the order of
  ``xaikit.metrics._checks``; no normalisation, which would not change the order).
* Pixels are ranked per sample in descending relevance; **ties keep ascending flat index order**
  (row-major ``h * W + w``), i.e. ``np.argsort(-a, kind="stable")``. With ``sign="positive"`` all
  pixels of relevance <= 0 tie at 0 and are therefore taken in index order.
* Step ``k = 0..steps`` perturbs the first ``n_k = floor(k * P / steps)`` ranked pixels of the
  ``P = H * W``; the returned fractions are ``n_k / P`` (exactly ``k / steps`` when ``steps``
  divides ``P``), so curves always run from 0 to 1. ``steps = P`` is pixel by pixel.
* The score is the softmax probability of the target (``output="probability"``, as RISE), its
  sigmoid (``"sigmoid"``, for multi-label models) or the raw logit (``"logit"``).
* The AUC is the trapezoid rule over the fractions, so it is in the units of the score.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from .._validation import check_float, check_int, check_option
from ._checks import CHANNEL_REDUCTIONS, SIGNS, check_attributions, transform
from ._registry import register_metric

__all__ = ["FaithfulnessCurve", "deletion_curve", "insertion_curve", "deletion_auc", "insertion_auc",
           "curve_auc", "BASELINES", "OUTPUTS"]

BASELINES = ("zero", "mean", "blur")
OUTPUTS = ("probability", "sigmoid", "logit")


class FaithfulnessCurve(NamedTuple):
    """A deletion or insertion curve; unpacks as ``fractions, scores = curve``.

    Attributes
    ----------
    fractions : Tensor
        float64, shape ``(steps + 1,)``: the share of pixels perturbed at each step, 0 to 1.
    scores : Tensor
        float64, shape ``(N, steps + 1)``: the model's score for the target at each step.
    """

    fractions: torch.Tensor
    scores: torch.Tensor


# --------------------------------------------------------------------------- public API
def deletion_curve(model: nn.Module, x: torch.Tensor, attributions, target: torch.Tensor | int, *,
                   steps: int = 20, baseline: str | float | torch.Tensor = "zero", blur_sigma: float = 5.0,
                   sign: str = "signed", channel_reduce: str = "sum", output: str = "probability",
                   batch_size: int = 64) -> FaithfulnessCurve:
    """Deletion curve: the target's score as the most relevant pixels are replaced by a baseline.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(B, C, H, W)`` to ``(B, K)`` logits. Run in eval mode (its mode is restored) with no
        gradient; it must live on ``x``'s device and accept its dtype.
    x : Tensor, (N, C, H, W)
        Images, floating point, finite; not modified.
    attributions : Tensor, (N, C, H, W), (N, 1, H, W) or (N, H, W)
        One map per image; reduced over channels before ranking.
    target : int or Tensor (N,)
        Class index scored for each image.
    steps : int, default 20
        Number of perturbation steps, ``1 <= steps <= H * W``; the curve has ``steps + 1`` points.
    baseline : {"zero", "mean", "blur"}, float or Tensor, default "zero"
        What a removed pixel becomes: 0; the image's mean over (C, H, W) (as
        ``xaikit.explain``'s "mean" baseline); the image blurred by a Gaussian of ``blur_sigma``
        pixels (RISE's insertion baseline; kernel truncated at 4 sigma, edges replicated, as
        ``scipy.ndimage.gaussian_filter(mode="nearest")``); a constant; or a tensor broadcastable
        to ``x``.
    blur_sigma : float, default 5.0
        Standard deviation in pixels of the "blur" baseline (RISE used 5 at 224 px).
    sign : {"signed", "positive", "absolute"}, default "signed"
        Relevance used for ranking, after the channel reduction.
    channel_reduce : {"sum", "mean"}, default "sum"
    output : {"probability", "sigmoid", "logit"}, default "probability"
        Softmax probability, sigmoid of the logit, or the logit of the target class.
    batch_size : int, default 64
        Perturbed images per forward pass; all ``N * (steps + 1)`` copies are built chunk by chunk
        from one rank map per sample, so memory is ``O(batch_size * C * H * W)``.

    Returns
    -------
    FaithfulnessCurve
        ``(fractions (steps + 1,), scores (N, steps + 1))``, float64 on ``x``'s device;
        ``scores[:, 0]`` is the score of ``x`` and ``scores[:, -1]`` that of the baseline.

    References
    ----------
    Petsiuk, Das, Saenko (2018). RISE: Randomized input sampling for explanation of black-box
    models. BMVC 2018.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    >>> x = torch.rand(3, 1, 2, 2)
    >>> fractions, scores = deletion_curve(model, x, torch.rand(3, 1, 2, 2), 0, steps=4)
    >>> fractions.tolist(), tuple(scores.shape)
    ([0.0, 0.25, 0.5, 0.75, 1.0], (3, 5))
    """
    return _curve(model, x, attributions, target, "deletion_curve", steps=steps, baseline=baseline,
                  blur_sigma=blur_sigma, sign=sign, channel_reduce=channel_reduce, output=output,
                  batch_size=batch_size)


def insertion_curve(model: nn.Module, x: torch.Tensor, attributions, target: torch.Tensor | int, *,
                    steps: int = 20, baseline: str | float | torch.Tensor = "blur", blur_sigma: float = 5.0,
                    sign: str = "signed", channel_reduce: str = "sum", output: str = "probability",
                    batch_size: int = 64) -> FaithfulnessCurve:
    """Insertion curve: the target's score as the most relevant pixels of ``x`` are put into the baseline.

    Parameters are those of :func:`deletion_curve`; the default baseline is "blur", as in RISE (a
    zero image carries no information, so the first inserted pixels are out of distribution).

    Returns
    -------
    FaithfulnessCurve
        ``scores[:, 0]`` is the score of the baseline and ``scores[:, -1]`` that of ``x``.

    References
    ----------
    Petsiuk, Das, Saenko (2018). RISE: Randomized input sampling for explanation of black-box
    models. BMVC 2018.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    >>> fractions, scores = insertion_curve(model, torch.rand(3, 1, 2, 2), torch.rand(3, 1, 2, 2), 1,
    ...                                     steps=2, baseline="zero")
    >>> tuple(scores.shape)
    (3, 3)
    """
    return _curve(model, x, attributions, target, "insertion_curve", steps=steps, baseline=baseline,
                  blur_sigma=blur_sigma, sign=sign, channel_reduce=channel_reduce, output=output,
                  batch_size=batch_size)


@register_metric("deletion_auc", kind="faithfulness", needs=("model", "images", "attributions", "target"))
def deletion_auc(model: nn.Module, x: torch.Tensor, attributions, target: torch.Tensor | int,
                 **kwargs) -> torch.Tensor:
    """Area under the deletion curve per sample (lower is more faithful).

    Keyword arguments are those of :func:`deletion_curve`.

    Returns
    -------
    Tensor
        float64, (N,): the trapezoid rule over the fraction of pixels removed (in [0, 1] for the
        "probability" and "sigmoid" outputs).

    References
    ----------
    Petsiuk, Das, Saenko (2018). RISE. BMVC 2018.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    >>> deletion_auc(model, torch.rand(3, 1, 2, 2), torch.rand(3, 1, 2, 2), 0, steps=4).shape
    torch.Size([3])
    """
    return curve_auc(*deletion_curve(model, x, attributions, target, **kwargs))


@register_metric("insertion_auc", kind="faithfulness", needs=("model", "images", "attributions", "target"))
def insertion_auc(model: nn.Module, x: torch.Tensor, attributions, target: torch.Tensor | int,
                  **kwargs) -> torch.Tensor:
    """Area under the insertion curve per sample (higher is more faithful).

    Keyword arguments are those of :func:`insertion_curve` (default baseline "blur").

    References
    ----------
    Petsiuk, Das, Saenko (2018). RISE. BMVC 2018.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    >>> insertion_auc(model, torch.rand(3, 1, 2, 2), torch.rand(3, 1, 2, 2), 0, steps=4).shape
    torch.Size([3])
    """
    return curve_auc(*insertion_curve(model, x, attributions, target, **kwargs))


def curve_auc(fractions: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """Trapezoid area under curves ``scores (N, S+1)`` sampled at ``fractions (S+1,)``; float64 (N,).

    Examples
    --------
    >>> import torch
    >>> curve_auc(torch.tensor([0.0, 0.5, 1.0]), torch.tensor([[1.0, 0.5, 0.0]]))
    tensor([0.5000], dtype=torch.float64)
    """
    fractions, scores = torch.as_tensor(fractions), torch.as_tensor(scores)
    if fractions.ndim != 1 or scores.ndim != 2 or scores.shape[1] != fractions.shape[0]:
        raise ValueError(f"scores must have shape (N, {fractions.shape[0]}) to match fractions "
                         f"{tuple(fractions.shape)}; got {tuple(scores.shape)}")
    return torch.trapezoid(scores.double(), fractions.double().to(scores.device), dim=1)


# --------------------------------------------------------------------------- kernel
def _curve(model, x, attributions, target, ctx: str, *, steps, baseline, blur_sigma, sign, channel_reduce,
           output, batch_size) -> FaithfulnessCurve:
    if not isinstance(model, nn.Module):
        raise ValueError(f"model of {ctx} must be a torch.nn.Module, got {type(model).__name__}")
    check_option("sign", sign, SIGNS, context=ctx)
    check_option("channel_reduce", channel_reduce, CHANNEL_REDUCTIONS, context=ctx)
    check_option("output", output, OUTPUTS, context=ctx)
    check_int("batch_size", batch_size, min_value=1, context=ctx)
    x = _check_images(x, ctx)
    n, c, h, w = x.shape
    p = h * w
    check_int("steps", steps, min_value=1, max_value=p, context=ctx)
    a = check_attributions(attributions, context=ctx).to(x.device)
    if a.shape[0] != n or tuple(a.shape[-2:]) != (h, w) or a.shape[1] not in (1, c):
        raise ValueError(f"attributions of {ctx} must have shape (N, C, H, W), (N, 1, H, W) or (N, H, W) "
                         f"matching x {tuple(x.shape)}; got {tuple(a.shape)}")
    target = _check_target(target, n, x.device, ctx)
    base = _baseline(x, baseline, blur_sigma, ctx)

    relevance = transform(a, sign, "none", channel_reduce)  # (N, P)
    order = torch.sort(relevance, dim=1, descending=True, stable=True).indices
    rank = torch.empty_like(order).scatter_(1, order, torch.arange(p, device=x.device).expand(n, p))
    rank = rank.view(n, 1, h, w)
    counts = torch.arange(steps + 1, device=x.device) * p // steps  # pixels perturbed at step k
    deleting = ctx.startswith("deletion")

    points = n * (steps + 1)
    top_target = int(target.max())  # checked against the model's outputs on the first chunk
    scores = torch.empty(points, dtype=torch.float64, device=x.device)
    with eval_mode(model), torch.no_grad():
        for start in range(0, points, batch_size):
            idx = torch.arange(start, min(start + batch_size, points), device=x.device)
            i, k = idx // (steps + 1), idx % (steps + 1)
            chosen = rank[i] < counts[k].view(-1, 1, 1, 1)  # (B, 1, H, W): the top-n_k pixels
            xb = torch.where(chosen, base[i], x[i]) if deleting else torch.where(chosen, x[i], base[i])
            scores[idx] = _score(model(xb), target[i], output, ctx, top_target if start == 0 else None)
    return FaithfulnessCurve(counts.double() / p, scores.view(n, steps + 1))


def _score(out: torch.Tensor, target: torch.Tensor, output: str, ctx: str, top_target: int | None) -> torch.Tensor:
    if out.ndim != 2:
        raise ValueError(f"model of {ctx} must return logits of shape (B, K); got {tuple(out.shape)}")
    if top_target is not None and top_target >= out.shape[1]:
        raise ValueError(f"target of {ctx} must be class indices in [0, {out.shape[1] - 1}]; got {top_target}")
    out = out.double()
    if output == "probability":
        out = out.softmax(dim=1)
    chosen = out.gather(1, target[:, None])[:, 0]
    return chosen.sigmoid() if output == "sigmoid" else chosen


def _check_images(x, ctx: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or 0 in x.shape:
        raise ValueError(f"x of {ctx} must be a tensor of shape (N, C, H, W) with every size >= 1; "
                         f"got {tuple(getattr(x, 'shape', ())) or type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"x of {ctx} must be floating point; got {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"x of {ctx} must be finite; found NaN or inf")
    return x.detach()


def _check_target(target, n: int, device: torch.device, ctx: str) -> torch.Tensor:
    t = torch.as_tensor(target, device=device)
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise ValueError(f"target of {ctx} must be an int or an integer tensor of shape ({n},); got {t.dtype}")
    t = t.long()
    if t.ndim == 0:
        t = t.expand(n)
    if t.shape != (n,):
        raise ValueError(f"target of {ctx} must be an int or a tensor of shape ({n},); got {tuple(t.shape)}")
    if bool((t < 0).any()):
        raise ValueError(f"target of {ctx} must be class indices >= 0; got {int(t.min())}")
    return t


def _baseline(x: torch.Tensor, baseline, blur_sigma, ctx: str) -> torch.Tensor:
    """The fully perturbed image, (N, C, H, W), same dtype and device as ``x``."""
    if isinstance(baseline, torch.Tensor):
        try:
            b = torch.broadcast_to(baseline.to(device=x.device, dtype=x.dtype), x.shape)
        except RuntimeError:
            raise ValueError(f"baseline of {ctx} must be broadcastable to x {tuple(x.shape)}; "
                             f"got {tuple(baseline.shape)}") from None
        if not bool(torch.isfinite(b).all()):
            raise ValueError(f"baseline of {ctx} must be finite; found NaN or inf")
        return b
    if isinstance(baseline, str):
        check_option("baseline", baseline, BASELINES, context=ctx)
        if baseline == "zero":
            return torch.zeros_like(x)
        if baseline == "mean":
            return x.mean(dim=(1, 2, 3), keepdim=True).expand_as(x)
        return gaussian_blur(x, check_float("blur_sigma", blur_sigma, min_value=1e-3, context=ctx))
    if isinstance(baseline, bool) or not isinstance(baseline, (int, float, np.floating, np.integer)):
        raise ValueError(f"baseline of {ctx} must be one of {', '.join(map(repr, BASELINES))}, a number or a "
                         f"tensor; got {baseline!r}")
    return torch.full_like(x, check_float("baseline", float(baseline), context=ctx))


def gaussian_blur(x: torch.Tensor, sigma: float, truncate: float = 4.0) -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W) per channel; ``scipy.ndimage.gaussian_filter(mode="nearest")``."""
    radius = int(truncate * sigma + 0.5)
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    y = torch.nn.functional.pad(x, (radius, radius, radius, radius), mode="replicate")
    y = torch.nn.functional.conv2d(y, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return torch.nn.functional.conv2d(y, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put every submodule in eval mode for the block and restore each one's own mode afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, training in modes:
            m.training = training
