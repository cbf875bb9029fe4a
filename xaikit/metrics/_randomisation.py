"""Model-parameter randomisation sanity check (Adebayo et al. 2018) and the map similarities it uses.

An explanation that stays the same when the model's learned weights are replaced by random ones
cannot be explaining what the model learned (an edge detector passes every visual check but fails
this one). The cascading test re-initialises the layers one at a time, from the output down, and
compares each explanation with the original one; similarity should fall as soon as the top layers
are randomised.

Similarities (between two maps of the same sample, after channel reduction, ``sign`` and per-sample
``normalise`` in the order of ``xaikit.metrics._checks``):

* :func:`spearman_correlation`: Pearson correlation of the pixel ranks, ties given their average
  rank (``scipy.stats.spearmanr``); NaN when either map is constant.
* :func:`ssim`: mean structural similarity over all 7 x 7 windows that lie inside the image, with
  uniform (not Gaussian) windows, sample covariances, ``K1 = 0.01``, ``K2 = 0.03`` and the data
  range taken from the pair, ``max(a, b) - min(a, b)`` (``skimage.metrics.structural_similarity``
  with ``data_range`` set so, as Quantus does); NaN when both maps are constant (zero range).
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from .._validation import check_int, check_option, did_you_mean
from ._checks import CONSTANT_MAP, check_attributions, check_common, finish, new_codes, set_code, transform
from ._faithfulness import _check_images, _check_target
from ._registry import register_metric

__all__ = ["model_randomisation", "randomisable_layers", "spearman_correlation", "ssim", "ORDERS", "SIMILARITIES"]

ORDERS = ("top_down", "bottom_up", "independent")
SIMILARITIES = ("spearman", "ssim")
_WIN = 7


# --------------------------------------------------------------------------- similarities
@register_metric("spearman_correlation", kind="randomisation", needs=("attributions", "other"))
def spearman_correlation(attributions, other, *, sign: str = "signed", normalise: str = "none",
                         channel_reduce: str = "sum", return_reasons: bool = False):
    """Spearman rank correlation between two maps of each sample, computed in torch.

    Parameters
    ----------
    attributions, other : Tensor, (N, C, H, W) or (N, H, W)
        Two maps per sample, same shape; must be finite.
    sign, normalise, channel_reduce
        As for every metric (``xaikit.metrics._checks``); ``normalise`` does not change ranks.
    return_reasons : bool, default False

    Returns
    -------
    Tensor
        float64, (N,), in [-1, 1]; NaN ("constant map") where either map has one value only.

    References
    ----------
    Adebayo et al. (2018). Sanity checks for saliency maps. NeurIPS 2018.

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([[[1.0, 2.0], [2.0, 4.0]]])
    >>> spearman_correlation(a, a ** 2)
    tensor([1.], dtype=torch.float64)
    """
    a, b = _prepare_pair(attributions, other, sign, normalise, channel_reduce, "spearman_correlation")
    ra, rb = average_ranks(a), average_ranks(b)
    ra, rb = ra - ra.mean(dim=1, keepdim=True), rb - rb.mean(dim=1, keepdim=True)
    va, vb = (ra * ra).sum(dim=1), (rb * rb).sum(dim=1)
    constant = (va == 0) | (vb == 0)
    score = (ra * rb).sum(dim=1) / torch.sqrt(torch.where(constant, 1.0, va * vb))
    return finish(score.clamp(-1, 1), set_code(new_codes(a), constant, CONSTANT_MAP), return_reasons)


@register_metric("ssim", kind="randomisation", needs=("attributions", "other"))
def ssim(attributions, other, *, sign: str = "signed", normalise: str = "none", channel_reduce: str = "sum",
         return_reasons: bool = False):
    """Structural similarity (SSIM) between two maps of each sample, computed in torch.

    Equals ``skimage.metrics.structural_similarity(a, b, data_range=max(a, b) - min(a, b))`` with
    its defaults (7 x 7 uniform windows, sample covariance, ``K1 = 0.01``, ``K2 = 0.03``, the mean
    over windows inside the image). The data range comes from the pair because attribution maps have
    no fixed range (Quantus does the same).

    Parameters
    ----------
    attributions, other : Tensor, (N, C, H, W) or (N, H, W)
        Two maps per sample, same shape, ``H, W >= 7``.
    sign, normalise, channel_reduce, return_reasons
        As in :func:`spearman_correlation`.

    Returns
    -------
    Tensor
        float64, (N,), at most 1; NaN ("constant map") when both maps are constant.

    References
    ----------
    Wang, Bovik, Sheikh, Simoncelli (2004). Image quality assessment: from error visibility to
    structural similarity. IEEE TIP 13(4). Used for saliency maps by Adebayo et al. (2018).

    Examples
    --------
    >>> import torch
    >>> a = torch.rand(2, 1, 8, 8)
    >>> ssim(a, a)
    tensor([1., 1.], dtype=torch.float64)
    """
    ctx = "ssim"
    a, b = _prepare_pair(attributions, other, sign, normalise, channel_reduce, ctx)
    h, w = torch.as_tensor(attributions).shape[-2:]
    if h < _WIN or w < _WIN:
        raise ValueError(f"attributions of {ctx} must be at least {_WIN} x {_WIN} pixels; got {h} x {w}")
    a, b = a.view(-1, 1, h, w), b.view(-1, 1, h, w)
    lo = torch.minimum(a.amin(dim=(1, 2, 3)), b.amin(dim=(1, 2, 3)))
    span = (torch.maximum(a.amax(dim=(1, 2, 3)), b.amax(dim=(1, 2, 3))) - lo).view(-1, 1, 1, 1)

    def window_mean(t):
        return torch.nn.functional.avg_pool2d(t, _WIN, stride=1)

    ua, ub = window_mean(a), window_mean(b)
    cov = _WIN ** 2 / (_WIN ** 2 - 1)  # sample covariance, as skimage's default
    va = cov * (window_mean(a * a) - ua * ua)
    vb = cov * (window_mean(b * b) - ub * ub)
    vab = cov * (window_mean(a * b) - ua * ub)
    c1, c2 = (0.01 * span) ** 2, (0.03 * span) ** 2
    s = (2 * ua * ub + c1) * (2 * vab + c2) / ((ua * ua + ub * ub + c1) * (va + vb + c2))
    zero = span.flatten() == 0
    score = torch.where(zero, 1.0, s.mean(dim=(1, 2, 3)))
    return finish(score, set_code(new_codes(a), zero, CONSTANT_MAP), return_reasons)


def average_ranks(a: torch.Tensor) -> torch.Tensor:
    """1-based ranks of each row of ``a`` (N, P), ties given their average rank; float64.

    Examples
    --------
    >>> average_ranks(torch.tensor([[3.0, 1.0, 3.0, 2.0]]))
    tensor([[3.5000, 1.0000, 3.5000, 2.0000]], dtype=torch.float64)
    """
    n, p = a.shape
    v, order = torch.sort(a, dim=1)
    pos = torch.arange(p, device=a.device).expand(n, p)
    starts = torch.ones_like(v, dtype=torch.bool)
    starts[:, 1:] = v[:, 1:] != v[:, :-1]
    ends = torch.ones_like(starts)
    ends[:, :-1] = starts[:, 1:]
    first = torch.where(starts, pos, 0).cummax(dim=1).values  # start of each tie group
    last = (p - 1) - torch.where(ends, (p - 1) - pos, 0).flip(1).cummax(dim=1).values.flip(1)
    ranks = (first + last).double() / 2 + 1
    return torch.empty_like(ranks).scatter_(1, order, ranks)


def _prepare_pair(a, b, sign, normalise, channel_reduce, ctx):
    check_common(sign, normalise, channel_reduce, ctx)
    a = check_attributions(a, context=ctx)
    b = check_attributions(b, name="other", context=ctx)
    if a.shape != b.shape:
        raise ValueError(f"other of {ctx} must have the shape of attributions {tuple(a.shape)}; got {tuple(b.shape)}")
    b = b.to(a.device)
    return (transform(a, sign, normalise, channel_reduce).double(),
            transform(b, sign, normalise, channel_reduce).double())


# --------------------------------------------------------------------------- the sanity check
def randomisable_layers(model: nn.Module) -> list[str]:
    """Names of the modules that own parameters and can re-initialise them, in registration order.

    A module qualifies when it has ``reset_parameters`` and parameters of its own (``Conv*``,
    ``Linear``, ``BatchNorm*``, ``LayerNorm``, ``Embedding``, ...). Registration order stands in for
    the forward order, as in Quantus; pass ``layers`` to :func:`model_randomisation` where it differs.

    Examples
    --------
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Flatten(),
    ...                           torch.nn.Linear(8, 2))
    >>> randomisable_layers(net)
    ['0', '3']
    """
    return [name for name, m in model.named_modules() if _own_resettable(m)]


@register_metric("model_randomisation", kind="randomisation", needs=("model", "images", "target", "explainer"),
                 returns="frame")
def model_randomisation(model: nn.Module, x: torch.Tensor, target: torch.Tensor | int,
                        explain: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor], *,
                        order: str = "top_down", layers: Sequence[str] | None = None, seed: int = 0,
                        similarity: Sequence[str] = SIMILARITIES, sign: str = "absolute", normalise: str = "max",
                        channel_reduce: str = "sum", return_reasons: bool = False):
    """Cascading model-parameter randomisation: how explanations change as layers are re-initialised.

    A deep copy of ``model`` (the original is never touched) is put in eval mode and explained once:
    the reference. Step 0 explains the unchanged copy again (1.0 for a deterministic method; the
    noise floor of a stochastic one). Each further step re-initialises one more layer, calling its
    ``reset_parameters()`` under a forked, seeded torch RNG (BatchNorm layers become the identity
    affine map with reset running statistics), explains the copy, and compares with the reference.

    Parameters
    ----------
    model : torch.nn.Module
    x : Tensor, (N, C, H, W)
    target : int or Tensor (N,)
        Passed to ``explain`` as a long tensor (N,).
    explain : callable ``(model, x, target) -> Tensor`` shaped (N, C, H, W), (N, 1, H, W) or (N, H, W)
        For example ``xaikit.explain.get_explainer("saliency").attribute``.
    order : {"top_down", "bottom_up", "independent"}, default "top_down"
        "top_down" cascades from the output layer to the input (Adebayo et al.'s main test);
        "bottom_up" from the input; "independent" randomises one layer at a time (top down), every
        other layer keeping its trained weights.
    layers : sequence of str, optional
        Module names in forward order; default :func:`randomisable_layers`. A container name (a
        ResNet's "layer4") randomises all its resettable submodules in one step (block-wise).
    seed : int, default 0
        Step ``s`` draws from a generator seeded with ``SeedSequence([seed, s])``, so results depend
        on ``seed`` alone; the caller's global RNG state is restored.
    similarity : sequence of {"spearman", "ssim"}, default both
    sign : {"signed", "positive", "absolute"}, default "absolute"
        Applied to both maps before comparing (Adebayo et al. report absolute maps).
    normalise : {"none", "max", "minmax"}, default "max"
        Per map; Spearman is invariant to it, SSIM is not (Quantus's defaults: absolute, max).
    channel_reduce : {"sum", "mean"}, default "sum"
    return_reasons : bool, default False
        Add a column ``<similarity>_reason`` per similarity: ``""`` where the similarity is defined,
        else why it is NaN (a constant map, see :func:`spearman_correlation` and :func:`ssim`).

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per sample and step, columns ``sample``, ``step`` (0 = no layer randomised),
        ``layer`` (the layer randomised at this step; the cascade includes every earlier one;
        "original" at step 0) and one float column per similarity (then the reason columns, if asked).

    References
    ----------
    Adebayo, Gilmer, Muelly, Goodfellow, Hardt, Kim (2018). Sanity checks for saliency maps.
    NeurIPS 2018.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    >>> def grad(m, x, t):
    ...     x = x.clone().requires_grad_(True)
    ...     return torch.autograd.grad(m(x).gather(1, t[:, None]).sum(), x)[0]
    >>> df = model_randomisation(net, torch.rand(2, 1, 8, 8), 0, grad)
    >>> df.columns.tolist(), df.layer.unique().tolist()
    (['sample', 'step', 'layer', 'spearman', 'ssim'], ['original', '3', '1'])
    """
    import pandas as pd

    ctx = "model_randomisation"
    if not isinstance(model, nn.Module):
        raise ValueError(f"model of {ctx} must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(explain):
        raise ValueError(f"explain of {ctx} must be a callable (model, x, target) -> Tensor, got {explain!r}")
    check_option("order", order, ORDERS, context=ctx)
    check_int("seed", seed, min_value=0, context=ctx)
    check_common(sign, normalise, channel_reduce, ctx)
    similarity = [similarity] if isinstance(similarity, str) else list(similarity)
    if not similarity:
        raise ValueError(f"similarity of {ctx} must name at least one of {SIMILARITIES}; got {similarity!r}")
    for name in similarity:
        check_option("similarity", name, SIMILARITIES, context=ctx)
    x = _check_images(x, ctx)
    n = x.shape[0]
    t = _check_target(target, n, x.device, ctx)

    work = copy.deepcopy(model).eval()
    modules = dict(work.named_modules())
    names = _check_layers(layers, work, modules, ctx)
    with torch.no_grad():
        n_outputs = work(x[:1]).shape[-1]
    if int(t.max()) >= n_outputs:
        raise ValueError(f"target of {ctx} must be class indices in [0, {n_outputs - 1}]; got {int(t.max())}")
    sequence = names if order == "bottom_up" else names[::-1]
    devices = sorted({p.device.index or 0 for p in work.parameters() if p.device.type == "cuda"})
    kw = dict(sign=sign, normalise=normalise, channel_reduce=channel_reduce)
    funcs = {"spearman": spearman_correlation, "ssim": ssim}

    def explained():
        e = explain(work, x, t)
        if not isinstance(e, torch.Tensor):
            raise ValueError(f"explain of {ctx} must return a Tensor, got {type(e).__name__}")
        e = check_attributions(e.detach(), name="explanation", context=ctx)
        if e.shape[0] != n or e.shape[-2:] != x.shape[-2:]:
            raise ValueError(f"explanation of {ctx} must have shape (N, C, H, W) matching x {tuple(x.shape)}; "
                             f"got {tuple(e.shape)}")
        return e

    reference = explained()
    pristine = copy.deepcopy(work.state_dict()) if order == "independent" else None
    columns: dict[str, list] = {"sample": [], "step": [], "layer": [], **{s: [] for s in similarity},
                                **({f"{s}_reason": [] for s in similarity} if return_reasons else {})}
    for step, name in enumerate(["original", *sequence]):
        if step > 0:
            if pristine is not None:
                work.load_state_dict(pristine)
            _reinitialise(modules[name], seed, step, devices)
        e = explained()
        columns["sample"] += range(n)
        columns["step"] += [step] * n
        columns["layer"] += [name] * n
        for s in similarity:
            result = funcs[s](reference, e, **kw, return_reasons=True)
            columns[s] += result.scores.cpu().tolist()
            if return_reasons:
                columns[f"{s}_reason"] += result.reasons()
    return pd.DataFrame(columns)


def _own_resettable(m: nn.Module) -> bool:
    return callable(getattr(m, "reset_parameters", None)) and any(True for _ in m.parameters(recurse=False))


def _check_layers(layers, model: nn.Module, modules: dict[str, nn.Module], ctx: str) -> list[str]:
    if layers is None:
        names = randomisable_layers(model)
        if not names:
            raise ValueError(f"model of {ctx} has no layer with parameters and reset_parameters()")
        return names
    names = [layers] if isinstance(layers, str) else list(layers)
    if not names:
        raise ValueError(f"layers of {ctx} must name at least one module; got {layers!r}")
    for name in names:
        if name not in modules or name == "":
            raise ValueError(f"layers of {ctx} must be module names of the model; got {name!r}."
                             f"{did_you_mean(name, [k for k in modules if k])}")
        if not any(_own_resettable(m) for m in modules[name].modules()):
            raise ValueError(f"layers of {ctx}: module {name!r} has nothing to randomise "
                             "(no parameters with reset_parameters())")
    return names


def _reinitialise(module: nn.Module, seed: int, step: int, devices: list[int]) -> None:
    state = int(np.random.SeedSequence([seed, step]).generate_state(1)[0])
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        torch.manual_seed(state)
        for m in module.modules():
            if _own_resettable(m):
                m.reset_parameters()
