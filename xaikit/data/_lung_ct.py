"""Axial chest CT phantom (lung window): normal, benign nodule, malignant mass.

Classes follow IQ-OTH/NCCD (normal / benign / malignant), the lung-CT domain of
paper 004. In a lung window air is black, lung parenchyma dark grey with bright
vessel cross-sections, soft tissue light grey and bone white.
"""
from __future__ import annotations

import numpy as np

from ._base import ImageSet
from ._draw import F32, blob_alpha, ellipse_radius, grid, paint_lesion, resize, smooth_noise, soft, splat
from ._phantom import Rendered, generate_classes, jitter, lesion_canvas, lesion_stats

__all__ = ["lung_ct"]

CLASS_NAMES = ("normal", "benign", "malignant")
PRESETS = {  # contrast: mean intensity added over the nodule mask
    "easy": {"contrast": (0.35, 0.5), "size": 1.2, "noise": 0.02},
    "default": {"contrast": (0.2, 0.4), "size": 1.0, "noise": 0.035},
    "hard": {"contrast": (0.12, 0.25), "size": 0.8, "noise": 0.05},
}
RMAX = 128


def _anatomy(rng: np.random.Generator, b: int, s: int):
    res = min(s, RMAX)
    xx, yy = grid(res)

    j = jitter(rng, b)
    cx, cy, rx, ry = j(0.5, 0.01), j(0.52, 0.01), j(0.44, 0.015), j(0.31, 0.015)
    body = soft(1.0 - ellipse_radius(xx, yy, cx, cy, rx, ry), 0.02)
    fat = soft(ellipse_radius(xx, yy, cx, cy, rx, ry) - 0.93, 0.02) * body
    lung_w, lung_h = j(0.165, 0.01), j(0.225, 0.01)
    lungs = np.zeros_like(body)
    for side in (-1, 1):
        lr = ellipse_radius(xx, yy, cx + side * 0.19, cy - 0.01, lung_w, lung_h, side * 0.12)
        lungs = np.maximum(lungs, soft(1.0 - lr, 0.04))
    medi = soft(1.0 - ellipse_radius(xx, yy, cx + 0.015, cy - 0.03, 0.1, 0.19), 0.08)
    vert_r = ellipse_radius(xx, yy, cx, cy + 0.2, 0.055, 0.05)
    vert = soft(1.0 - vert_r, 0.08)
    canal = soft(1.0 - ellipse_radius(xx, yy, cx, cy + 0.26, 0.018, 0.015), 0.1)
    lungs = lungs * (1.0 - medi) * (1.0 - vert)
    airway = soft(1.0 - ellipse_radius(xx, yy, cx, cy - 0.12, 0.022, 0.02), 0.15)
    # Ribs: bright cross-sections around the chest wall.
    theta = np.arctan2((yy - cy) / ry, (xx - cx) / rx)
    rr = ellipse_radius(xx, yy, cx, cy, rx, ry)
    n_rib = 16
    phase = rng.uniform(0, 2 * np.pi, (b, 1, 1)).astype(F32)
    rib_ang = np.abs(np.sin(0.5 * n_rib * theta + phase))
    ribs = soft(0.25 - rib_ang, 0.08) * soft(0.035 - np.abs(rr - 0.86), 0.01) * soft(np.sin(theta) + 0.6, 0.1)
    # Vessels: bright dots, denser and larger towards the hila.
    n_v = 70
    bi = np.repeat(np.arange(b), n_v)
    side = rng.choice([-1.0, 1.0], b * n_v)
    rad = rng.uniform(0.0, 1.0, b * n_v) ** 0.8
    ang = rng.uniform(0, 2 * np.pi, b * n_v)
    vx = cx.ravel()[bi] + side * 0.19 + rad * 0.16 * np.cos(ang)
    vy = cy.ravel()[bi] - 0.01 + rad * 0.22 * np.sin(ang)
    density = rng.uniform(0.5, 1.5, b)[bi]  # vessel conspicuity varies between patients
    vessels = splat((b, res, res), bi, vy, vx, 0.5 * (1.2 - rad) * density, 0.006 * res)
    vessels += splat((b, res, res), bi[::3], vy[::3], vx[::3], 0.25 * (1.2 - rad[::3]), 0.012 * res)
    tex = smooth_noise(rng, b, res, 0.04)
    img = body * (0.78 - 0.12 * fat + 0.02 * tex)
    img = img * (1.0 - 0.85 * lungs) + lungs * (0.06 + 0.015 * tex)
    img = img + 0.12 * medi - 0.7 * airway * medi + 0.2 * vert - 0.35 * canal + 0.25 * ribs
    img = img + np.minimum(vessels, 0.6) * lungs
    # Window-level jitter: reconstruction kernels and windows differ between scanners.
    img = img * j(1.0, 0.06) + j(0.0, 0.03) + 0.1 * lungs * j(0.0, 0.3)
    img, lungs_f = (resize(a.astype(F32, copy=False), s) for a in (img, lungs))
    return img, lungs_f > 0.5


