"""Frontal (PA) chest radiograph anatomy, shared by the two chest phantoms.

Image convention: the patient's right is on the image's left; bone and soft
tissue are bright, air is dark. All structures are drawn for a whole batch at
once from ``(B, 1, 1)`` parameter arrays.
"""
from __future__ import annotations

import numpy as np

from ._draw import F32, angular_noise, band, ellipse_radius, grid, resize, sample_angular, smooth_noise, soft

__all__ = ["thorax_params", "render_thorax", "finish_radiograph", "lung_point"]


def thorax_params(rng: np.random.Generator, b: int) -> dict[str, np.ndarray]:
    """Random anatomy for ``b`` patients, each a ``(b, 1, 1)`` float32 array."""
    def j(mean, sd):
        return (mean + sd * rng.standard_normal((b, 1, 1))).astype(F32)

    p = {
        "x0": j(0.5, 0.01),          # midline
        "W": j(0.355, 0.018),        # half-width of the rib cage
        "top": j(0.125, 0.012),      # lung apices
        "dome_r": j(0.635, 0.025),   # top of the right hemidiaphragm (image left)
        "ctr": j(0.44, 0.025),        # cardiothoracic ratio
        "heart_dy": j(0.0, 0.012),
        "rib_phase": j(0.0, 0.25),
        "rib_space": j(0.056, 0.003),
        "body_w": j(0.455, 0.015),
    }
    p["dome_l"] = p["dome_r"] + j(0.022, 0.01)
    p["ctr"] = np.clip(p["ctr"], 0.34, 0.49).astype(F32)
    return p


def _lung_field(xx, yy, p, side: int, dome) -> np.ndarray:
    """Soft field of one lung. ``side`` -1: image left (patient's right), +1: image right."""
    d = side * (xx - p["x0"])  # distance from the midline towards this lung's lateral wall
    W, top = p["W"], p["top"]
    base = dome + 0.08
    rel = np.clip((yy - top) / (0.45 * (base - top)), 0.0, 1.0)
    lateral = W * np.sqrt(rel) * (1.0 - 0.05 * np.clip(yy - top - 0.3, 0, 1))
    medial = 0.03 + 0.02 * np.clip((yy - top) / (base - top), 0, 1)
    dcen = (d - 0.5 * W) / W
    diaphragm = dome + 0.32 * dcen ** 2
    return (soft(lateral - d, 0.008) * soft(d - medial, 0.008) * soft(diaphragm - yy, 0.008)
            * soft(yy - top + 0.01, 0.015))


RMAX = 128  # anatomy is drawn at most this fine, then resized: the structures are smooth


