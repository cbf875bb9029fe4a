"""Frontal chest radiograph phantom: healthy versus COVID-19 pneumonia.

COVID-19 cases carry one or more patchy ground-glass opacities, mostly peripheral
and in the lower zones, whose masks are exact (the pixels the opacity changes).
Healthy cases use both lung fields as the mask, the convention of paper 003
(COVID-QU-Ex: lung masks for normal images, infection masks for COVID-19).
"""
from __future__ import annotations

import numpy as np

from .._validation import check_float
from ._base import ImageSet
from ._draw import F32, blob_alpha, paint_lesion, smooth_noise
from ._phantom import Rendered, check_common, check_range, generate, lesion_stats, resolve
from ._thorax import finish_radiograph, lung_point, render_thorax, thorax_params

__all__ = ["chest_covid"]

CLASS_NAMES = ("healthy", "covid")
PRESETS = {
    # easy: opacities clear at 48-64 px, so that the narrow ResNets of study 1's default profile reach the paper's
    # accuracy regime (>= 0.90) on a CPU budget (contrast 0.10-0.20 left ResNet-18 w8 at 0.86 on 600 images)
    "easy": {"contrast": (0.20, 0.30), "lesion_size": (0.05, 0.09), "n_lesions": (1, 4), "noise": 0.015},
    "default": {"contrast": (0.07, 0.15), "lesion_size": (0.04, 0.08), "n_lesions": (1, 3), "noise": 0.02},
    "hard": {"contrast": (0.03, 0.07), "lesion_size": (0.025, 0.06), "n_lesions": (1, 2), "noise": 0.035},
}


def _render(rng: np.random.Generator, labels: np.ndarray, s: int, cfg: dict) -> Rendered:
    b = len(labels)
    p = thorax_params(rng, b)
    anat = render_thorax(rng, p, s)
    bg = finish_radiograph(rng, anat["image"], cfg["noise"])
    lungs = anat["lung_r"] | anat["lung_l"]
    lesion = np.zeros_like(bg)
    masks = np.zeros((b, 1, s, s), dtype=bool)
    meta = {k: np.zeros(b) for k in ("n_lesions", "lesion_size", "lesion_area", "lesion_x", "lesion_y",
                                     "contrast")}
    for i in range(b):
        if labels[i] == 0:
            masks[i, 0] = lungs[i]
            meta["lesion_x"][i] = meta["lesion_y"][i] = meta["contrast"][i] = np.nan
            continue
        k = int(rng.integers(cfg["n_lesions"][0], cfg["n_lesions"][1] + 1))
        c = rng.uniform(*cfg["contrast"])
        alpha = np.zeros((s, s), F32)
        radii = []
        for _ in range(k):
            lung = anat["lung_r"][i] if rng.random() < 0.5 else anat["lung_l"][i]
            x, y = lung_point(rng, lung if lung.any() else lungs[i], peripheral=2.5, lower=2.0)
            r = rng.uniform(*cfg["lesion_size"])
            radii.append(r)
            alpha = np.maximum(alpha, blob_alpha(s, x, y, r, rng, irregularity=0.45, edge=0.22))
        alpha = np.where(lungs[i] & (alpha > 0.12), alpha, 0.0).astype(F32)
        patchy = 0.55 + 0.45 * np.tanh(smooth_noise(rng, 1, s, 0.025)[0])
        off, m = paint_lesion(bg[i], alpha, None, c, pattern=np.maximum(patchy, 0.15))
        lesion[i], masks[i, 0] = off, m
        area, cx, cy, cm = lesion_stats(m, off)
        meta["n_lesions"][i], meta["lesion_size"][i] = k, float(np.mean(radii))
        meta["lesion_area"][i], meta["lesion_x"][i], meta["lesion_y"][i], meta["contrast"][i] = area, cx, cy, cm
    meta["n_lesions"] = meta["n_lesions"].astype(np.int64)
    meta["ctr"] = p["ctr"].ravel().astype(float)
    return Rendered(background=bg, lesion=lesion, masks=masks, organ=lungs, meta=meta)