def _render(rng: np.random.Generator, labels: np.ndarray, s: int, cfg: dict) -> Rendered:
    b = len(labels)
    img, lungs = _anatomy(rng, b, s)
    bg, xx, yy, lesion, masks, meta = lesion_canvas(rng, img, cfg["noise"], ("spiculated",))
    for i in range(b):
        if labels[i] == 0:
            meta["lesion_area"][i] = 0.0
            continue
        step = max(1, s // 64)
        ys, xs = np.nonzero(lungs[i, ::step, ::step])
        k = rng.integers(len(ys))
        x, y = (xs[k] * step + 0.5) / s, (ys[k] * step + 0.5) / s
        con = rng.uniform(*cfg["contrast"])
        if labels[i] == 1:  # benign: small, smooth, round
            r = rng.uniform(0.012, 0.025) * cfg["size"]
            alpha = blob_alpha(s, x, y, r, rng, irregularity=0.05, edge=0.12)
        else:  # malignant: larger lobulated mass with spicules radiating from it
            r = rng.uniform(0.03, 0.06) * cfg["size"]
            alpha = blob_alpha(s, x, y, r, rng, irregularity=0.35, edge=0.1)
            for _ in range(int(rng.integers(6, 12))):
                a = rng.uniform(0, 2 * np.pi)
                length = r * rng.uniform(1.4, 2.4)
                along = (xx - x) * np.cos(a) + (yy - y) * np.sin(a)
                across = -(xx - x) * np.sin(a) + (yy - y) * np.cos(a)
                width = 0.004 + 0.006 * np.clip(1 - along / length, 0, 1)
                spic = soft(width - np.abs(across), 0.002) * soft(along, 0.004) * soft(length - along, 0.01)
                alpha = np.maximum(alpha, spic)
            meta["spiculated"][i] = True
        alpha = np.where((alpha > 0.05) & lungs[i], alpha, 0.0).astype(F32)
        tex = smooth_noise(rng, 1, s, 0.02)[0]
        off, m = paint_lesion(bg[i], alpha, (0.75 + 0.03 * tex).astype(F32), con)
        lesion[i], masks[i, 0] = off, m
        area, mx, my, mc = lesion_stats(m, off)
        meta["n_lesions"][i] = 1
        meta["lesion_size"][i], meta["lesion_area"][i] = r, area
        meta["lesion_x"][i], meta["lesion_y"][i], meta["contrast"][i] = mx, my, mc
    return Rendered(background=bg, lesion=lesion, masks=masks, organ=lungs, meta=meta)


def lung_ct(n: int, image_size: int = 64, seed: int = 0, *, difficulty: str = "default",
            prevalence: dict[str, float] | None = None, contrast: float | tuple[float, float] | None = None,
            size: float | None = None, noise: float | None = None, shortcut: float = 0.0,
            shortcut_class: str | int | None = None, shortcut_kind: str = "marker", shortcut_leak: float = 0.0,
            intensity_shift: float = 0.0, contrast_scale: float = 1.0, gamma: float = 1.0,
            lesion_free: bool = False) -> ImageSet:
    """Axial chest CT phantoms (lung window): normal, benign nodule or malignant mass.

    Anatomy: body with subcutaneous fat, two lungs with vessel cross-sections, mediastinum,
    airway, vertebra with spinal canal, rib cross-sections, texture and noise. Benign: a small
    smooth round nodule. Malignant: a larger lobulated mass with spicules (in the mask).
    Vessel cross-sections look like small nodules, so benign cases are not trivial.

    Parameters
    ----------
    n, image_size, seed, difficulty, noise, shortcut*, intensity_shift, contrast_scale, gamma,
    lesion_free : as for :func:`chest_covid`; the shortcut's default class is "malignant".
    prevalence : ``{class name: weight}``; default uniform.
    contrast : mean intensity added over the nodule mask, a number or a range.
    size : multiplies the nodule radii.

    Examples
    --------
    >>> ds = lung_ct(3, image_size=32, seed=0)
    >>> ds.class_names
    ('normal', 'benign', 'malignant')
    """
    return generate_classes("lung_ct", n, image_size, seed, class_names=CLASS_NAMES, presets=PRESETS, render=_render,
                            difficulty=difficulty, prevalence=prevalence, contrast=contrast, size=size, noise=noise,
                            shortcut=shortcut, shortcut_class=shortcut_class, shortcut_kind=shortcut_kind,
                            shortcut_leak=shortcut_leak, intensity_shift=intensity_shift,
                            contrast_scale=contrast_scale, gamma=gamma, lesion_free=lesion_free)
