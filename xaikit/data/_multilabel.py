"""Multi-label chest radiograph phantom: the five CheXpert competition findings.

Cardiomegaly, pleural effusion, edema, consolidation and atelectasis co-occur
independently with configurable prevalence, each with its own exact mask, as in
paper 002's CheXpert setting (INFORMER). Subtle variants and an optional label-noise
rate keep a classifier imperfect on purpose: quality control needs wrong predictions.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import check_float
from ._base import ImageSet
from ._draw import F32, band, blob_alpha, grid, paint_lesion, smooth_noise, soft
from ._phantom import Rendered, check_common, check_range, generate, resolve
from ._thorax import finish_radiograph, lung_point, render_thorax, thorax_params

__all__ = ["chest_multilabel", "FINDINGS"]

FINDINGS = ("cardiomegaly", "pleural_effusion", "edema", "consolidation", "atelectasis")
PRESETS = {  # contrast: mean added intensity over a finding's mask; subtle: share of subtle positives
    "easy": {"contrast": (0.10, 0.20), "ctr": (0.54, 0.64), "subtle": 0.0, "noise": 0.015},
    "default": {"contrast": (0.04, 0.13), "ctr": (0.505, 0.60), "subtle": 0.35, "noise": 0.025},
    "hard": {"contrast": (0.03, 0.08), "ctr": (0.50, 0.55), "subtle": 0.6, "noise": 0.035},
}


def _render(rng: np.random.Generator, labels: np.ndarray, s: int, cfg: dict) -> Rendered:
    b = len(labels)
    p = thorax_params(rng, b)
    lo, hi = cfg["ctr"]
    big = rng.uniform(lo, hi, b)
    p["ctr"] = np.where(labels[:, 0] == 1, big, np.minimum(p["ctr"].ravel(), 0.485)).reshape(b, 1, 1).astype(F32)
    # Atelectasis: volume loss lifts the hemidiaphragm on the collapsed side.
    atel_side = rng.integers(0, 2, b)
    lift = np.where(labels[:, 4] == 1, rng.uniform(0.03, 0.05, b), 0.0).astype(F32)  # 2-3 px at 64 px
    p["dome_r"] = p["dome_r"] - (lift * (atel_side == 0)).reshape(b, 1, 1)
    p["dome_l"] = p["dome_l"] - (lift * (atel_side == 1)).reshape(b, 1, 1)
    anat = render_thorax(rng, p, s)
    bg = finish_radiograph(rng, anat["image"], cfg["noise"])
    lungs = anat["lung_r"] | anat["lung_l"]
    xx, yy = grid(s)
    xx, yy = xx[0], yy[0]
    lesion = np.zeros_like(bg)
    masks = np.zeros((b, 5, s, s), dtype=bool)
    meta = {"ctr": p["ctr"].ravel().astype(float)}
    for f in FINDINGS[1:]:
        meta[f"{f}_contrast"] = np.full(b, np.nan)
    meta["subtle"] = np.zeros(b, dtype=bool)
    for i in range(b):
        masks[i, 0] = anat["heart"][i] if labels[i, 0] else False
        subtle = rng.random() < cfg["subtle"]
        meta["subtle"][i] = subtle and labels[i].any()
        sides = (anat["lung_r"][i], anat["lung_l"][i])
        x0 = float(p["x0"][i, 0, 0])
        for k in range(1, 5):
            if not labels[i, k]:
                continue
            c = rng.uniform(*cfg["contrast"]) * (0.6 if subtle else 1.0)
            side = int(rng.integers(0, 2)) if k != 4 else int(atel_side[i])
            lung = sides[side] if sides[side].any() else lungs[i]
            ys = np.flatnonzero(lung.any(axis=1))
            top, base = (ys[0] + 0.5) / s, (ys[-1] + 0.5) / s
            sign = -1.0 if side == 0 else 1.0
            rel = np.clip(sign * (xx - x0) / 0.36, 0, 1.2)
            pattern = None
            if k == 1:  # effusion: basal opacity with a meniscus climbing laterally
                # a small-to-moderate effusion, at least 4 px deep at 64 px (issue 17: a 2-5 px sliver at the base,
                # against the diaphragm's own brightness, left it at test AUC 0.61 at the default resolution)
                height = rng.uniform(0.07, 0.11) if subtle else rng.uniform(0.10, 0.18)
                surface = base - height - 0.10 * rel ** 2
                alpha = soft(yy - surface, 0.012) * lung
                pattern = 0.6 + 0.4 * np.clip((yy - surface) / 0.05, 0, 1)
                c = c * 2.8
            elif k == 2:  # edema: bilateral perihilar haze
                spread = rng.uniform(0.09, 0.12) if subtle else rng.uniform(0.11, 0.16)
                hy = top + 0.29
                r2 = np.minimum((xx - x0 + 0.075) ** 2, (xx - x0 - 0.075) ** 2) + (yy - hy) ** 2
                alpha = np.exp(-r2 / (2 * spread ** 2)).astype(F32) * lungs[i]
                alpha = np.where(alpha > 0.3, alpha, 0.0)
                pattern = 0.7 + 0.3 * np.tanh(smooth_noise(rng, 1, s, 0.03)[0])
            elif k == 3:  # consolidation: dense lobar opacity bounded by a fissure, air bronchograms
                upper = rng.random() < 0.4
                fissure = top + rng.uniform(0.2, 0.28) + 0.04 * rel
                lobe = (yy < fissure) if upper else (yy > fissure + 0.04)
                cx, cy = lung_point(rng, lung & lobe if (lung & lobe).any() else lung, 1.0, 0.0)
                # lobar, so at least ~6 px across at 64 px; dense (the airspace is filled with fluid), so brighter
                # than the haze of edema (issue 17: r 0.05-0.12 at 1.5x contrast gave test AUC 0.59 at 64 px)
                r = rng.uniform(0.09, 0.12) if subtle else rng.uniform(0.12, 0.18)
                r = r * 1.4 if upper else r  # an upper lobe is small: the opacity fills it up to the fissure (lobar)
                alpha = blob_alpha(s, cx, cy, r, rng, irregularity=0.3, edge=0.15) * (lung & lobe)
                pattern = 1.0 - 0.35 * np.clip(smooth_noise(rng, 1, s, 0.015)[0] - 1.0, 0, 1)
                c = c * 4.0
            else:  # atelectasis: plate-like band or wedge towards the hilum
                cx, cy = lung_point(rng, lung, 0.5, 2.0)
                if rng.random() < 0.6:
                    ang = rng.uniform(-0.35, 0.35)
                    dist = -(xx - cx) * np.sin(ang) + (yy - cy) * np.cos(ang)
                    along = (xx - cx) * np.cos(ang) + (yy - cy) * np.sin(ang)
                    half = rng.uniform(0.10, 0.16)
                    # at least 1.5 px either side of the centre line (3-4 px wide) and a 0.5 px edge: at 64 px the
                    # band of 0.8-1.5 px was nearly invisible (issue 17); at 256 px and above nothing changes
                    width = max(rng.uniform(0.006, 0.012), 1.5 / s)
                    alpha = band(dist, width, max(0.006, 0.5 / s)) * soft(half - np.abs(along), 0.02)
                else:
                    hx, hy = x0 + sign * 0.075, top + 0.29
                    phi = np.arctan2(cy - hy, cx - hx)
                    theta = np.arctan2(yy - hy, xx - hx)
                    dth = np.angle(np.exp(1j * (theta - phi)))
                    # a narrow wedge (a collapsed segment): at 0.12-0.25 rad it read as a consolidation at 64 px
                    width = rng.uniform(0.08, 0.16)
                    alpha = soft(width - np.abs(dth), 0.05) * soft(np.hypot(xx - hx, yy - hy) - 0.05, 0.02)
                alpha = alpha * lung
                c = c * 2.4 * min(1.4, max(1.0, (128 / s) ** 0.5))  # stronger below 128 px, where it is thin
            alpha = np.where(alpha > 0.1, alpha, 0.0).astype(F32)
            if not alpha.any():  # an unlucky draw: fall back to a small opacity in this lung
                cx, cy = lung_point(rng, lungs[i], 0.0, 0.0)
                alpha = blob_alpha(s, cx, cy, 0.04, rng) * lungs[i]
                alpha = np.where(alpha > 0.1, alpha, 0.0).astype(F32)
            off, m = paint_lesion(bg[i], alpha, None, c, pattern=None if pattern is None else np.maximum(pattern, 0.1))
            lesion[i] += off
            masks[i, k] = m
            meta[f"{FINDINGS[k]}_contrast"][i] = float(off[m].mean())
    for k, f in enumerate(FINDINGS):
        meta[f"{f}_area"] = masks[:, k].reshape(b, -1).mean(axis=1)
    return Rendered(background=bg, lesion=lesion, masks=masks, organ=lungs, meta=meta)


def chest_multilabel(n: int, image_size: int = 64, seed: int = 0, *, difficulty: str = "default",
                     prevalence: float | tuple[float, ...] = (0.3, 0.3, 0.25, 0.25, 0.3),
                     label_noise: float = 0.0, contrast: float | tuple[float, float] | None = None,
                     ctr: float | tuple[float, float] | None = None, subtle: float | None = None,
                     noise: float | None = None, shortcut: float = 0.0, shortcut_class: str | int | None = None,
                     shortcut_kind: str = "marker", shortcut_leak: float = 0.0, intensity_shift: float = 0.0,
                     contrast_scale: float = 1.0, gamma: float = 1.0, lesion_free: bool = False) -> ImageSet:
    """Frontal chest radiograph phantoms with the five CheXpert competition findings.

    Cardiomegaly: heart shadow enlarged to a cardiothoracic ratio above 0.5 (mask: the heart).
    Pleural effusion: basal opacity with a meniscus blunting the costophrenic angle.
    Edema: bilateral perihilar haze. Consolidation: dense lobar opacity bounded by a fissure,
    with air bronchograms. Atelectasis: plate-like band or wedge, with the hemidiaphragm lifted
    by the volume loss. Findings co-occur independently; masks are per finding and may overlap.

    Parameters
    ----------
    n, image_size, seed, difficulty : as for :func:`chest_covid`.
    prevalence : share of positives, one number or one per finding (in ``FINDINGS`` order).
    label_noise : probability that each observed label is flipped (the images and masks follow
        the true findings; ``meta`` keeps them as ``<finding>_true``).
    contrast : mean intensity an opacity adds over its mask (before the per-finding factor).
    ctr : cardiothoracic-ratio range of cardiomegaly cases (healthy hearts stay below 0.485).
    subtle : share of images whose findings are drawn small and faint.
    noise, shortcut*, intensity_shift, contrast_scale, gamma : as for :func:`chest_covid`;
        the shortcut follows ``shortcut_class`` (default "cardiomegaly").
    lesion_free : leave out the opacities (cardiomegaly and volume loss are anatomy, and stay).

    Returns
    -------
    ImageSet with ``multilabel=True``, labels (N, 5), masks (N, 5, H, W).

    Examples
    --------
    >>> ds = chest_multilabel(4, image_size=32, seed=0)
    >>> ds.labels.shape, ds.masks.shape
    ((4, 5), (4, 5, 32, 32))
    """
    ctx = "chest_multilabel"
    check_common(ctx, n, image_size, seed)
    prev = np.broadcast_to(np.asarray(prevalence, dtype=float), (5,)) if np.ndim(prevalence) == 0 else \
        np.asarray(prevalence, dtype=float)
    if prev.shape != (5,):
        raise ValueError(f"prevalence of {ctx} must be a number or 5 numbers (one per finding), got {prevalence!r}")
    for v in prev:
        check_float("prevalence", float(v), min_value=0.0, max_value=1.0, context=ctx)
    label_noise = check_float("label_noise", label_noise, min_value=0.0, max_value=0.5, context=ctx)
    cfg = resolve(ctx, difficulty, PRESETS, contrast=contrast, ctr=ctr, subtle=subtle, noise=noise)
    cfg["contrast"] = check_range("contrast", cfg["contrast"], 0.0, 1.0, ctx)
    cfg["ctr"] = check_range("ctr", cfg["ctr"], 0.5, 0.75, ctx)
    cfg["subtle"] = check_float("subtle", cfg["subtle"], min_value=0.0, max_value=1.0, context=ctx)
    cfg["noise"] = check_float("noise", cfg["noise"], min_value=0.0, max_value=0.5, context=ctx)
    rng = np.random.default_rng(seed)
    labels = (rng.random((n, 5)) < prev).astype(np.int64)
    params = {"n": n, "image_size": image_size, "seed": seed, "difficulty": difficulty,
              "prevalence": tuple(prev.tolist()), "label_noise": label_noise, **cfg}
    ds = generate(name=ctx, n=n, image_size=image_size, seed=seed, labels=labels, class_names=FINDINGS,
                  render=_render, cfg=cfg, multilabel=True, shortcut=shortcut, shortcut_class=shortcut_class,
                  shortcut_kind=shortcut_kind, shortcut_leak=shortcut_leak, intensity_shift=intensity_shift,
                  contrast_scale=contrast_scale, gamma=gamma, lesion_free=lesion_free, params=params)
    if label_noise == 0:
        return ds
    flips = rng.random((n, 5)) < label_noise
    observed = np.where(flips, 1 - labels, labels)
    meta = ds.meta.copy()
    for k, f in enumerate(FINDINGS):
        meta[f"{f}_true"] = labels[:, k]
        meta[f] = observed[:, k]
    meta["label_flipped"] = flips.any(axis=1)
    return dataclasses.replace(ds, labels=observed, meta=meta)
