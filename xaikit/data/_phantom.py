"""The pipeline every phantom shares: validation, difficulty presets, chunked
rendering, the spurious shortcut, domain shifts, and assembly into an ImageSet.

A phantom supplies ``render(rng, labels, size, cfg) -> Rendered`` for a chunk of
images; this module does the rest, so every phantom handles seeds, shortcuts and
shifts the same way.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import check_float, check_int, check_option
from ._base import ImageSet

__all__ = ["Rendered", "DIFFICULTIES", "SHORTCUT_KINDS", "MIN_SIZE", "generate", "resolve",
           "check_range", "class_proportions"]

DIFFICULTIES = ("easy", "default", "hard")
SHORTCUT_KINDS = ("marker", "tag")
MIN_SIZE = 32  # below this the ribs, sulci and vessels alias into noise
CHUNK = 32  # images rendered together; fixed, so results never depend on memory settings
WORKERS = max(1, min(4, os.cpu_count() or 1))  # chunks rendered in parallel threads (numpy drops the GIL)
F32 = np.float32


@dataclass
class Rendered:
    """One chunk of rendered images before the shared post-processing.

    background : (B, H, W) the image without any lesion, noise included.
    lesion : (B, H, W) the intensity offset the lesions add (zero outside the masks).
    masks : (B, K, H, W) bool evidence masks.
    organ : (B, H, W) bool organ mask.
    meta : per-sample columns, each of length B.
    """

    background: np.ndarray
    lesion: np.ndarray
    masks: np.ndarray
    organ: np.ndarray
    meta: dict[str, np.ndarray]


def check_range(name: str, value, lo: float, hi: float, context: str) -> tuple[float, float]:
    """A number or a ``(low, high)`` pair within ``[lo, hi]``, returned as a pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} of {context} must be a number or a (low, high) pair, got {value!r}")
        a = check_float(name, value[0], min_value=lo, max_value=hi, context=context)
        b = check_float(name, value[1], min_value=lo, max_value=hi, context=context)
        if a > b:
            raise ValueError(f"{name} of {context} must have low <= high, got {value!r}")
        return a, b
    v = check_float(name, value, min_value=lo, max_value=hi, context=context)
    return v, v


def resolve(context: str, difficulty: str, presets: Mapping[str, Mapping], **overrides) -> dict:
    """The preset for ``difficulty`` updated with every override that is not ``None``."""
    check_option("difficulty", difficulty, DIFFICULTIES, context=context)
    cfg = dict(presets[difficulty])
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    return cfg


def class_proportions(prevalence, class_names: tuple[str, ...], context: str) -> np.ndarray:
    """Class proportions from ``None`` (uniform) or a ``{class name: weight}`` mapping."""
    if prevalence is None:
        return np.full(len(class_names), 1.0 / len(class_names))
    if not isinstance(prevalence, Mapping):
        raise ValueError(f"prevalence of {context} must be None or a mapping of class name to weight, "
                         f"got {prevalence!r}")
    w = np.zeros(len(class_names))
    for k, v in prevalence.items():
        check_option("prevalence", k, class_names, context=context)
        w[class_names.index(k)] = check_float(f"prevalence[{k!r}]", v, min_value=0.0, context=context)
    if w.sum() <= 0:
        raise ValueError(f"prevalence of {context} must give some class a positive weight, got {prevalence!r}")
    return w / w.sum()


# --------------------------------------------------------------------------- shortcut
_GLYPHS = {  # 3x5 bitmaps for a "PORT" tag, as on portable radiographs
    "P": ["111", "101", "111", "100", "100"],
    "O": ["111", "101", "101", "101", "111"],
    "R": ["111", "101", "110", "101", "101"],
    "T": ["111", "010", "010", "010", "010"],
}


def _tag_bitmap(text: str = "PORT") -> np.ndarray:
    rows = []
    for r in range(5):
        rows.append("0".join(_GLYPHS[c][r] for c in text))
    return np.array([[ch == "1" for ch in row] for row in rows], dtype=bool)


