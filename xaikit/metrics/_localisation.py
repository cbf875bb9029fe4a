"""Localisation metrics: how much of an attribution map falls on the ground-truth mask.

All functions take ``attributions`` (N, C, H, W) or (N, H, W) and binary ``masks`` (N, 1, H, W)
or (N, H, W) and return float64 scores (N,) on the attributions' device. Preprocessing (channel
reduction, then ``sign``, then per-sample ``normalise``) is described in ``_checks``; rank and
ratio scores are invariant to ``normalise``, which is offered for uniformity.

Several metrics share one kernel and differ only in their defaults, which is the point of
writing the semantics down:

==========================  =========================  ==========  =========================
metric                      score                      sign        undefined (NaN) when
==========================  =========================  ==========  =========================
relevance_mass_accuracy     sum(a in mask) / sum(a)    signed      empty mask, sum(a) == 0
positive_attribution_ratio  sum(a+ in mask) / sum(a+)  positive    empty mask, no a > 0
energy_pointing_game        sum(a in mask) / sum(a)    positive    empty mask, sum(a) == 0
attribution_localisation    sum(a in mask) / sum(a)    absolute    empty mask, sum(a) == 0,
                            (optionally x |mask|/HW)               ratio > 1
==========================  =========================  ==========  =========================

Differences from quantus 0.6.0, each shown by a test in ``tests/metrics``:

* ``PointingGame`` scores an empty mask as a hit (it writes NaN into a bool array); here NaN.
* ``PointingGame(weighted=True)`` raises ``TypeError`` whenever a sample hits; here it works.
* ``AttributionLocalisation(weighted=True)`` uses ``x_batch[2:].size`` (slices the batch axis)
  for the image size, so the weight depends on the batch size; here it is ``H * W``.
* ``AttributionLocalisation`` adds 1e-9 to the denominator (an all-zero map scores 0);
  ``RelevanceMassAccuracy`` divides by an exact zero (``inf`` or NaN); here both are NaN with the
  reason "zero total relevance".
* ``RelevanceRankAccuracy``/``TopKIntersection`` break ties in ``np.argsort(-a)`` order, which is
  unspecified (introsort); here the tie rule is a parameter. ``ties="first"`` equals
  ``np.argsort(-a, kind="stable")``; ``"min"``/``"max"`` bound every tie order.

No default rewards a map for carrying no information. The rank metrics default to
``ties="average"``, the exact expectation over uniformly random tie orders, and the pointing game
to ``ties="average"``, the expected hit under a random choice among tied maxima: a constant map
scores ``|mask| / (H * W)`` wherever the mask lies, as a random map does on average. The
position-dependent Quantus-compatible rules (``"first"``, which rewards a constant map when the
mask is top-left; ``"any"``, which counts a constant map as a hit everywhere) stay available as
explicit options.
"""
from __future__ import annotations

import numpy as np
import torch

from .._validation import check_int, check_option
from ._backend import row_count, rows_backend
from ._checks import EMPTY_MASK, NO_POSITIVE, RATIO_ABOVE_ONE, ZERO_TOTAL, finish, new_codes, prepare, set_code
from ._registry import register_metric
from ._select import TIES, topk_hits

__all__ = [
    "relevance_rank_accuracy", "top_k_intersection", "relevance_mass_accuracy",
    "positive_attribution_ratio", "energy_pointing_game", "attribution_localisation",
    "pointing_game", "POINTING_TIES",
]

POINTING_TIES = ("average", "any", "first")
_BLOCK = 64


