"""INFORMER's class distinctiveness: how different each class's saliency map is from the others' (paper 002, eq. 1).

For an image with class-specific maps S_1 … S_K, ``d_ij = 1 − cos(S_i, S_j)`` and
``d_i = Σ_{j≠i} d_ij`` (the L1 norm of the vector v_i of the paper's Fig. 2). With K = 5,
``d_i ∈ [0, 8]``: 0 when every map points the same way, 4 when all are orthogonal.
"""
from __future__ import annotations

import numpy as np
import torch

from .._conventions import SIGNS
from .._validation import check_option

__all__ = ["class_distinctiveness", "SIGNS", "ZERO_NORM_POLICIES"]

# SIGNS (xaikit._conventions): how a map's sign is treated before the cosine (paper 002 does not say;
# its CoSim ∈ [−1, 1] suggests signed).
#: What a zero map (cosine undefined) contributes: "orthogonal" (d_ij = 1), "nan", or "raise".
ZERO_NORM_POLICIES = ("orthogonal", "nan", "raise")


def _as_tensor(maps) -> torch.Tensor:
    t = maps.detach() if isinstance(maps, torch.Tensor) else torch.as_tensor(np.asarray(maps))
    if not t.is_floating_point():
        t = t.to(torch.float64)
    return t


def class_distinctiveness(maps, *, sign: str = "signed", channels: str = "sum",
                          zero_norm: str = "orthogonal", return_pairwise: bool = False):
    """Class distinctiveness d (N, K) of class-specific maps (N, K, ...), one batched Gram matrix per image.

    Parameters
    ----------
    maps : tensor or array (N, K, C, H, W) (as :func:`xaikit.explain.class_maps` returns) or (N, K, D):
        K ≥ 2 maps per image, one per class, all of one shape.
    sign : "signed" (default: the maps as they are), "absolute" (``|S|``) or "positive" (ReLU(S)),
        applied before the cosine. Cosine is scale-invariant, so dividing a map by its maximum has no
        effect; a shift (min–max normalisation) would, and is not offered.
    channels : "sum" (default, captum's convention: sum (N, K, C, H, W) maps over C first) or "none"
        (flatten the channels into the vector). Ignored for (N, K, D) input.
    zero_norm : a map that is all zeros has no direction. "orthogonal" (default) counts it as
        orthogonal to every map (d_ij = 1; two zero maps also give 1), "nan" makes every d of the image
        that involves it NaN, "raise" raises ``ValueError``.
    return_pairwise : also return the (N, K, K) matrix of d_ij (zero diagonal).

    Returns
    -------
    numpy.ndarray
        d, float64, shape (N, K), in [0, 2(K − 1)]; and the pairwise matrix if asked.

    References
    ----------
    Shu, Pahud de Mortanges, Poellinger, Mahapatra, Reyes. INFORMER: Interpretability Founded Monitoring of
    Medical Image Deep Learning Models (UNSURE 2024), eq. 1 and Fig. 2.

    Examples
    --------
    >>> maps = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])  # one image, 3 classes, 2 pixels
    >>> class_distinctiveness(maps).round(3)
    array([[1.293, 1.293, 0.586]])
    """
    ctx = "class_distinctiveness"
    check_option("sign", sign, SIGNS, context=ctx)
    check_option("channels", channels, ("sum", "none"), context=ctx)
    check_option("zero_norm", zero_norm, ZERO_NORM_POLICIES, context=ctx)
    t = _as_tensor(maps)
    if t.ndim < 3 or t.shape[1] < 2:
        raise ValueError(f"maps of {ctx} must have shape (N, K, ...) with K >= 2 classes, got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"maps of {ctx} contain NaN or infinite values")
    if t.ndim == 5 and channels == "sum":
        t = t.sum(dim=2)
    t = t.to(torch.float64)
    if sign == "absolute":
        t = t.abs()
    elif sign == "positive":
        t = t.clamp(min=0)
    n, k = t.shape[:2]
    v = t.reshape(n, k, -1)
    norm = torch.linalg.vector_norm(v, dim=2)  # (N, K)
    zero = norm == 0
    if zero.any() and zero_norm == "raise":
        bad = torch.nonzero(zero)[:5].tolist()
        raise ValueError(f"maps of {ctx} hold all-zero maps (cosine undefined) at (image, class) {bad}; "
                         "use zero_norm='orthogonal' or 'nan'")
    unit = v / torch.where(zero, torch.ones_like(norm), norm)[..., None]
    cos = (unit @ unit.transpose(1, 2)).clamp(-1.0, 1.0)  # (N, K, K); a zero map gives cos 0 = orthogonal
    dist = 1.0 - cos
    dist.diagonal(dim1=1, dim2=2).zero_()
    if zero_norm == "nan" and zero.any():
        involved = zero[:, :, None] | zero[:, None, :]
        involved.diagonal(dim1=1, dim2=2).fill_(False)
        dist = torch.where(involved, torch.full_like(dist, float("nan")), dist)
    d = dist.sum(dim=2).cpu().numpy()
    return (d, dist.cpu().numpy()) if return_pairwise else d