def chest_covid(n: int, image_size: int = 64, seed: int = 0, *, difficulty: str = "default",
                prevalence: float = 0.5, contrast: float | tuple[float, float] | None = None,
                lesion_size: float | tuple[float, float] | None = None,
                n_lesions: tuple[int, int] | None = None, noise: float | None = None,
                shortcut: float = 0.0, shortcut_class: str | int | None = None,
                shortcut_kind: str = "marker", shortcut_leak: float = 0.0,
                intensity_shift: float = 0.0, contrast_scale: float = 1.0, gamma: float = 1.0,
                lesion_free: bool = False) -> ImageSet:
    """Frontal chest radiograph phantoms, healthy (label 0) or COVID-19 (label 1).

    Anatomy: body outline, two lung fields with hilar vessel markings, posterior and
    anterior ribs, clavicles, spine, heart shadow and mediastinum, hemidiaphragms with a
    gastric bubble, soft-tissue texture, exposure jitter and noise. COVID-19: one or more
    patchy ground-glass opacities, mostly peripheral and lower-zone.

    Parameters
    ----------
    n : number of images, >= 1.
    image_size : side length in pixels, >= 32.
    seed : seed of every random draw (a ``numpy.random.SeedSequence``).
    difficulty : "easy", "default" or "hard": a preset for the options left as ``None``.
    prevalence : share of COVID-19 cases, in [0, 1].
    contrast : mean intensity an opacity adds inside its mask, a number or a (low, high)
        range drawn per image. The offset's mean over the mask equals this number exactly.
    lesion_size : opacity radius in image widths, a number or a range.
    n_lesions : (min, max) opacities per COVID-19 image.
    noise : standard deviation of the additive noise.
    shortcut, shortcut_class, shortcut_kind, shortcut_leak : a spurious marker ("marker": a
        lead square in the top-right corner; "tag": a "PORT" text tag top-left) drawn on a
        share ``shortcut`` of ``shortcut_class`` images (default "covid") and a share
        ``shortcut_leak`` of the others; its mask is ``shortcut_masks``.
    intensity_shift, contrast_scale, gamma : a domain shift applied to every image:
        ``(x ** gamma - 0.5) * contrast_scale + 0.5 + intensity_shift``, then clipped.
    lesion_free : return the very same images with the opacities left out (for checks).

    Returns
    -------
    ImageSet with images (N, 1, H, W), labels (N,), masks (N, 1, H, W) (opacities for
    COVID-19, lungs for healthy), organ_masks = lungs, and meta columns ``n_lesions``,
    ``lesion_size``, ``lesion_area``, ``lesion_x``, ``lesion_y``, ``contrast``, ``ctr``.

    Examples
    --------
    >>> ds = chest_covid(4, image_size=32, seed=1)
    >>> ds.images.shape, ds.masks.dtype, ds.class_names
    ((4, 1, 32, 32), dtype('bool'), ('healthy', 'covid'))
    """
    ctx = "chest_covid"
    check_common(ctx, n, image_size, seed)
    prevalence = check_float("prevalence", prevalence, min_value=0.0, max_value=1.0, context=ctx)
    cfg = resolve(ctx, difficulty, PRESETS, contrast=contrast, lesion_size=lesion_size,
                  n_lesions=n_lesions, noise=noise)
    cfg["contrast"] = check_range("contrast", cfg["contrast"], -1.0, 1.0, ctx)
    cfg["lesion_size"] = check_range("lesion_size", cfg["lesion_size"], 0.005, 0.3, ctx)
    lo, hi = check_range("n_lesions", cfg["n_lesions"], 1, 20, ctx)
    cfg["n_lesions"] = (int(lo), int(hi))
    cfg["noise"] = check_float("noise", cfg["noise"], min_value=0.0, max_value=0.5, context=ctx)
    labels = (np.random.default_rng(seed).random(n) < prevalence).astype(np.int64)
    params = {"n": n, "image_size": image_size, "seed": seed, "difficulty": difficulty,
              "prevalence": prevalence, **cfg}
    return generate(name=ctx, n=n, image_size=image_size, seed=seed, labels=labels,
                    class_names=CLASS_NAMES, render=_render, cfg=cfg, shortcut=shortcut,
                    shortcut_class=shortcut_class, shortcut_kind=shortcut_kind,
                    shortcut_leak=shortcut_leak, intensity_shift=intensity_shift,
                    contrast_scale=contrast_scale, gamma=gamma, lesion_free=lesion_free,
                    params=params)