# --------------------------------------------------------------------------- rank based
@register_metric("relevance_rank_accuracy", kind="localisation")
def relevance_rank_accuracy(attributions, masks, *, sign: str = "signed", normalise: str = "none",
                            channel_reduce: str = "sum", ties: str = "average",
                            return_reasons: bool = False):
    """Relevance Rank Accuracy: share of the K highest-ranked pixels inside the mask, ``K = |mask|``.

    Parameters
    ----------
    attributions : Tensor, (N, C, H, W) or (N, H, W)
        Attribution maps, any floating dtype, any device; must be finite.
    masks : Tensor, (N, 1, H, W) or (N, H, W)
        Binary ground truth (bool or 0/1).
    sign : {"signed", "positive", "absolute"}, default "signed"
        Applied after the channel reduction. Paper 003 ranks signed maps.
    normalise : {"none", "max", "minmax"}, default "none"
        Per-sample; does not change ranks.
    channel_reduce : {"sum", "mean"}, default "sum"
    ties : {"average", "first", "min", "max"}, default "average"
        Pixels tied at the K-th value: ``"average"`` the exact expectation over uniformly random
        tie orders (a constant map scores ``|mask| / (H*W)``, like a random map); ``"first"`` takes
        the lowest flat indices (stable descending sort, Quantus's rule with a stable argsort: a
        constant map then scores 1 for a top-left mask and 0 for a bottom-right one);
        ``"min"``/``"max"`` the worst/best case. Ties are common in blocky (upsampled) maps.
    return_reasons : bool, default False
        Return a :class:`~xaikit.metrics.MetricResult` with NaN reasons.

    Returns
    -------
    Tensor
        float64, (N,), in [0, 1]; NaN for an empty mask.

    References
    ----------
    Arras, Osman, Samek (2022). CLEVR-XAI: a benchmark dataset for the ground truth evaluation of
    neural network explanations. Information Fusion 81, 14-40.

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([[[[3.0, 2.0], [1.0, 0.0]]]])
    >>> s = torch.tensor([[[[True, False], [True, False]]]])
    >>> relevance_rank_accuracy(a, s)
    tensor([0.5000], dtype=torch.float64)
    """
    ctx = "relevance_rank_accuracy"
    check_option("ties", ties, TIES, context=ctx)
    a, s = prepare(attributions, masks, sign=sign, normalise=normalise,
                   channel_reduce=channel_reduce, context=ctx)
    k = row_count(s)
    hits = topk_hits(a, s, k.clamp(min=1), ties)
    codes = set_code(new_codes(a), k == 0, EMPTY_MASK)
    return finish(hits / k.clamp(min=1).double(), codes, return_reasons)


@register_metric("top_k_intersection", kind="localisation")
def top_k_intersection(attributions, masks, *, k: int = 1000, concept_influence: bool = False,
                       sign: str = "signed", normalise: str = "none", channel_reduce: str = "sum",
                       ties: str = "average", return_reasons: bool = False):
    """Top-k intersection: share of the ``k`` highest-ranked pixels that lie inside the mask.

    Parameters
    ----------
    k : int, default 1000
        A fixed number of pixels (Quantus's default), ``1 <= k <= H*W``.
    concept_influence : bool, default False
        Multiply by ``H*W / |mask|`` (the score relative to a random map's expectation).
    sign, normalise, channel_reduce, ties, return_reasons
        As in :func:`relevance_rank_accuracy`.

    Returns
    -------
    Tensor
        float64, (N,); NaN for an empty mask.

    References
    ----------
    Theiner, Müller-Budack, Ewerth (2021). Interpretable semantic photo geolocalization. WACV 2022.

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([[[[3.0, 2.0], [1.0, 0.0]]]])
    >>> s = torch.tensor([[[[True, False], [False, False]]]])
    >>> top_k_intersection(a, s, k=2)
    tensor([0.5000], dtype=torch.float64)
    """
    ctx = "top_k_intersection"
    check_option("ties", ties, TIES, context=ctx)
    a, s = prepare(attributions, masks, sign=sign, normalise=normalise,
                   channel_reduce=channel_reduce, context=ctx)
    n, p = a.shape
    check_int("k", k, min_value=1, max_value=p, context=ctx)
    size = row_count(s)
    hits = topk_hits(a, s, torch.full((n,), k, dtype=torch.int64, device=a.device), ties)
    score = hits / k
    if concept_influence:
        score = score * p / size.clamp(min=1).double()
    return finish(score, set_code(new_codes(a), size == 0, EMPTY_MASK), return_reasons)