def render_thorax(rng: np.random.Generator, p: dict[str, np.ndarray], size: int) -> dict[str, np.ndarray]:
    """Draw the chest anatomy at ``size``. Returns float fields ``image`` (no noise yet) and
    ``lungs`` (soft air fraction), and bool masks ``lung_r``/``lung_l`` (image left / right)
    and ``heart``."""
    res = min(size, RMAX)
    xx, yy = grid(res)
    b = p["x0"].shape[0]
    x0, W = p["x0"], p["W"]
    d = np.abs(xx - x0)

    # Body: neck, sloping shoulders, upper arms at the sides, chest wall.
    half = 0.08 + (p["body_w"] - 0.08) * np.clip((yy - 0.0) / 0.2, 0, 1) ** 0.5
    body = soft(half - d, 0.01)

    # Heart: tilted ellipse, two thirds to the patient's left (image right), resting on the diaphragm.
    rx_h = p["ctr"] * W
    hy = p["dome_l"] - 0.075 + p["heart_dy"]
    heart_r = ellipse_radius(xx, yy, x0 + 0.28 * rx_h, hy, rx_h, 0.14, -0.25)
    heart = soft((1.0 - heart_r) * 0.1, 0.006)
    medi_half = 0.05 + 0.02 * np.clip((yy - 0.2) / 0.2, 0, 1)
    medi = soft(medi_half - d, 0.01) * soft(hy - yy + 0.05, 0.03)
    knob = soft(1.0 - ellipse_radius(xx, yy, x0 + 0.055, p["top"] + 0.16, 0.032, 0.03), 0.3)
    mediastinum = np.maximum(np.maximum(medi, knob), heart)
    trachea = soft(0.014 - d, 0.006) * soft(p["top"] + 0.19 - yy, 0.02)

    lung_r = _lung_field(xx, yy, p, -1, p["dome_r"]) * (1.0 - mediastinum)
    lung_l = _lung_field(xx, yy, p, +1, p["dome_l"]) * (1.0 - mediastinum)
    lungs = np.maximum(lung_r, lung_l)

    bubble = soft(1.0 - ellipse_radius(xx, yy, x0 + 0.17, p["dome_l"] + 0.065, 0.05, 0.026), 0.3)

    # Lung markings: vessels radiating from each hilum, fading to the periphery.
    marks = np.zeros((b, res, res), F32)
    tables = angular_noise(rng, (b, 2), n_bins=360, smooth=1.0)
    for k, side in enumerate((-1, 1)):
        hx, hyl = x0 + side * 0.075, p["top"] + 0.29
        r = np.sqrt((xx - hx) ** 2 + (yy - hyl) ** 2)
        theta = np.arctan2(yy - hyl, xx - hx)
        streak = np.maximum(sample_angular(tables[:, k], theta + 0.8 * r * side) - 0.3, 0.0)
        marks += (streak * 0.07 + 0.03) * np.exp(-r / 0.14) + 0.10 * np.exp(-(r / 0.04) ** 2)

    # Bones: posterior ribs arch up then down from the spine; anterior ribs slope down medially.
    rel = d / W
    space = p["rib_space"] * (1.0 + 0.25 * np.clip((yy - p["top"]) / 0.5, 0, 1))
    u = (yy - p["top"] + 0.03 + 0.12 * rel - 0.32 * rel ** 2) / space + p["rib_phase"]
    dist = (u - np.round(u)) * space
    k = np.round(u)
    in_cage = soft(W * 1.04 - d, 0.01) * soft(d - 0.045, 0.01) * (k >= 0) * (k <= 8)
    post_ribs = (band(dist, 0.0095, 0.004) + 0.7 * band(np.abs(dist) - 0.009, 0.002, 0.002)) * in_cage
    ua = (yy - p["top"] - 0.08 + 0.14 * rel) / (space * 1.5) + p["rib_phase"]
    dist_a = (ua - np.round(ua)) * space * 1.5
    ka = np.round(ua)
    ant_ribs = band(dist_a, 0.011, 0.006) * soft(W - d, 0.02) * soft(rel - 0.4, 0.2) * (ka >= 0) * (ka <= 5)
    t = np.clip((d - 0.03) / (W * 1.15), 0, 1)
    clav_y = p["top"] + 0.055 - 0.075 * t + 0.025 * np.sin(np.pi * t)
    clav = band(yy - clav_y, 0.011, 0.004) * soft(d - 0.03, 0.01) * soft(W * 1.18 - d, 0.02)
    vert = np.clip(np.abs(np.mod((yy - p["top"]) / 0.045, 1.0) - 0.5) * 5, 0, 1)
    spine = soft(0.034 - d, 0.006) * (0.7 + 0.3 * vert)

    tissue = smooth_noise(rng, b, res, 0.1)
    fine = smooth_noise(rng, b, res, 0.02)
    img = (0.46 + 0.03 * tissue) * body + 0.12 * mediastinum * body - 0.07 * trachea
    gradient = 1.0 - 0.3 * np.clip((p["top"] + 0.12 - yy) / 0.12, 0, 1) - 0.15 * soft(0.12 - d, 0.05)
    img = img - (0.27 + 0.015 * fine) * lungs * gradient - 0.25 * bubble * body
    img = img + marks * lungs + 0.055 * post_ribs * body + 0.035 * ant_ribs * body + 0.13 * clav
    img = img + 0.09 * spine * body
    img, lung_r, lung_l, heart = (resize(a.astype(F32, copy=False), size) for a in (img, lung_r, lung_l, heart))
    return {"image": img, "lungs": np.maximum(lung_r, lung_l), "lung_r": lung_r > 0.5, "lung_l": lung_l > 0.5,
            "heart": heart > 0.5}


def finish_radiograph(rng: np.random.Generator, img: np.ndarray, noise: float) -> np.ndarray:
    """Exposure jitter (gain, offset, gamma) and quantum-like noise, per image."""
    b = img.shape[0]
    gain = (1.0 + 0.12 * rng.uniform(-1, 1, (b, 1, 1))).astype(F32)
    off = (0.05 * rng.uniform(-1, 1, (b, 1, 1))).astype(F32)
    gam = np.exp(0.2 * rng.uniform(-1, 1, (b, 1, 1))).astype(F32)
    out = np.clip(img, 0.0, 1.0) ** gam * gain + off
    out = out + noise * rng.standard_normal(img.shape, dtype=F32)
    return out.astype(F32)


def lung_point(rng: np.random.Generator, lung: np.ndarray, peripheral: float, lower: float):
    """A random point of the bool ``lung`` mask, weighted towards the periphery and the base.

    ``peripheral`` and ``lower`` (>= 0) sharpen the preference. Returns ``(x, y)`` in image units.
    Candidates are the pixels of a 4x-subsampled mask, so the cost stays small at any size.
    """
    h, w = lung.shape
    step = max(1, h // 64)
    ys, xs = np.nonzero(lung[step // 2::step, step // 2::step])
    if len(ys) == 0:
        return 0.5, 0.5
    ys, xs = ys * step + step // 2, xs * step + step // 2
    ynorm = (ys - ys.min()) / max(1, ys.max() - ys.min())
    cx = xs.mean()
    side = 1.0 if cx > w / 2 else -1.0  # lateral direction for this lung
    lateral = np.clip(side * (xs - cx) / max(1.0, np.abs(xs - cx).max()) * 0.5 + 0.5, 0, 1)
    wgt = np.exp(peripheral * lateral + lower * ynorm)
    i = rng.choice(len(ys), p=wgt / wgt.sum())
    return (xs[i] + 0.5) / w, (ys[i] + 0.5) / h
