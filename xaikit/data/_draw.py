"""Vectorised drawing kernels shared by the phantoms.

Every function works on a batch: coordinates are ``(1, H, W)`` grids in (0, 1)
and shape parameters are ``(B, 1, 1)`` arrays, so one call draws a structure in
all ``B`` images at once. Nothing here loops over pixels.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = [
    "grid", "ellipse_radius", "soft", "soft_ellipse", "smooth_noise", "angular_noise",
    "sample_angular", "band", "paint_lesion", "splat", "irregular_blob",
    "resize", "resize_matrix", "crop_box",
]

F32 = np.float32


def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates ``(xx, yy)`` in (0, 1), each of shape ``(1, size, size)``.

    Examples
    --------
    >>> xx, yy = grid(4)
    >>> xx.shape, float(xx[0, 0, 0])
    ((1, 4, 4), 0.125)
    """
    c = (np.arange(size, dtype=F32) + F32(0.5)) / F32(size)
    xx, yy = np.meshgrid(c, c, indexing="xy")
    return xx[None], yy[None]


def ellipse_radius(xx, yy, cx, cy, rx, ry, angle=0.0) -> np.ndarray:
    """Normalised elliptic radius: < 1 inside the ellipse, 1 on its border."""
    dx, dy = xx - cx, yy - cy
    if np.any(angle != 0):
        c, s = np.cos(angle), np.sin(angle)
        dx, dy = c * dx + s * dy, -s * dx + c * dy
    return np.sqrt((dx / rx) ** 2 + (dy / ry) ** 2).astype(F32)


def soft(signed_distance, width) -> np.ndarray:
    """A 0→1 ramp ``width`` wide (same units as the distance), 1 where the distance is positive.

    A clipped linear ramp: as smooth as the eye needs, and far cheaper than ``tanh``.
    """
    return np.clip(np.asarray(signed_distance, F32) * F32(0.5 / width) + F32(0.5), 0.0, 1.0)


def soft_ellipse(xx, yy, cx, cy, rx, ry, angle=0.0, edge=0.01) -> np.ndarray:
    """A filled ellipse with a smooth border ``edge`` wide (in image units)."""
    r = ellipse_radius(xx, yy, cx, cy, rx, ry, angle)
    return soft((1.0 - r) * np.minimum(rx, ry), edge)


def smooth_noise(rng: np.random.Generator, batch: int, size: int, scale: float) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian random field with correlation length ``scale`` (image units).

    White noise on a coarse grid is interpolated with separable Gaussian weights
    (two small matrix products per image), so the cost hardly depends on ``scale``.
    """
    m = int(np.clip(np.ceil(1.0 / scale), 2, size))
    coarse = rng.standard_normal((batch, m, m), dtype=F32)
    fine = (np.arange(size, dtype=F32) + 0.5) / size
    knots = (np.arange(m, dtype=F32) + 0.5) / m
    w = np.exp(-0.5 * ((fine[:, None] - knots[None, :]) * m / 0.75) ** 2).astype(F32)
    w /= np.sqrt((w ** 2).sum(axis=1, keepdims=True))  # unit variance for white input
    return separable(w, coarse)


def angular_noise(rng: np.random.Generator, shape: tuple[int, ...], n_bins: int = 256,
                  smooth: float = 3.0) -> np.ndarray:
    """Periodic smooth 1-D noise tables of shape ``shape + (n_bins,)``, unit variance."""
    x = rng.standard_normal(shape + (n_bins,)).astype(F32)
    x = ndimage.gaussian_filter1d(x, smooth, axis=-1, mode="wrap")
    return x / (x.std(axis=-1, keepdims=True) + 1e-6)


def sample_angular(table: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Look up per-image tables ``(B, n_bins)`` at angles ``theta`` ``(B, H, W)`` (radians)."""
    b, n_bins = table.shape
    idx = (np.mod(theta, 2 * np.pi) * (n_bins / (2 * np.pi))).astype(np.int64) % n_bins
    idx = np.broadcast_to(idx, (b,) + idx.shape[1:])
    return np.take_along_axis(table, idx.reshape(b, -1), axis=1).reshape(idx.shape)


def band(distance, half_width, edge) -> np.ndarray:
    """A smooth band of ``half_width`` around the zero set of ``distance``."""
    return soft(half_width - np.abs(distance), edge)


