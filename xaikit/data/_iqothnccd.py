"""IQ-OTH/NCCD lung cancer CT (Kaggle, Alyasriy & Al-Huseiny): three class folders, 1,097 JPEG slices.

The archive spells the benign folder ``Bengin cases`` (sic); ``Benign cases`` is accepted too.
Paper 004 used every image as a foreign domain for its brain-MRI model, so the default split is "all".
"""
from __future__ import annotations

import os

import pandas as pd

from ._brain_tumor import index_class_folders
from ._files import check_counts, check_root, locate
from ._lazy import RealDataset
from ._splits import check_common, stratified_split

__all__ = ["iq_oth_nccd", "IQOTH_COUNTS"]

NAME = "iq-oth-nccd"
TOP = "The IQ-OTHNCCD lung cancer dataset"
# (folder, aliases, class name): the lung_ct phantom's class order and names
CLASSES = (("Normal cases", ("Normal case", "normal"), "normal"),
           ("Bengin cases", ("Benign cases", "Bengin case", "Benign case", "benign"), "benign"),
           ("Malignant cases", ("Malignant case", "malignant"), "malignant"))
CLASS_NAMES = tuple(c[2] for c in CLASSES)
#: published image counts per class folder
IQOTH_COUNTS = {"Normal cases": 416, "Bengin cases": 120, "Malignant cases": 561}


def iq_oth_nccd(data_root: str | os.PathLike | None, split: str = "all", *, seed: int = 0,
                fractions: tuple[float, float, float] = (0.7, 0.2, 0.1), on_error: str = "raise",
                image_size: int | None = None, channels: int = 1, mask_threshold: int = 127) -> RealDataset:
    """Index IQ-OTH/NCCD under ``data_root`` (lazy). Labels: normal 0, benign 1, malignant 2, as the
    ``lung_ct`` phantom. No pixel masks: all-False. The dataset has no official split: "train",
    "val" and "test" are a seeded, per-class cut by ``fractions``.

    Parameters
    ----------
    data_root : the folder holding ``The IQ-OTHNCCD lung cancer dataset/`` (once or twice nested),
        or that folder itself.
    split : "all", "train", "val" or "test".
    seed, fractions : the seeded split.
    on_error : "raise" or "skip" for unreadable files.
    image_size, channels : decoding settings.
    mask_threshold : unused (no masks).

    Examples
    --------
    >>> ds = iq_oth_nccd("/data/iqothnccd")  # doctest: +SKIP
    """
    check_common("iq_oth_nccd", split, seed, fractions, on_error, image_size, channels, mask_threshold)
    root = check_root(data_root, NAME)
    base = locate(root, [(TOP, TOP), (TOP,), ("The IQ-OTH_NCCD lung cancer dataset",), ()], ["Normal cases"],
                  dataset=NAME)
    found: dict[str, int] = {}
    index = index_class_folders(root, base, base, CLASSES, dataset=NAME, found=found, tag="")
    check_counts("IQ-OTH/NCCD", IQOTH_COUNTS, found)
    index = index.iloc[stratified_split(index["label"].to_numpy(), split, seed, fractions)]
    index = pd.DataFrame(index).assign(has_mask=False)
    params = dict(split=split, seed=seed, fractions=tuple(fractions))
    return RealDataset(NAME, base, index, CLASS_NAMES, image_size=image_size, channels=channels,
                       mask_threshold=mask_threshold, has_masks=False, on_error=on_error, params=params)