def _shortcut_masks(rng: np.random.Generator, carriers: np.ndarray, size: int, kind: str) -> np.ndarray:
    """(B, H, W) bool: a corner marker or a text tag on the images flagged in ``carriers``."""
    out = np.zeros((len(carriers), size, size), dtype=bool)
    if kind == "tag":
        glyph = _tag_bitmap()
        cell = max(1, size // 64)
        glyph = np.kron(glyph, np.ones((cell, cell), dtype=bool))
    else:
        side = max(3, size // 12)
        yy, xx = np.mgrid[:side, :side]
        c = (side - 1) / 2
        glyph = np.maximum(np.abs(yy - c), np.abs(xx - c)) <= c  # a filled square lead marker
    gh, gw = glyph.shape
    margin = max(1, size // 32)
    for i in np.flatnonzero(carriers):
        jy, jx = rng.integers(0, margin + 1, size=2)
        y0 = margin + jy
        x0 = (margin + jx) if kind == "tag" else (size - margin - jx - gw)
        out[i, y0:y0 + gh, x0:x0 + gw] = glyph
    return out


# --------------------------------------------------------------------------- pipeline
def _single_threaded_blas():
    """BLAS threads fight the chunk threads (and slow small matrix products tenfold): use one."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def generate(*, name: str, n: int, image_size: int, seed: int, labels: np.ndarray,
             class_names: tuple[str, ...], render: Callable[..., Rendered], cfg: dict,
             multilabel: bool = False, shortcut: float = 0.0, shortcut_class=None,
             shortcut_kind: str = "marker", shortcut_leak: float = 0.0, intensity_shift: float = 0.0,
             contrast_scale: float = 1.0, gamma: float = 1.0, lesion_free: bool = False,
             params: dict | None = None, label_rng: np.random.Generator | None = None) -> ImageSet:
    """Render ``labels`` chunk by chunk and assemble the ImageSet (see module docstring)."""
    ctx = name
    check_float("shortcut", shortcut, min_value=0.0, max_value=1.0, context=ctx)
    check_float("shortcut_leak", shortcut_leak, min_value=0.0, max_value=1.0, context=ctx)
    check_option("shortcut_kind", shortcut_kind, SHORTCUT_KINDS, context=ctx)
    check_float("intensity_shift", intensity_shift, min_value=-1.0, max_value=1.0, context=ctx)
    check_float("contrast_scale", contrast_scale, min_value=0.05, max_value=20.0, context=ctx)
    check_float("gamma", gamma, min_value=0.1, max_value=10.0, context=ctx)
    if shortcut_class is None:
        shortcut_class = class_names[-1] if not multilabel else class_names[0]
    if isinstance(shortcut_class, str):
        check_option("shortcut_class", shortcut_class, class_names, context=ctx)
        sc = class_names.index(shortcut_class)
    else:
        sc = check_int("shortcut_class", shortcut_class, min_value=0, max_value=len(class_names) - 1, context=ctx)

    root = np.random.SeedSequence(seed)
    chunk_seeds = root.spawn((n + CHUNK - 1) // CHUNK + 1)
    short_rng = np.random.default_rng(chunk_seeds[-1])  # own stream: shortcuts never change the rest
    is_pos = labels[:, sc] == 1 if multilabel else labels == sc
    carriers = np.where(is_pos, short_rng.random(n) < shortcut, short_rng.random(n) < shortcut_leak)

    s = image_size
    images = np.empty((n, 1, s, s), F32)
    masks = organ = None
    metas: list[pd.DataFrame] = []

    def work(c: int) -> Rendered:
        start = c * CHUNK
        return render(np.random.default_rng(chunk_seeds[c]), labels[start:start + CHUNK], s, cfg)

    n_chunks = len(chunk_seeds) - 1
    with _single_threaded_blas(), ThreadPoolExecutor(max_workers=min(WORKERS, n_chunks)) as pool:
        for c, out in enumerate(pool.map(work, range(n_chunks))):  # chunks come back in order
            start, stop = c * CHUNK, min(n, (c + 1) * CHUNK)
            if masks is None:
                masks = np.empty((n, out.masks.shape[1], s, s), dtype=bool)
                organ = np.empty((n, 1, s, s), dtype=bool)
            images[start:stop, 0] = out.background if lesion_free else out.background + out.lesion
            masks[start:stop] = out.masks
            organ[start:stop, 0] = out.organ
            metas.append(pd.DataFrame(out.meta))

    short_masks = _shortcut_masks(short_rng, carriers, s, shortcut_kind)[:, None]
    if carriers.any():
        images = np.where(short_masks, F32(0.97), images)
    if intensity_shift or contrast_scale != 1.0 or gamma != 1.0:
        x = np.clip(images, 0.0, 1.0) ** F32(gamma)
        images = (x - F32(0.5)) * F32(contrast_scale) + F32(0.5 + intensity_shift)
    images = np.clip(images, 0.0, 1.0).astype(F32, copy=False)

    meta = pd.concat(metas, ignore_index=True)
    if multilabel:
        for k, cname in enumerate(class_names):
            meta.insert(k, cname, labels[:, k])
    else:
        meta.insert(0, "label", labels)
        meta.insert(1, "class_name", np.asarray(class_names, dtype=object)[labels])
    meta["shortcut"] = carriers
    meta["seed"] = seed
    meta["index"] = np.arange(n)
    return ImageSet(images=images, labels=labels, masks=masks, organ_masks=organ, meta=meta,
                    class_names=class_names, name=name, multilabel=multilabel,
                    params=dict(params or {}),
                    shortcut_masks=short_masks if carriers.any() else None)


def lesion_stats(mask: np.ndarray, offset: np.ndarray) -> tuple[float, float, float, float]:
    """(area fraction, centroid x, centroid y, mean offset) of one image's lesion mask."""
    if not mask.any():
        return 0.0, np.nan, np.nan, np.nan
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    return mask.mean(), (xs.mean() + 0.5) / w, (ys.mean() + 0.5) / h, float(offset[mask].mean())


def check_common(context: str, n: int, image_size: int, seed: int) -> None:
    """Validate the three arguments every phantom takes."""
    check_int("n", n, min_value=1, context=context)
    check_int("image_size", image_size, min_value=MIN_SIZE, max_value=2048, context=context)
    check_int("seed", seed, min_value=0, context=context)


def lesion_canvas(rng: np.random.Generator, img: np.ndarray, noise: float, extra_meta: tuple[str, ...] = ()):
    """Start a lesion phantom's rendering: the noisy background (one normal draw per pixel from ``rng``), pixel
    centre coordinates, an empty lesion layer and masks, and per-image metadata (NaN; ``n_lesions`` 0; each of
    ``extra_meta`` a False flag). Returns ``bg, xx, yy, lesion, masks, meta``."""
    b, s = img.shape[0], img.shape[-1]
    bg = img + noise * rng.standard_normal(img.shape, dtype=np.float32)
    c = (np.arange(s, dtype=np.float32) + 0.5) / s
    meta = {k: np.full(b, np.nan) for k in ("lesion_size", "lesion_area", "lesion_x", "lesion_y", "contrast")}
    meta["n_lesions"] = np.zeros(b, dtype=np.int64)
    for k in extra_meta:
        meta[k] = np.zeros(b, dtype=bool)
    return bg, c[None, :], c[:, None], np.zeros_like(bg), np.zeros((b, 1, s, s), dtype=bool), meta


def jitter(rng: np.random.Generator, b: int) -> Callable[[float, float], np.ndarray]:
    """``j(mean, sd)``: one normal draw per image of a batch of ``b``, shaped (b, 1, 1) float32, for an anatomy's
    per-image jitter (positions, radii); draws in call order from ``rng``."""
    def j(mean: float, sd: float) -> np.ndarray:
        return (mean + sd * rng.standard_normal((b, 1, 1))).astype(np.float32)

    return j


def generate_classes(ctx: str, n: int, image_size: int, seed: int, *, class_names: tuple[str, ...],
                     presets: Mapping[str, Mapping], render, difficulty: str, prevalence, contrast, size, noise,
                     **options) -> ImageSet:
    """The common path of a single-label lesion phantom: check the arguments, resolve the difficulty preset with
    the overrides (``contrast`` a range in [0, 1], ``size`` in [0.2, 3], ``noise`` in [0, 0.5]), draw the labels
    from the class weights and ``seed``, and :func:`generate` the images (``options``: the shortcut and
    appearance arguments)."""
    check_common(ctx, n, image_size, seed)
    w = class_proportions(prevalence, class_names, ctx)
    cfg = resolve(ctx, difficulty, presets, contrast=contrast, size=size, noise=noise)
    cfg["contrast"] = check_range("contrast", cfg["contrast"], 0.0, 1.0, ctx)
    cfg["size"] = check_range("size", cfg["size"], 0.2, 3.0, ctx)[0]
    cfg["noise"] = check_range("noise", cfg["noise"], 0.0, 0.5, ctx)[0]
    labels = np.random.default_rng(seed).choice(len(class_names), size=n, p=w).astype(np.int64)
    params = {"n": n, "image_size": image_size, "seed": seed, "difficulty": difficulty,
              "prevalence": dict(zip(class_names, w.tolist(), strict=True)), **cfg}
    return generate(name=ctx, n=n, image_size=image_size, seed=seed, labels=labels, class_names=class_names,
                    render=render, cfg=cfg, params=params, **options)
