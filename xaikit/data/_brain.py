"""Axial T1-weighted brain MRI phantom: glioma, meningioma, no tumour, pituitary.

Classes and their order follow the public brain-tumour MRI collection that paper 004
uses (folders glioma / meningioma / notumor / pituitary). On T1, white matter is
brighter than grey matter, CSF is dark, scalp fat bright and cortical bone a signal void.
"""
from __future__ import annotations

import numpy as np

from ._base import ImageSet
from ._draw import (
    F32,
    angular_noise,
    blob_alpha,
    ellipse_radius,
    grid,
    paint_lesion,
    resize,
    sample_angular,
    smooth_noise,
    soft,
)
from ._phantom import Rendered, generate_classes, jitter, lesion_canvas, lesion_stats

__all__ = ["brain_mri"]

CLASS_NAMES = ("glioma", "meningioma", "no_tumour", "pituitary")
PRESETS = {  # contrast: |mean intensity change| over the tumour mask
    "easy": {"contrast": (0.18, 0.30), "size": 1.2, "noise": 0.015},
    "default": {"contrast": (0.12, 0.25), "size": 1.0, "noise": 0.025},
    "hard": {"contrast": (0.05, 0.12), "size": 0.8, "noise": 0.04},
}
RMAX = 128


def _anatomy(rng: np.random.Generator, b: int, s: int):
    res = min(s, RMAX)
    xx, yy = grid(res)

    j = jitter(rng, b)
    cx, cy, rx, ry = j(0.5, 0.01), j(0.5, 0.01), j(0.385, 0.015), j(0.455, 0.012)
    tilt = j(0.0, 0.05)
    r = ellipse_radius(xx, yy, cx, cy, rx, ry, tilt)
    theta = np.arctan2((yy - cy) / ry, (xx - cx) / rx)
    gyri = sample_angular(angular_noise(rng, (b,), n_bins=720, smooth=4.0), theta)
    sulci = sample_angular(angular_noise(rng, (b,), n_bins=720, smooth=1.5), theta)
    head = soft(1.0 - r, 0.008)
    scalp = soft(r - 0.945, 0.006) * head
    bone = soft(r - 0.885, 0.006) * soft(0.945 - r, 0.006)
    diploe = soft(0.012 - np.abs(r - 0.915), 0.005)
    brain = soft(0.855 - r, 0.006)
    wm_edge = 0.69 + 0.04 * gyri
    wm = soft(wm_edge - r, 0.012) * brain
    sulcus = soft(sulci - 1.2, 0.25) * soft(r - wm_edge + 0.02, 0.01) * brain
    # Midline: falx / interhemispheric fissure in front of and behind the ventricles.
    fissure = soft(0.006 - np.abs(xx - cx), 0.003) * soft(np.abs(yy - cy) - 0.2, 0.02) * brain
    # Lateral ventricles (frontal horns and bodies), a slit third ventricle, deep grey nuclei.
    vs = j(1.0, 0.15)
    vent = np.zeros_like(r)
    deep = np.zeros_like(r)
    for side in (-1, 1):
        vr = ellipse_radius(xx, yy, cx + side * 0.045 * vs, cy - 0.015, 0.028 * vs, 0.15, side * 0.18)
        vent = np.maximum(vent, soft(1.0 - vr, 0.15))
        dr = ellipse_radius(xx, yy, cx + side * 0.12, cy + 0.02, 0.05, 0.085, -side * 0.2)
        deep = np.maximum(deep, soft(1.0 - dr, 0.3))
    vent = np.maximum(vent, soft(0.006 - np.abs(xx - cx), 0.003) * soft(0.05 - np.abs(yy - cy - 0.05), 0.01))
    # Suprasellar cistern: a small CSF star in front of the ventricles, where pituitary masses sit.
    sella = (cx, cy - 0.2)
    cis = soft(1.0 - ellipse_radius(xx, yy, sella[0], sella[1], 0.03, 0.022), 0.3)

    tex = smooth_noise(rng, b, res, 0.03)
    bias = 1.0 + 0.07 * smooth_noise(rng, b, res, 0.5)
    img = 0.78 * scalp + 0.42 * diploe * bone
    img = img + brain * (0.43 + 0.25 * wm - 0.08 * deep * wm + 0.02 * tex)
    img = img * (1 - 0.75 * np.maximum.reduce([sulcus, fissure, vent, cis]) * brain)
    img = img + 0.10 * soft(0.885 - r, 0.006) * soft(r - 0.855, 0.006)  # thin CSF rim stays dark grey
    img = img * bias * j(1.0, 0.06)  # bias field and scanner gain
    img, brain_f, inner = (resize(a.astype(F32, copy=False), s) for a in (img, brain, soft(0.885 - r, 0.006)))
    return img, brain_f > 0.5, inner > 0.5, {"cx": cx.ravel(), "cy": cy.ravel(), "rx": rx.ravel(),
                                              "ry": ry.ravel(), "sella": sella}