def paint_lesion(background: np.ndarray, alpha: np.ndarray, target: np.ndarray | None,
                 contrast: float, pattern: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The intensity offset a lesion adds, and its mask, for one image.

    The mask is the support of ``alpha`` (> 0): exactly the pixels the lesion changes.
    With ``target`` the lesion replaces the tissue (``alpha`` blends towards ``target``);
    without it, ``pattern`` (default 1) is added. Either way a constant multiple of
    ``alpha`` is then added so that the mean offset over the mask equals ``contrast``
    exactly: the configured contrast is what the image shows.
    """
    mask = alpha > 0
    if not mask.any():
        return np.zeros_like(background), mask
    if target is not None:
        offset = alpha * (target - background)
        a_mean = alpha[mask].mean()
        offset = offset + alpha * ((contrast - offset[mask].mean()) / a_mean)
    else:
        p = alpha if pattern is None else alpha * pattern
        offset = p * (contrast / p[mask].mean())
    return np.where(mask, offset, 0.0).astype(F32), mask


def resize_matrix(src: int, dst: int) -> np.ndarray:
    """(dst, src) linear-interpolation matrix (align corners off), rows sum to 1."""
    pos = np.clip((np.arange(dst) + 0.5) * src / dst - 0.5, 0, src - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, src - 1)
    w = (pos - lo).astype(F32)
    m = np.zeros((dst, src), F32)
    m[np.arange(dst), lo] += 1 - w
    m[np.arange(dst), hi] += w
    return m


def resize(fields: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of ``(B, h, h)`` fields to ``(B, size, size)`` by two matrix products."""
    h = fields.shape[-1]
    if h == size:
        return fields
    pos = np.clip((np.arange(size) + 0.5) * h / size - 0.5, 0, h - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, h - 1)
    w = (pos - lo).astype(F32)
    x = fields[:, lo, :] * (1 - w)[:, None] + fields[:, hi, :] * w[:, None]
    return x[:, :, lo] * (1 - w) + x[:, :, hi] * w


def separable(m: np.ndarray, fields: np.ndarray) -> np.ndarray:
    """``m @ f @ m.T`` for every ``f`` in the batch ``(B, h, h)``, as two large matrix products."""
    b, h, _ = fields.shape
    s = m.shape[0]
    x = np.ascontiguousarray(fields, dtype=F32).reshape(b * h, h) @ m.T  # (B*h, s): columns
    x = np.ascontiguousarray(x.reshape(b, h, s).transpose(0, 2, 1)).reshape(b * s, h) @ m.T  # rows
    return np.ascontiguousarray(x.reshape(b, s, s).transpose(0, 2, 1))


def crop_box(cx: float, cy: float, radius: float, size: int) -> tuple[slice, slice]:
    """Row and column slices of the square of half-side ``radius`` (image units) around a point."""
    y0, y1 = int(np.floor((cy - radius) * size)), int(np.ceil((cy + radius) * size))
    x0, x1 = int(np.floor((cx - radius) * size)), int(np.ceil((cx + radius) * size))
    return slice(max(0, y0), min(size, y1)), slice(max(0, x0), min(size, x1))


def splat(shape: tuple[int, int, int], b: np.ndarray, y: np.ndarray, x: np.ndarray, amp: np.ndarray,
          sigma_px: float) -> np.ndarray:
    """Gaussian dots of std ``sigma_px`` at image-unit positions ``(y, x)`` in images ``b``."""
    n, h, w = shape
    out = np.zeros(shape, F32)
    yi = np.clip((y * h).astype(np.int64), 0, h - 1)
    xi = np.clip((x * w).astype(np.int64), 0, w - 1)
    np.add.at(out, (b, yi, xi), amp.astype(F32))
    out = ndimage.gaussian_filter(out, (0, sigma_px, sigma_px), truncate=3.0)
    return out * F32(2 * np.pi * sigma_px ** 2)  # peak of an isolated dot = amp


def irregular_blob(xx, yy, cx, cy, r, rng: np.random.Generator, irregularity: float = 0.25,
                   n_harmonics: int = 5, angle_jitter: bool = True) -> np.ndarray:
    """Normalised radius of a star-shaped blob: the border radius is ``r`` times a random
    low-order Fourier series of the angle. < 1 inside."""
    dx, dy = xx - cx, yy - cy
    theta = np.arctan2(dy, dx)
    rad = np.ones_like(theta)
    for k in range(2, 2 + n_harmonics):
        a = irregularity * rng.normal() / k
        rad = rad + a * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    rad = np.maximum(rad, 0.3)
    return (np.sqrt(dx ** 2 + dy ** 2) / (r * rad)).astype(F32)


def blob_alpha(size: int, cx: float, cy: float, r: float, rng: np.random.Generator,
               irregularity: float = 0.3, edge: float = 0.2, extent: float = 1.6) -> np.ndarray:
    """(size, size) opacity of one irregular blob, computed only on a crop around it.

    ``alpha = soft(1 - radius, edge)`` with the radius from :func:`irregular_blob`; exactly zero
    beyond ``extent`` radii, so the support is bounded.
    """
    out = np.zeros((size, size), F32)
    rows, cols = crop_box(cx, cy, r * extent * (1 + 2 * irregularity), size)
    c = (np.arange(size, dtype=F32) + F32(0.5)) / F32(size)
    yy, xx = c[rows][:, None], c[cols][None, :]
    rad = irregular_blob(xx, yy, cx, cy, r, rng, irregularity)
    a = soft(1.0 - rad, edge)
    out[rows, cols] = np.where(rad < extent, a, 0.0)
    return out
