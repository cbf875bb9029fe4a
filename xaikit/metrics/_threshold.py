"""Binarise a map (Otsu or a fixed threshold) and compare it with the mask: IoU per sample."""
from __future__ import annotations

import torch

from .._validation import check_float, check_int, check_option
from ._checks import CONSTANT_MAP, EMPTY_MASK, EMPTY_PREDICTION, finish, new_codes, prepare, set_code
from ._registry import register_metric

__all__ = ["otsu_threshold", "iou"]


def otsu_threshold(maps: torch.Tensor, *, bins: int = 256) -> torch.Tensor:
    """Otsu's threshold of every row of ``maps`` (N, P), batched; foreground is ``> threshold``.

    The histogram has ``bins`` equal bins over each row's [min, max]; the threshold is the centre
    of the last background bin that maximises the between-class variance (first maximum), as
    ``skimage.filters.threshold_otsu``. A constant row returns its value (nothing is foreground).
    As there, values in the threshold's own bin but above its centre count as foreground.

    References
    ----------
    Otsu (1979). A threshold selection method from gray-level histograms. IEEE Trans. SMC 9(1).
    """
    check_int("bins", bins, min_value=2, context="otsu_threshold")
    x = maps.double()
    n = x.shape[0]
    lo, hi = x.amin(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)
    width = (hi - lo) / bins
    idx = ((x - lo) / torch.where(width > 0, width, 1.0)).long().clamp(0, bins - 1)
    hist = torch.zeros(n, bins, dtype=torch.float64, device=x.device)
    hist.scatter_add_(1, idx, torch.ones_like(x))
    centres = lo + width * (torch.arange(bins, device=x.device, dtype=torch.float64) + 0.5)
    w0 = hist.cumsum(dim=1)
    m0 = (hist * centres).cumsum(dim=1)
    w1 = w0[:, -1:] - w0
    m1 = m0[:, -1:] - m0
    mu0 = m0 / w0.clamp(min=1e-300)
    mu1 = m1 / w1.clamp(min=1e-300)
    between = (w0 * w1 * (mu0 - mu1) ** 2)[:, :-1]
    best = between.argmax(dim=1, keepdim=True)
    t = centres.gather(1, best)[:, 0]
    return torch.where(width[:, 0] > 0, t, hi[:, 0])


@register_metric("iou", kind="localisation")
def iou(attributions, masks, *, threshold: float | str = "otsu", sign: str = "signed",
        normalise: str = "minmax", channel_reduce: str = "sum", bins: int = 256,
        empty_prediction: str = "zero", return_reasons: bool = False):
    """Intersection over union of the thresholded map and the mask.

    Parameters
    ----------
    threshold : "otsu" or float, default "otsu"
        Pixels strictly above the threshold are predicted foreground. A float is compared with
        the map after ``sign`` and ``normalise`` (default min-max to [0, 1], as CheXlocalize).
    normalise : {"none", "max", "minmax"}, default "minmax"
    bins : int, default 256
        Histogram bins for Otsu (CheXlocalize thresholds an 8-bit image).
    empty_prediction : {"zero", "nan"}, default "zero"
        An empty prediction scores 0 (the union is the mask), or NaN as CheXlocalize's
        ``true_pos_only=True``.

    Returns
    -------
    Tensor
        float64, (N,); NaN for an empty mask, a constant map under Otsu, or (if asked) an
        empty prediction.

    References
    ----------
    Saporta et al. (2022). Benchmarking saliency methods for chest X-ray interpretation.
    Nature Machine Intelligence 4, 867-878.

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([[[[1.0, 0.9], [0.0, 0.0]]]])
    >>> s = torch.tensor([[[[True, False], [False, False]]]])
    >>> iou(a, s), iou(a, s, threshold=0.95)
    (tensor([0.5000], dtype=torch.float64), tensor([1.], dtype=torch.float64))
    """
    ctx = "iou"
    check_option("empty_prediction", empty_prediction, ("zero", "nan"), context=ctx)
    if isinstance(threshold, str):
        check_option("threshold", threshold, ("otsu",), context=ctx)
    else:
        check_float("threshold", threshold, context=ctx)
    a, s = prepare(attributions, masks, sign=sign, normalise=normalise,
                   channel_reduce=channel_reduce, context=ctx)
    codes = new_codes(a)
    if threshold == "otsu":
        t = otsu_threshold(a, bins=bins).to(a.dtype)
        codes = set_code(codes, a.amax(dim=1) == a.amin(dim=1), CONSTANT_MAP)
    else:
        t = torch.full((a.shape[0],), float(threshold), dtype=a.dtype, device=a.device)
    pred = a > t[:, None]
    inter = (pred & s).sum(dim=1).double()
    union = (pred | s).sum(dim=1).double()
    codes = set_code(codes, s.sum(dim=1) == 0, EMPTY_MASK)
    if empty_prediction == "nan":
        codes = set_code(codes, pred.sum(dim=1) == 0, EMPTY_PREDICTION)
    return finish(inter / union.clamp(min=1), codes, return_reasons)
