"""Agreement between maps: repeatability, reproducibility, and the random-pair floor.

Arun et al. (2021) call a method *repeatable* when two models of one architecture trained with
different seeds give similar maps of the same image, *reproducible* when two architectures do, and
read the randomisation test against the similarity of maps of *random pairs of different images*:
a map that after randomisation is no more like the original than two unrelated maps are has
passed. All three reduce to a per-sample similarity between two maps:

* :func:`top_k_iou`: intersection over union of the ``k`` highest-ranked pixels of each map;
* Spearman rank correlation and SSIM (:func:`xaikit.metrics.spearman_correlation`, :func:`xaikit.metrics.ssim`).

The preprocessing (channel reduction, ``sign``, per-sample ``normalise``) is that of every metric.
"""
from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

import numpy as np
import pandas as pd
import torch

from .._validation import check_float, check_int, check_option
from ._checks import MetricResult
from ._randomisation import _prepare_pair, spearman_correlation, ssim
from ._registry import register_metric

__all__ = ["AGREEMENTS", "agreement_table", "map_agreement", "random_pair_similarity", "top_k_iou"]

#: The similarity measures :func:`map_agreement` dispatches to.
AGREEMENTS = ("spearman", "ssim", "top_k_iou")


def _top_k_count(k: int | float, p: int, ctx: str) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, float, np.integer, np.floating)):
        raise ValueError(f"k of {ctx} must be an int in [1, {p}] or a fraction in (0, 1]; got {k!r}")
    if isinstance(k, (float, np.floating)):
        frac = check_float("k", float(k), min_value=0.0, max_value=1.0, context=ctx)
        if frac == 0.0:
            raise ValueError(f"k of {ctx} must be an int in [1, {p}] or a fraction in (0, 1]; got {k!r}")
        return max(1, int(round(frac * p)))
    return check_int("k", int(k), min_value=1, max_value=p, context=ctx)


@register_metric("top_k_iou", kind="agreement", needs=("attributions", "other"))
def top_k_iou(attributions, other, *, k: int | float = 0.1, sign: str = "signed", normalise: str = "none",
              channel_reduce: str = "sum") -> torch.Tensor:
    """Intersection over union of the top-``k`` pixels of two maps of each sample.

    Parameters
    ----------
    attributions, other : Tensor, (N, C, H, W) or (N, H, W)
        Two maps per sample, same shape, finite.
    k : int or float, default 0.1
        A number of pixels (int, ``1 <= k <= H*W``) or a share of them (float in (0, 1], rounded,
        at least one pixel).
    sign, normalise, channel_reduce
        As for every metric; ``normalise`` does not change the ranking.

    Returns
    -------
    Tensor
        float64, (N,), in [0, 1]: ``|A ∩ B| / |A ∪ B| = i / (2k - i)`` with ``i`` the shared
        pixels. Ties are ranked by ascending flat index (``argsort(-a, kind="stable")``). Two maps
        whose top sets are independent random draws score ``k / (2P - k)`` on average.

    References
    ----------
    Arun et al. (2021). Assessing the trustworthiness of saliency maps for localizing abnormalities in
    medical imaging. Radiology: Artificial Intelligence 3(6), e200267.

    Examples
    --------
    >>> a = torch.tensor([[[4.0, 3.0], [2.0, 1.0]]])
    >>> top_k_iou(a, a.flip(-1), k=2)
    tensor([1.], dtype=torch.float64)
    >>> top_k_iou(a, -a, k=2)
    tensor([0.], dtype=torch.float64)
    """
    ctx = "top_k_iou"
    a, b = _prepare_pair(attributions, other, sign, normalise, channel_reduce, ctx)
    n, p = a.shape
    kk = _top_k_count(k, p, ctx)
    top = []
    for m in (a, b):
        idx = torch.sort(m, dim=1, descending=True, stable=True).indices[:, :kk]
        top.append(torch.zeros_like(m, dtype=torch.bool).scatter_(1, idx, True))
    inter = (top[0] & top[1]).sum(dim=1).double()
    return inter / (2 * kk - inter)


@register_metric("map_agreement", kind="agreement", needs=("attributions", "other"))
def map_agreement(attributions, other, *, measure: str = "spearman", return_reasons: bool = False, **kwargs):
    """Per-sample similarity of two maps by one of ``AGREEMENTS``.

    Keyword arguments go to :func:`top_k_iou`, :func:`xaikit.metrics.spearman_correlation` or
    :func:`xaikit.metrics.ssim`. ``return_reasons=True`` returns a :class:`MetricResult` saying why a score is
    NaN (e.g. a constant map has no rank correlation); top-k IoU is never NaN.

    Examples
    --------
    >>> a = torch.rand(3, 1, 8, 8)
    >>> map_agreement(a, 2 * a, measure="spearman").tolist()
    [1.0, 1.0, 1.0]
    """
    check_option("measure", measure, AGREEMENTS, context="map_agreement")
    fn = {"spearman": spearman_correlation, "ssim": ssim, "top_k_iou": top_k_iou}[measure]
    if measure == "top_k_iou":
        scores = fn(attributions, other, **kwargs)
        return MetricResult(scores, torch.zeros(len(scores), dtype=torch.int8)) if return_reasons else scores
    return fn(attributions, other, return_reasons=return_reasons, **kwargs)


