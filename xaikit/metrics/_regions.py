"""Per-region relevance mass: how a map's attribution mass splits over named image regions.

Regions are bool masks (organ, lesion, body outside the organ, outside the body, a shortcut marker);
the share of a map's mass in each is :func:`relevance_mass_accuracy` with that region as the mask.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .._validation import check_float, check_int, check_option

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["REGIONS", "body_mask", "image_regions", "mass_fractions"]


#: Regions scored by :func:`mass_fractions` (see :func:`image_regions`).
REGIONS = ("organ", "lesion", "body_not_organ", "outside_body", "shortcut")



# --------------------------------------------------------------------------- regions and mass
def body_mask(images, *, threshold: float = 0.12, smooth: int = 3, organ=None) -> np.ndarray:
    """The body (head, chest) of each image: the largest bright component with its holes filled.

    Pixels of a ``smooth`` × ``smooth`` box-filtered image above ``threshold`` are foreground; the
    largest connected component is kept (a corner marker or a text tag outside the body is dropped)
    and its holes filled (dark lungs, ventricles and a dark skull are inside the body). ``organ``
    masks, if given, are added so that the organ always lies inside the body.

    Parameters
    ----------
    images : (N, C, H, W) array or tensor in [0, 1] (channels averaged).
    threshold : foreground intensity, in (0, 1).
    smooth : side of the box filter (1 = none), to keep background noise out.
    organ : optional (N, 1, H, W) bool organ masks.

    Returns
    -------
    ndarray, bool, (N, 1, H, W).

    Examples
    --------
    >>> x = np.zeros((1, 1, 9, 9), np.float32); x[0, 0, 2:7, 2:7] = 0.8; x[0, 0, 4, 4] = 0.0
    >>> int(body_mask(x, smooth=1).sum())
    25
    """
    from scipy import ndimage

    check_float("threshold", threshold, min_value=0.0, max_value=1.0, context="body_mask")
    check_int("smooth", smooth, min_value=1, context="body_mask")
    x = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {x.shape}")
    out = np.zeros((x.shape[0], 1, *x.shape[2:]), bool)
    for i in range(len(x)):
        img = x[i].mean(0)
        if smooth > 1:
            img = ndimage.uniform_filter(img, smooth, mode="nearest")
        fg = img > threshold
        lab, n = ndimage.label(fg)
        if n:
            sizes = np.bincount(lab.ravel())[1:]
            fg = lab == (1 + int(sizes.argmax()))
        if organ is not None:
            fg = fg | np.asarray(organ[i, 0], bool)
        out[i, 0] = ndimage.binary_fill_holes(fg)
    return out



def image_regions(images, *, organ=None, lesion=None, shortcut=None, body=None) -> dict[str, np.ndarray]:
    """The regions :func:`mass_fractions` scores, as (N, 1, H, W) bool masks.

    ``organ`` (brain, lungs), ``lesion`` (tumour, nodule), ``body`` (default :func:`body_mask`),
    ``body_not_organ`` = body minus organ, ``outside_body`` = not body, and ``shortcut`` (the
    spurious marker) where given. Missing organ/lesion/shortcut masks (real data) are left out.
    ``organ``, ``body_not_organ`` and ``outside_body`` partition the image.

    Examples
    --------
    >>> x = np.zeros((1, 1, 8, 8), np.float32); x[0, 0, 2:6, 2:6] = 0.9
    >>> org = np.zeros((1, 1, 8, 8), bool); org[0, 0, 3:5, 3:5] = True
    >>> regions = image_regions(x, organ=org, body=body_mask(x, smooth=1))
    >>> {k: int(v.sum()) for k, v in regions.items()}
    {'organ': 4, 'body_not_organ': 12, 'outside_body': 48}
    """
    x = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images)
    shape = (x.shape[0], 1, *x.shape[2:])

    def check(name, m):
        if m is None:
            return None
        m = np.asarray(m.detach().cpu() if hasattr(m, "detach") else m)
        if m.shape != shape:
            raise ValueError(f"{name} masks must have shape {shape} to match images {x.shape}, got {m.shape}")
        return m.astype(bool)

    organ, lesion, shortcut = check("organ", organ), check("lesion", lesion), check("shortcut", shortcut)
    body = check("body", body) if body is not None else body_mask(x, organ=organ)
    if organ is not None:
        body = body | organ
    regions: dict[str, np.ndarray] = {}
    if organ is not None:
        regions["organ"] = organ
    if lesion is not None:
        regions["lesion"] = lesion
    regions["body_not_organ"] = body & ~organ if organ is not None else body
    regions["outside_body"] = ~body
    if shortcut is not None:
        regions["shortcut"] = shortcut
    return regions



def mass_fractions(attributions, regions: Mapping[str, object], *, sign: str = "absolute",
                   channel_reduce: str = "sum", index: Sequence | None = None) -> pd.DataFrame:
    """Share of each map's attribution mass inside each region, as a tidy frame.

    For image ``i`` and region ``R``: ``fraction = sum_{p in R} m_i(p) / sum_p m_i(p)`` with
    ``m = |a|`` (``sign="absolute"``, where the evidence for *and* against lies) or ``m = max(a, 0)``
    (``"positive"``, the evidence for the explained class), after summing channels. This is
    :func:`xaikit.metrics.relevance_mass_accuracy` with that sign, once per region.

    Parameters
    ----------
    attributions : (N, C, H, W) or (N, H, W), finite.
    regions : name → (N, 1, H, W) bool masks (e.g. from :func:`image_regions`).
    sign : "absolute" or "positive".
    channel_reduce : "sum" or "mean" over channels before ``sign``.
    index : image identifiers for the ``image`` column (default 0..N-1).

    Returns
    -------
    DataFrame ``image, region, fraction, area, reason``: ``area`` is the region's share of the image
    (what a map of i.i.d. values would put there on average); ``fraction`` is NaN where undefined,
    with ``reason`` saying why ("empty mask ..." for an image without that region, e.g. the lesion of
    a no-tumour image; "zero total relevance ..." / "no positive relevance ..." for a map with no mass).

    Examples
    --------
    >>> a = np.zeros((1, 1, 2, 2)); a[0, 0, 0, 0] = 3.0; a[0, 0, 1, 1] = -1.0
    >>> m = np.zeros((1, 1, 2, 2), bool); m[0, 0, 0] = True
    >>> mass_fractions(a, {"top": m, "bottom": ~m})[["region", "fraction", "area"]].to_dict("records")
    [{'region': 'top', 'fraction': 0.75, 'area': 0.5}, {'region': 'bottom', 'fraction': 0.25, 'area': 0.5}]
    """
    import pandas as pd
    import torch

    from ._localisation import relevance_mass_accuracy

    check_option("sign", sign, ("absolute", "positive"), context="mass_fractions")
    if not regions:
        raise ValueError("regions of mass_fractions must name at least one mask")
    a = torch.as_tensor(np.asarray(attributions.detach().cpu() if hasattr(attributions, "detach") else attributions))
    if a.ndim == 3:
        a = a.unsqueeze(1)
    if a.ndim != 4:
        raise ValueError(f"attributions of mass_fractions must have shape (N, C, H, W) or (N, H, W), "
                         f"got {tuple(a.shape)}")
    a = a.to(torch.float64)
    n = a.shape[0]
    idx = np.arange(n) if index is None else np.asarray(index)
    if len(idx) != n:
        raise ValueError(f"index has {len(idx)} entries for {n} maps")
    frames = []
    for name, mask in regions.items():
        m = torch.as_tensor(np.asarray(mask.detach().cpu() if hasattr(mask, "detach") else mask))
        res = relevance_mass_accuracy(a, m, sign=sign, channel_reduce=channel_reduce, return_reasons=True)
        area = m.reshape(n, -1).double().mean(1).numpy() if m.shape[0] == n else np.full(n, np.nan)
        frames.append(pd.DataFrame({"image": idx, "region": name, "fraction": res.scores.numpy(),
                                    "area": area, "reason": res.reasons()}))
    return pd.concat(frames, ignore_index=True)