def _render(rng: np.random.Generator, labels: np.ndarray, s: int, cfg: dict) -> Rendered:
    b = len(labels)
    img, brain, inner, g = _anatomy(rng, b, s)
    bg, xx, yy, lesion, masks, meta = lesion_canvas(rng, img, cfg["noise"])
    for i in range(b):
        lab = CLASS_NAMES[labels[i]]
        if lab == "no_tumour":
            meta["lesion_area"][i] = 0.0
            continue
        cx, cy, rx, ry = g["cx"][i], g["cy"][i], g["rx"][i], g["ry"][i]
        con = rng.uniform(*cfg["contrast"])
        tex = smooth_noise(rng, 1, s, 0.02)[0]
        if lab == "glioma":  # irregular intra-axial mass, hypointense, with surrounding oedema
            r = rng.uniform(0.05, 0.10) * cfg["size"]
            ang, rad = rng.uniform(0, 2 * np.pi), rng.uniform(0.25, 0.55)
            x, y = cx + rad * rx * np.cos(ang), cy + rad * ry * np.sin(ang)
            alpha = blob_alpha(s, x, y, r, rng, irregularity=0.5, edge=0.12) * brain[i]
            oedema = blob_alpha(s, x, y, r * 1.9, rng, irregularity=0.6, edge=0.4) * brain[i]
            necrosis = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * (0.4 * r) ** 2))
            target, sign = bg[i] - 0.25 - 0.15 * necrosis + 0.05 * tex, -1.0
        elif lab == "meningioma":  # well-circumscribed extra-axial mass on the inner table
            r = rng.uniform(0.05, 0.09) * cfg["size"]
            ang = rng.uniform(0, 2 * np.pi)
            x, y = cx + 0.87 * rx * np.cos(ang), cy + 0.87 * ry * np.sin(ang)
            alpha = blob_alpha(s, x, y, r, rng, irregularity=0.06, edge=0.06) * inner[i]
            oedema = None
            target, sign = 0.55 + 0.02 * tex, 1.0
        else:  # pituitary: small round mass at the sella, midline
            r = rng.uniform(0.022, 0.04) * cfg["size"]
            x, y = cx + rng.normal(0, 0.006), g["sella"][1][i, 0, 0] + rng.normal(0, 0.008)
            alpha = blob_alpha(s, x, y, r, rng, irregularity=0.1, edge=0.1) * inner[i]
            oedema = None
            target, sign = 0.62 + 0.02 * tex, 1.0
        alpha = np.where(alpha > 0.05, alpha, 0.0).astype(F32)
        off, m = paint_lesion(bg[i], alpha, target.astype(F32), sign * con)
        if oedema is not None:  # oedema darkens the tissue around the mass; outside the tumour mask
            off = off + np.where(m, 0.0, -0.4 * con * oedema)
        lesion[i], masks[i, 0] = off, m
        area, mx, my, mc = lesion_stats(m, off)
        meta["n_lesions"][i] = 1
        meta["lesion_size"][i], meta["lesion_area"][i] = r, area
        meta["lesion_x"][i], meta["lesion_y"][i], meta["contrast"][i] = mx, my, mc
    return Rendered(background=bg, lesion=lesion, masks=masks, organ=brain, meta=meta)


def brain_mri(n: int, image_size: int = 64, seed: int = 0, *, difficulty: str = "default",
              prevalence: dict[str, float] | None = None, contrast: float | tuple[float, float] | None = None,
              size: float | None = None, noise: float | None = None, shortcut: float = 0.0,
              shortcut_class: str | int | None = None, shortcut_kind: str = "marker",
              shortcut_leak: float = 0.0, intensity_shift: float = 0.0, contrast_scale: float = 1.0,
              gamma: float = 1.0, lesion_free: bool = False) -> ImageSet:
    """Axial T1-like brain MRI phantoms with a tumour class.

    Anatomy: scalp fat, skull (dark tables, bright diploe), CSF rim, grey-matter cortex
    with gyri and sulci, white matter, lateral and third ventricles, deep grey nuclei,
    interhemispheric fissure, a suprasellar cistern, texture, bias field and noise.
    Glioma: irregular hypointense intra-axial mass with oedema around it (the oedema is
    *not* in the mask). Meningioma: round extra-axial mass with a broad base on the inner
    table. Pituitary: small mass at the sella, in the midline. No tumour: empty mask.

    Parameters
    ----------
    n, image_size, seed, difficulty, noise, shortcut*, intensity_shift, contrast_scale, gamma,
    lesion_free : as for :func:`chest_covid`; the shortcut's default class is "pituitary".
    prevalence : ``{class name: weight}``; default uniform over the four classes.
    contrast : the absolute mean intensity change over the tumour mask (gliomas darken,
        meningiomas and pituitary masses brighten), a number or a range.
    size : multiplies the tumour radii.

    Examples
    --------
    >>> ds = brain_mri(4, image_size=32, seed=0)
    >>> ds.class_names
    ('glioma', 'meningioma', 'no_tumour', 'pituitary')
    """
    return generate_classes("brain_mri", n, image_size, seed, class_names=CLASS_NAMES, presets=PRESETS, render=_render,
                            difficulty=difficulty, prevalence=prevalence, contrast=contrast, size=size, noise=noise,
                            shortcut=shortcut, shortcut_class=shortcut_class, shortcut_kind=shortcut_kind,
                            shortcut_leak=shortcut_leak, intensity_shift=intensity_shift,
                            contrast_scale=contrast_scale, gamma=gamma, lesion_free=lesion_free)