def agreement_table(maps: Mapping[str, torch.Tensor], *, measures=AGREEMENTS, **kwargs) -> pd.DataFrame:
    """Similarity of every pair of map sets over the same images: repeatability or reproducibility.

    Parameters
    ----------
    maps : mapping name -> Tensor (N, C, H, W)
        The maps of the same ``N`` images from each model: seeds of one architecture
        (repeatability) or several architectures (reproducibility). At least two entries.
    measures : sequence of {"spearman", "ssim", "top_k_iou"}, default all three
    **kwargs
        Passed to every measure (e.g. ``sign="absolute"``); ``k`` goes to ``top_k_iou`` only.

    Returns
    -------
    DataFrame
        Tidy: ``map_a, map_b, sample, measure, score``, one row per pair x image x measure, pairs in
        the order of ``maps``.

    Examples
    --------
    >>> maps = {"seed0": torch.rand(2, 1, 8, 8), "seed1": torch.rand(2, 1, 8, 8)}
    >>> agreement_table(maps, measures=["top_k_iou"], k=0.5).shape
    (2, 5)
    """
    ctx = "agreement_table"
    if not isinstance(maps, Mapping) or len(maps) < 2:
        raise ValueError(f"maps of {ctx} must be a mapping of at least two name -> Tensor entries")
    measures = [measures] if isinstance(measures, str) else list(measures)
    if not measures:
        raise ValueError(f"measures of {ctx} must name at least one of {AGREEMENTS}")
    for m in measures:
        check_option("measures", m, AGREEMENTS, context=ctx)
    k = kwargs.pop("k", 0.1)
    frames = []
    for name_a, name_b in combinations(maps, 2):
        for m in measures:
            extra = {"k": k} if m == "top_k_iou" else {}
            s = map_agreement(maps[name_a], maps[name_b], measure=m, **kwargs, **extra).cpu().numpy()
            frames.append(pd.DataFrame({"map_a": name_a, "map_b": name_b, "sample": np.arange(len(s)),
                                        "measure": m, "score": s}))
    return pd.concat(frames, ignore_index=True)


def random_pair_similarity(attributions, *, n_pairs: int = 50, measure: str = "ssim", seed: int = 0,
                           **kwargs) -> torch.Tensor:
    """Similarity of the maps of random pairs of *different* images: the floor for randomisation.

    Arun et al. pass a method's randomisation test when the similarity between its original and its
    randomised-model maps falls below the mean similarity of 50 random pairs of maps. Pairs are drawn
    with ``numpy.random.default_rng(seed)``: ``i`` uniform over the ``N`` images, ``j = (i + d) mod N``
    with ``d`` uniform in ``1..N-1`` (so ``j != i``, every ordered pair equally likely).

    Parameters
    ----------
    attributions : Tensor, (N, C, H, W) or (N, H, W), N >= 2
        The maps of one method and model on ``N`` different images.
    n_pairs : int, default 50
    measure : {"ssim", "spearman", "top_k_iou"}, default "ssim"
    seed : int, default 0
    **kwargs
        Passed to the measure (``sign``, ``normalise``, ``k``, ...).

    Returns
    -------
    Tensor
        float64, (n_pairs,): one similarity per pair; its mean is the threshold.

    References
    ----------
    Arun et al. (2021). Radiology: Artificial Intelligence 3(6), e200267.

    Examples
    --------
    >>> a = torch.rand(6, 1, 8, 8)
    >>> random_pair_similarity(a, n_pairs=4, measure="spearman").shape
    torch.Size([4])
    """
    ctx = "random_pair_similarity"
    check_int("n_pairs", n_pairs, min_value=1, context=ctx)
    check_int("seed", seed, min_value=0, context=ctx)
    check_option("measure", measure, AGREEMENTS, context=ctx)
    a = torch.as_tensor(attributions)
    if a.ndim not in (3, 4) or a.shape[0] < 2:
        raise ValueError(f"attributions of {ctx} must have shape (N, C, H, W) or (N, H, W) with N >= 2; "
                         f"got {tuple(a.shape)}")
    n = a.shape[0]
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, size=n_pairs)
    j = (i + rng.integers(1, n, size=n_pairs)) % n
    i, j = torch.from_numpy(i).to(a.device), torch.from_numpy(j).to(a.device)
    return map_agreement(a[i], a[j], measure=measure, **kwargs)
