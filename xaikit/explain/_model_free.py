"""Model-free baseline maps: what a localisation score is worth when the model is ignored.

A method "localises" only where it beats the strongest map that needs no model at all (XAI-TRIS,
Clark et al. 2024, compares with Sobel, Laplace, random and input-image maps). Every baseline
returns one map per image, shape ``(N, 1, H, W)`` float64 on the images' device, scored by the
same metric code as the explainers' maps (multi-channel images are averaged over channels first).

=================  ========================================================================
name               map
=================  ========================================================================
random             i.i.d. standard normal values (signed; E[RRA] is the mask's share)
smoothed_random    white noise smoothed by a Gaussian whose sigma makes the maps'
                   autocorrelation length equal that of ``reference_maps`` (sigma = L / 2)
sobel              Sobel gradient magnitude, ``hypot(sobel(x, -1), sobel(x, -2))``
laplace            absolute Laplacian ``|laplace(x)|``
intensity          the image itself
organ              the organ mask (1 inside, 0 outside)
random_in_organ    uniform values in (0, 1] inside the organ, 0 outside
centre             Gaussian centre prior, sigma a quarter of the shorter side
evidence           the evidence (lesion) mask: the ceiling no explanation can beat
=================  ========================================================================

Filters are ``scipy.ndimage``'s with their default ``mode="reflect"``.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage

from .._validation import check_int, check_option

__all__ = ["MODEL_FREE_MAPS", "autocorrelation_length", "model_free_map"]

#: Every model-free baseline: name -> one-line definition (the validators and tests read this).
MODEL_FREE_MAPS: dict[str, str] = {
    "random": "i.i.d. standard normal values",
    "smoothed_random": "Gaussian-smoothed white noise, autocorrelation length matched to reference_maps",
    "sobel": "Sobel gradient magnitude of the image",
    "laplace": "absolute Laplacian of the image",
    "intensity": "the image intensity",
    "organ": "the organ mask",
    "random_in_organ": "uniform random values inside the organ mask, 0 outside",
    "centre": "Gaussian centre prior (sigma = a quarter of the shorter side)",
    "evidence": "the evidence mask (the ceiling)",
}

# The argument each baseline needs besides the images.
_NEEDS = {"organ": "organ_masks", "random_in_organ": "organ_masks", "evidence": "evidence_masks",
          "smoothed_random": "reference_maps"}
_CENTRE_SIGMA = 0.25
_E_FOLD = float(np.exp(-1.0))


def _as_numpy(t, name: str, *, ndim4: bool = True) -> np.ndarray:
    arr = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    if arr.ndim == 3 and ndim4:
        arr = arr[:, None]
    if arr.ndim != 4 or 0 in arr.shape:
        raise ValueError(f"{name} of model_free_map must have shape (N, C, H, W) or (N, H, W) with every size "
                         f">= 1; got {tuple(arr.shape)}")
    return arr


def _mask(masks, name: str, shape: tuple[int, ...]) -> np.ndarray:
    m = _as_numpy(masks, name)
    n, _, h, w = shape
    if m.shape != (n, 1, h, w):
        raise ValueError(f"{name} of model_free_map must have shape ({n}, 1, {h}, {w}) to match images; "
                         f"got {tuple(m.shape)}")
    if m.dtype != bool:
        if not np.isin(m, (0, 1)).all():
            raise ValueError(f"{name} of model_free_map must be binary (bool or 0/1)")
        m = m != 0
    return m


def autocorrelation_length(maps) -> np.ndarray:
    """Spatial autocorrelation length of each map: the lag (pixels) where it first falls below 1/e.

    The autocorrelation at lag ``k`` is the Pearson correlation between the map and itself shifted by
    ``k`` pixels, pooled over the horizontal and vertical shifts (all overlapping pixel pairs of
    both directions enter one correlation); the length is interpolated linearly between the last
    lag above 1/e and the first below. For white noise smoothed by a Gaussian of ``sigma`` pixels
    the autocorrelation is ``exp(-k^2 / (4 sigma^2))``, so the length is ``2 sigma``.

    Parameters
    ----------
    maps : Tensor or ndarray, (N, C, H, W) or (N, H, W)
        Channels are summed first. ``H, W >= 2``.

    Returns
    -------
    ndarray
        float64, (N,). NaN for a constant map; ``inf`` when the correlation stays above 1/e up to
        the largest lag, ``min(H, W) // 2``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> smooth = ndimage.gaussian_filter(rng.normal(size=(4, 96, 96)), sigma=(0, 3, 3))
    >>> bool(abs(np.median(autocorrelation_length(smooth)) - 6) < 1)
    True
    """
    a = _as_numpy(maps, "maps").astype(np.float64).sum(axis=1)
    n, h, w = a.shape
    if min(h, w) < 2:
        raise ValueError(f"maps of autocorrelation_length must be at least 2 x 2 pixels; got {h} x {w}")
    if not np.isfinite(a).all():
        raise ValueError("maps of autocorrelation_length must be finite")
    max_lag = min(h, w) // 2
    rho = np.ones((n, max_lag + 1))
    for k in range(1, max_lag + 1):
        pairs = [(a[:, :, k:].reshape(n, -1), a[:, :, :-k].reshape(n, -1)),
                 (a[:, k:, :].reshape(n, -1), a[:, :-k, :].reshape(n, -1))]
        x = np.concatenate([p[0] for p in pairs], axis=1)
        y = np.concatenate([p[1] for p in pairs], axis=1)
        x = x - x.mean(axis=1, keepdims=True)
        y = y - y.mean(axis=1, keepdims=True)
        den = np.sqrt((x * x).sum(axis=1) * (y * y).sum(axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            rho[:, k] = (x * y).sum(axis=1) / den
    out = np.full(n, np.inf)
    constant = ~np.isfinite(rho).all(axis=1)
    out[constant] = np.nan
    below = rho < _E_FOLD
    for i in np.flatnonzero(~constant & below.any(axis=1)):
        k = int(np.argmax(below[i]))
        r0, r1 = rho[i, k - 1], rho[i, k]
        out[i] = (k - 1) + (r0 - _E_FOLD) / (r0 - r1)
    return out


def model_free_map(name: str, images, *, organ_masks=None, evidence_masks=None, reference_maps=None,
                   seed: int = 0) -> torch.Tensor:
    """A baseline map that ignores the model, one per image (see ``MODEL_FREE_MAPS``).

    Parameters
    ----------
    name : str
        A key of ``MODEL_FREE_MAPS``.
    images : Tensor or ndarray, (N, C, H, W) or (N, H, W)
        Finite images; averaged over channels for the image-based maps.
    organ_masks : (N, 1, H, W) bool, optional
        Needed by "organ" and "random_in_organ".
    evidence_masks : (N, 1, H, W) bool, optional
        Needed by "evidence".
    reference_maps : (M, C, H', W'), optional
        Needed by "smoothed_random": attribution maps whose median
        :func:`autocorrelation_length` ``L`` the smoothed noise reproduces (Gaussian sigma ``L / 2``;
        ``L`` is taken in the reference maps' pixels, so use maps of the images' size). White-noise
        references (``L < 1``) give unsmoothed noise.
    seed : int, default 0
        Seeds the random maps (a local ``numpy.random.Generator``; global state is untouched).

    Returns
    -------
    Tensor
        float64, (N, 1, H, W), on the device of ``images`` (CPU for arrays).

    References
    ----------
    Clark, Wilming, Haufe (2024). XAI-TRIS: non-linear image benchmarks to quantify false positive
    post-hoc attribution of feature importance. Machine Learning 113.

    Examples
    --------
    >>> x = torch.zeros(1, 1, 5, 5); x[0, 0, :, 3:] = 1.0
    >>> model_free_map("sobel", x)[0, 0, 2].tolist()
    [0.0, 0.0, 4.0, 4.0, 0.0]
    """
    check_option("name", name, list(MODEL_FREE_MAPS), context="model_free_map")
    check_int("seed", seed, min_value=0, context="model_free_map")
    x = _as_numpy(images, "images")
    if not np.issubdtype(x.dtype, np.number) or not np.isfinite(x).all():
        raise ValueError("images of model_free_map must be finite numbers")
    n, _, h, w = x.shape
    given = {"organ_masks": organ_masks, "evidence_masks": evidence_masks, "reference_maps": reference_maps}
    need = _NEEDS.get(name)
    if need is not None and given[need] is None:
        raise ValueError(f"{need} of model_free_map is required for the {name!r} baseline")
    device = images.device if isinstance(images, torch.Tensor) else torch.device("cpu")
    rng = np.random.default_rng(seed)
    img = x.astype(np.float64).mean(axis=1)  # (N, H, W)
    if name == "random":
        out = rng.standard_normal((n, h, w))
    elif name == "smoothed_random":
        length = autocorrelation_length(reference_maps)
        length = length[np.isfinite(length)]
        if length.size == 0:
            raise ValueError("reference_maps of model_free_map have no finite autocorrelation length "
                             "(all constant, or correlated across the whole image)")
        sigma = float(np.median(length)) / 2
        out = rng.standard_normal((n, h, w))
        if sigma >= 0.5:
            out = ndimage.gaussian_filter(out, sigma=(0, sigma, sigma))
    elif name == "sobel":
        # per image: on a stack, ndimage.sobel would also smooth across the image axis
        out = np.stack([np.hypot(ndimage.sobel(im, axis=1), ndimage.sobel(im, axis=0)) for im in img])
    elif name == "laplace":
        out = np.abs(np.stack([ndimage.laplace(im) for im in img]))
    elif name == "intensity":
        out = img
    elif name == "centre":
        yy, xx = np.mgrid[:h, :w].astype(np.float64)
        s = _CENTRE_SIGMA * min(h, w)
        prior = np.exp(-((yy - (h - 1) / 2) ** 2 + (xx - (w - 1) / 2) ** 2) / (2 * s * s))
        out = np.broadcast_to(prior, (n, h, w)).copy()
    elif name in ("organ", "random_in_organ"):
        organ = _mask(organ_masks, "organ_masks", x.shape)[:, 0]
        if name == "organ":
            out = organ.astype(np.float64)
        else:
            out = np.where(organ, 1.0 - rng.random((n, h, w)), 0.0)
    else:  # evidence
        out = _mask(evidence_masks, "evidence_masks", x.shape)[:, 0].astype(np.float64)
    return torch.from_numpy(np.ascontiguousarray(out)).unsqueeze(1).to(device)