# --------------------------------------------------------------------------- mass based
def _mass(a: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(inside, total, mask size), inside and total accumulated in float64.

    Rows go in blocks so the masked product never needs more than a block of extra memory.
    """
    xp = rows_backend(a)
    an, sn = xp.asarray(a), xp.asarray(s)
    parts = [(xp.sum64(an[i:i + _BLOCK] * sn[i:i + _BLOCK]), xp.sum64(an[i:i + _BLOCK]))
             for i in range(0, a.shape[0], _BLOCK)]
    cat = (lambda v: torch.from_numpy(np.concatenate(v))) if xp.name == "numpy" else torch.cat
    inside, total = cat([p[0] for p in parts]), cat([p[1] for p in parts])
    size = xp.totensor(xp.count(sn), a)
    return inside.to(a.device), total.to(a.device), size.to(a.device)


@register_metric("relevance_mass_accuracy", kind="localisation")
def relevance_mass_accuracy(attributions, masks, *, sign: str = "signed", normalise: str = "none",
                            channel_reduce: str = "sum", return_reasons: bool = False):
    """Relevance Mass Accuracy: relevance inside the mask over all relevance.

    With the default ``sign="signed"`` (as quantus 0.6.0, whose docstring says "positive" but
    whose code sums signed values) the score can be negative or above 1, and it is unstable when
    the signed total is near 0. Use :func:`positive_attribution_ratio` for positive mass.

    Parameters
    ----------
    sign : {"signed", "positive", "absolute"}, default "signed"
    normalise, channel_reduce, return_reasons
        As in :func:`relevance_rank_accuracy`.

    Returns
    -------
    Tensor
        float64, (N,); NaN for an empty mask or a total of exactly 0 (Quantus: ``inf`` or NaN).

    References
    ----------
    Arras, Osman, Samek (2022). CLEVR-XAI. Information Fusion 81, 14-40.

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([[[[3.0, -1.0], [1.0, 1.0]]]])
    >>> s = torch.tensor([[[[True, True], [False, False]]]])
    >>> relevance_mass_accuracy(a, s)
    tensor([0.5000], dtype=torch.float64)
    """
    a, s = prepare(attributions, masks, sign=sign, normalise=normalise,
                   channel_reduce=channel_reduce, context="relevance_mass_accuracy")
    inside, total, size = _mass(a, s)
    codes = set_code(new_codes(a), size == 0, EMPTY_MASK)
    codes = set_code(codes, total == 0, ZERO_TOTAL)
    return finish(inside / torch.where(total == 0, 1.0, total), codes, return_reasons)


@register_metric("positive_attribution_ratio", kind="localisation")
def positive_attribution_ratio(attributions, masks, *, normalise: str = "none",
                               channel_reduce: str = "sum", return_reasons: bool = False):
    """Positive Attribution Ratio: positive relevance inside the mask over all positive relevance.

    ``PAR = sum_{p in mask, a_p > 0} a_p / sum_{p, a_p > 0} a_p`` (paper 003, eqs. 4-6: a mass, not
    the pixel count its prose mentions). Channels are reduced before clipping.

    Returns
    -------
    Tensor
        float64, (N,), in [0, 1]; NaN for an empty mask or a map without positive relevance
        (the reference code returns 0/0 silently there).

    References
    ----------
    Cedro, Chlebus (2024). Beyond the black box: do more complex deep learning models provide
    superior XAI explanations? arXiv:2405.08658.

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([[[[3.0, -1.0], [1.0, 0.0]]]])
    >>> s = torch.tensor([[[[True, True], [False, False]]]])
    >>> positive_attribution_ratio(a, s)
    tensor([0.7500], dtype=torch.float64)
    """
    a, s = prepare(attributions, masks, sign="positive", normalise=normalise,
                   channel_reduce=channel_reduce, context="positive_attribution_ratio")
    inside, total, size = _mass(a, s)
    codes = set_code(new_codes(a), size == 0, EMPTY_MASK)
    codes = set_code(codes, total == 0, NO_POSITIVE)
    return finish(inside / torch.where(total == 0, 1.0, total), codes, return_reasons)


@register_metric("energy_pointing_game", kind="localisation")
def energy_pointing_game(attributions, masks, *, sign: str = "positive", normalise: str = "none",
                         channel_reduce: str = "sum", return_reasons: bool = False):
    """Energy-based pointing game: the share of the map's energy that falls inside the mask.

    For the non-negative maps it was defined on (Grad-CAM, Score-CAM) and the default
    ``sign="positive"`` it equals :func:`positive_attribution_ratio`; ``sign="absolute"`` counts
    negative evidence as energy too.

    Returns
    -------
    Tensor
        float64, (N,); NaN for an empty mask or a zero total.

    References
    ----------
    Wang et al. (2020). Score-CAM: score-weighted visual explanations for convolutional neural
    networks. CVPR Workshops.

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([[[[3.0, 0.0], [1.0, 0.0]]]])
    >>> s = torch.tensor([[[[True, False], [False, False]]]])
    >>> energy_pointing_game(a, s)
    tensor([0.7500], dtype=torch.float64)
    """
    a, s = prepare(attributions, masks, sign=sign, normalise=normalise,
                   channel_reduce=channel_reduce, context="energy_pointing_game")
    inside, total, size = _mass(a, s)
    codes = set_code(new_codes(a), size == 0, EMPTY_MASK)
    codes = set_code(codes, total == 0, ZERO_TOTAL)
    return finish(inside / torch.where(total == 0, 1.0, total), codes, return_reasons)


@register_metric("attribution_localisation", kind="localisation")
def attribution_localisation(attributions, masks, *, sign: str = "absolute",
                             weighted: bool = False, normalise: str = "none",
                             channel_reduce: str = "sum", return_reasons: bool = False):
    """Attribution localisation: relevance inside the mask over the total (Kohlbrenner et al.).

    Parameters
    ----------
    sign : {"signed", "positive", "absolute"}, default "absolute"
        Quantus's default ``abs=True``; its ``positive_attributions=True`` is ``sign="positive"``.
    weighted : bool, default False
        Multiply by the mask's share of the image, ``|mask| / (H * W)`` (quantus 0.6.0 intends
        this but divides by the size of ``x_batch[2:]``, a slice of the batch axis).

    Returns
    -------
    Tensor
        float64, (N,); NaN for an empty mask, a zero total (Quantus: 0 via a 1e-9 guard) or a
        ratio above 1 (possible only with ``sign="signed"``; Quantus: NaN too).

    References
    ----------
    Kohlbrenner et al. (2020). Towards best practice in explaining neural network decisions with
    LRP. IJCNN 2020.

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([[[[3.0, -1.0], [0.0, 0.0]]]])
    >>> s = torch.tensor([[[[True, False], [False, False]]]])
    >>> attribution_localisation(a, s)
    tensor([0.7500], dtype=torch.float64)
    """
    a, s = prepare(attributions, masks, sign=sign, normalise=normalise,
                   channel_reduce=channel_reduce, context="attribution_localisation")
    inside, total, size = _mass(a, s)
    ratio = inside / torch.where(total == 0, 1.0, total)
    codes = set_code(new_codes(a), size == 0, EMPTY_MASK)
    codes = set_code(codes, total == 0, ZERO_TOTAL)
    codes = set_code(codes, ratio > 1, RATIO_ABOVE_ONE)
    if weighted:
        ratio = ratio * size.double() / a.shape[1]
    return finish(ratio, codes, return_reasons)


# --------------------------------------------------------------------------- pointing game
@register_metric("pointing_game", kind="localisation")
def pointing_game(attributions, masks, *, ties: str = "average", sign: str = "signed",
                  weighted: bool = False, normalise: str = "none", channel_reduce: str = "sum",
                  return_reasons: bool = False):
    """Pointing game: does the map's maximum fall inside the mask?

    Parameters
    ----------
    ties : {"average", "any", "first"}, default "average"
        ``"average"``: the share of tied maxima inside the mask, the expected hit under a random
        choice among them (a constant map scores ``|mask| / (H*W)``, the hit rate of a random
        point); ``"any"``: a hit if any pixel tied at the maximum is inside (quantus 0.6.0; a
        constant map hits every non-empty mask); ``"first"``: only the first maximum in
        row-major order counts, as ``np.argmax`` in CheXlocalize's hit rate.
    sign : {"signed", "positive", "absolute"}, default "signed"
    weighted : bool, default False
        A hit scores ``1 - |mask| / (H * W)`` (quantus 0.6.0's intent; it raises ``TypeError``
        there whenever a sample hits).

    Returns
    -------
    Tensor
        float64, (N,), a hit indicator, or the expected hit in [0, 1] with ``ties="average"``
        (times the weight when ``weighted``); NaN for an empty mask (quantus 0.6.0 scores it as a hit).

    References
    ----------
    Zhang et al. (2018). Top-down neural attention by excitation backprop. IJCV 126, 1084-1102.
    Saporta et al. (2022). Benchmarking saliency methods for chest X-ray interpretation.
    Nature Machine Intelligence 4, 867-878.

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([[[[1.0, 3.0], [3.0, 0.0]]]])
    >>> s = torch.tensor([[[[False, False], [True, False]]]])
    >>> pointing_game(a, s), pointing_game(a, s, ties="any"), pointing_game(a, s, ties="first")
    (tensor([0.5000], dtype=torch.float64), tensor([1.], dtype=torch.float64), tensor([0.], dtype=torch.float64))
    """
    ctx = "pointing_game"
    check_option("ties", ties, POINTING_TIES, context=ctx)
    a, s = prepare(attributions, masks, sign=sign, normalise=normalise,
                   channel_reduce=channel_reduce, context=ctx)
    xp = rows_backend(a)
    an, sn = xp.asarray(a), xp.asarray(s)
    size = xp.count(sn)
    if ties == "first":
        hit = xp.take(sn, xp.argmax(an)) * 1.0
    else:
        at_max = an == xp.amax(an)
        inside = xp.count(at_max & sn)
        hit = (inside > 0) * 1.0 if ties == "any" else inside / xp.count(at_max)
    hit, size = xp.totensor(hit, a).to(a.device).double(), xp.totensor(size, a).to(a.device)
    if weighted:
        hit = hit * (1 - size.double() / a.shape[1])
    return finish(hit, set_code(new_codes(a), size == 0, EMPTY_MASK), return_reasons)
