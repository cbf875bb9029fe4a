"""Brain Tumor MRI (Kaggle, Nickparvar): ``{Training,Testing}/{glioma,meningioma,notumor,pituitary}/``.

Paper 004 (Tsekanovskiy) split ``Training/`` 88/12 (stratified) into train/val and kept ``Testing/``
as the test set; ``val_fraction=0.12`` reproduces its 5,026 / 686 / 1,311 sizes.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .._validation import check_float, check_option
from ._files import check_counts, check_root, list_images, locate, require_child, require_images
from ._lazy import RealDataset
from ._sources import SOURCES
from ._splits import check_common, select_split

__all__ = ["brain_tumor_mri", "BRAIN_COUNTS", "index_class_folders"]

NAME = "brain-tumor-mri"
# (folder, aliases, class name): the brain_mri phantom's class order and names
CLASSES = (("glioma", ("glioma_tumor",), "glioma"), ("meningioma", ("meningioma_tumor",), "meningioma"),
           ("notumor", ("no_tumor", "no tumour", "notumour"), "no_tumour"), ("pituitary", ("pituitary_tumor",),
                                                                            "pituitary"))
CLASS_NAMES = tuple(c[2] for c in CLASSES)
#: published image counts per official folder and class folder
BRAIN_COUNTS = {**{f"Training/{c[0]}": n for c, n in zip(CLASSES, (1321, 1339, 1595, 1457), strict=True)},
                **{f"Testing/{c[0]}": n for c, n in zip(CLASSES, (300, 306, 405, 300), strict=True)}}
OFFICIAL = ("Training", "Testing")


def index_class_folders(root: Path, base: Path, folder: Path, classes: Sequence[tuple[str, Sequence[str], str]],
                        *, dataset: str, found: dict, tag: str) -> pd.DataFrame:
    """One row per image in ``folder/<class folder>/``: ``label, class_name, class_folder, file``."""
    frames, dirs = [], []
    for label, (name, aliases, class_name) in enumerate(classes):
        d = require_child(folder, name, aliases, dataset=dataset, root=root)
        dirs.append(d)
        names = list_images(d)
        found[f"{tag}{name}"] = len(names)
        frames.append(pd.DataFrame({"label": label, "class_name": class_name, "class_folder": d.name,
                                    "file": [str((d / n).relative_to(base)) for n in names]},
                                   index=range(len(names))))
    require_images(SOURCES[dataset].title, root, dirs, sum(len(f) for f in frames))
    return pd.concat(frames, ignore_index=True)


def brain_tumor_mri(data_root: str | os.PathLike | None, split: str = "all", *, split_mode: str = "official",
                    val_fraction: float = 0.12, seed: int = 0, fractions: tuple[float, float, float] = (0.7, 0.2, 0.1),
                    on_error: str = "raise", image_size: int | None = None, channels: int = 1,
                    mask_threshold: int = 127) -> RealDataset:
    """Index Brain Tumor MRI under ``data_root`` (lazy). Labels: glioma 0, meningioma 1, no_tumour 2
    (folder ``notumor``), pituitary 3, as the ``brain_mri`` phantom. No pixel masks: all-False.

    Parameters
    ----------
    data_root : the folder holding ``Training/`` and ``Testing/`` (or one level above them).
    split : "all", "train", "val" or "test".
    split_mode : "official" (``Testing/`` is the test set; validation is a seeded, per-class
        ``val_fraction`` of ``Training/``) or "pooled" (all 7,023 images, seeded ``fractions``).
    val_fraction, seed, fractions : the seeded splits.
    on_error : "raise" or "skip" for unreadable files.
    image_size, channels : decoding (JPEGs of varying size, mostly grey; ``channels=3`` for RGB
        models such as paper 004's Inception-v3).
    mask_threshold : unused (no masks); accepted so every loader takes the same arguments.

    Examples
    --------
    >>> ds = brain_tumor_mri("/data/brain", "test")  # doctest: +SKIP
    """
    ctx = "brain_tumor_mri"
    check_common(ctx, split, seed, fractions, on_error, image_size, channels, mask_threshold)
    check_option("split_mode", split_mode, ("official", "pooled"), context=ctx)
    check_float("val_fraction", val_fraction, min_value=0.0, max_value=0.9, context=ctx)
    root = check_root(data_root, NAME)
    base = locate(root, [(), ("Brain Tumor MRI Dataset",), ("brain-tumor-mri-dataset",)], list(OFFICIAL),
                  dataset=NAME)
    found: dict[str, int] = {}
    parts = []
    for s in OFFICIAL:
        part = index_class_folders(root, base, require_child(base, s, dataset=NAME, root=root), CLASSES,
                                   dataset=NAME, found=found, tag=f"{s}/")
        part.insert(2, "official_split", s)
        parts.append(part)
    check_counts("Brain Tumor MRI", BRAIN_COUNTS, found)
    index = pd.concat(parts, ignore_index=True)
    index = select_split(index, split, split_mode, seed, fractions, val_fraction, "Training", "Testing")
    index = index.assign(has_mask=False)
    params = dict(split=split, split_mode=split_mode, val_fraction=val_fraction, seed=seed, fractions=tuple(fractions))
    return RealDataset(NAME, base, index, CLASS_NAMES, image_size=image_size, channels=channels,
                       mask_threshold=mask_threshold, has_masks=False, on_error=on_error, params=params)
