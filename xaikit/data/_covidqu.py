"""COVID-QU-Ex (Tahir et al. 2021): chest radiographs with lung and infection masks.

Paper 003 (Cedro & Chlebus) used the COVID-19 + Normal part of "Infection Segmentation Data"
(2,913 + 1,456 = 4,369 images) with infection masks for COVID-19 and **lung masks for Normal**
("masks for healthy individuals encompass the entire lungs"), split at random 70/20/10.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .._validation import check_option
from ._files import (
    check_counts,
    check_root,
    drop_unpaired,
    find_child,
    list_images,
    locate,
    pair_by_name,
    require_child,
    require_images,
)
from ._lazy import RealDataset
from ._splits import check_common, stratified_split

__all__ = ["covid_qu_ex", "COVIDQU_COUNTS"]

NAME = "covid-qu-ex"
PARTS = {"infection": "Infection Segmentation Data", "lung": "Lung Segmentation Data"}
OFFICIAL = {"train": "Train", "val": "Val", "test": "Test"}
# label order keeps the chest_covid phantom's: healthy = 0, covid = 1 (non_covid = 2 when all classes are asked)
FOLDERS = {"Normal": "healthy", "COVID-19": "covid", "Non-COVID": "non_covid"}
CLASSES = {"paper003": ("Normal", "COVID-19"), "all": ("Normal", "COVID-19", "Non-COVID")}
MASKS = ("paper003", "infection", "lung")
SPLIT_MODES = ("paper003", "official")
_PER_SPLIT = {"infection": {"Train": (1864, 932, 932), "Val": (466, 233, 233), "Test": (583, 292, 291)},
              "lung": {"Train": (7658, 7208, 6849), "Val": (1903, 1802, 1712), "Test": (2395, 2253, 2140)}}
#: published image counts per part, official split and class folder (the dataset's page)
COVIDQU_COUNTS = {part: {f"{s}/{c}": n[k] for s, n in d.items() for k, c in enumerate(("COVID-19", "Non-COVID",
                                                                                         "Normal"))}
                  for part, d in _PER_SPLIT.items()}


def covid_qu_ex(data_root: str | os.PathLike | None, split: str = "all", *, part: str = "infection",
                classes: str = "paper003", masks: str | None = None, split_mode: str = "paper003", seed: int = 0,
                fractions: tuple[float, float, float] = (0.7, 0.2, 0.1), on_error: str = "raise",
                image_size: int | None = None, channels: int = 1, mask_threshold: int = 127) -> RealDataset:
    """Index COVID-QU-Ex under ``data_root`` (lazy: nothing is decoded).

    Parameters
    ----------
    data_root : the folder holding ``Infection Segmentation Data/`` (or ``Lung Segmentation Data/``),
        nested twice as the Kaggle archive unpacks, once, or ``data_root`` already at the folder with
        ``Train/Val/Test``.
    split : "all", "train", "val" or "test".
    part : "infection" (Infection Segmentation Data, 5,826 images) or "lung" (Lung Segmentation Data, 33,920).
    classes : "paper003" (Normal + COVID-19; labels healthy = 0, covid = 1, as the ``chest_covid``
        phantom) or "all" (adds Non-COVID as non_covid = 2).
    masks : "paper003" (infection masks for COVID-19, lung masks otherwise: paper 003's convention, so
        no healthy image has an empty mask), "infection" (a class without an ``infection masks`` folder
        gets all-False masks, ``has_mask`` False) or "lung". Default: "paper003" for part="infection",
        "lung" for part="lung". Lung masks are also returned as ``organ_masks``.
    split_mode : "paper003" pools Train/Val/Test of the chosen classes and cuts a seeded, per-class
        split by ``fractions`` (70/20/10 gives 3,058 / 874 / 437 images, paper 003's sizes), or
        "official" (the dataset's own Train/Val/Test folders).
    seed, fractions : the seeded split of split_mode="paper003".
    on_error : "raise" or "skip" for images without a same-named mask and, later, unreadable files.
    image_size, channels, mask_threshold : decoding settings of the returned dataset (masks are 0/255;
        foreground is ``> mask_threshold``).

    Returns
    -------
    RealDataset
        Its ``meta`` has the columns ``label, class_name, folder_class, official_split, file,
        mask_file, organ_file, mask_source, has_mask``.

    Raises
    ------
    DatasetNotFoundError, LayoutError, MissingMaskError : with the expected path and what is there instead.

    Examples
    --------
    >>> ds = covid_qu_ex("/data/covidqu", "test")  # doctest: +SKIP
    >>> test = ds.to_imageset(224)  # doctest: +SKIP
    """
    ctx = "covid_qu_ex"
    check_common(ctx, split, seed, fractions, on_error, image_size, channels, mask_threshold)
    check_option("part", part, PARTS, context=ctx)
    check_option("classes", classes, CLASSES, context=ctx)
    check_option("split_mode", split_mode, SPLIT_MODES, context=ctx)
    masks = masks or ("paper003" if part == "infection" else "lung")
    check_option("masks", masks, MASKS if part == "infection" else ("lung",), context=ctx)
    root = check_root(data_root, NAME)
    top = PARTS[part]
    base = locate(root, [(top, top), (top,), ("COVID-QU-Ex", top, top), ("covidqu", top, top), ()],
                  ["Train"], dataset=NAME)

    folders = (list(OFFICIAL.values()) if split_mode == "paper003" or split == "all" else [OFFICIAL[split]])
    class_folders = CLASSES[classes]
    class_names = tuple(FOLDERS[c] for c in class_folders)
    rows, skipped, found = [], [], {}
    for s in folders:
        split_dir = require_child(base, s, dataset=NAME, root=root)
        for label, cf in enumerate(class_folders):
            rows += _index_class(root, base, split_dir, s, cf, label, class_names[label], masks, on_error,
                                 skipped, found)
    require_images(f"COVID-QU-Ex ({top})", root, [base / s / cf for s in folders for cf in class_folders],
                   sum(found.values()))
    expected = {k: v for k, v in COVIDQU_COUNTS[part].items() if k.split("/")[0] in folders
                and k.split("/")[1] in class_folders}
    check_counts(f"COVID-QU-Ex ({top})", expected, found)
    index = pd.DataFrame(rows, columns=["label", "class_name", "folder_class", "official_split", "file",
                                        "mask_file", "organ_file", "mask_source", "has_mask"])
    if split_mode == "paper003":
        index = index.iloc[stratified_split(index["label"].to_numpy(), split, seed, fractions)]
    params = dict(split=split, part=part, classes=classes, masks=masks, split_mode=split_mode, seed=seed,
                  fractions=tuple(fractions))
    return RealDataset(NAME, base, index, class_names, image_size=image_size, channels=channels,
                       mask_threshold=mask_threshold, has_masks=True, has_organ=True, on_error=on_error,
                       expected_size=(256, 256), params=params, skipped=skipped)


def _index_class(root: Path, base: Path, split_dir: Path, split: str, folder: str, label: int, class_name: str,
                 masks: str, on_error: str, skipped: list, found: dict) -> list[tuple]:
    """Rows of one ``<split>/<class>/`` folder, each image paired by name with its masks."""
    class_dir = require_child(split_dir, folder, dataset=NAME, root=root)
    image_dir = require_child(class_dir, "images", ("image",), dataset=NAME, root=root)
    lung_dir = require_child(class_dir, "lung masks", ("lung mask", "lung_masks", "masks"), dataset=NAME, root=root)
    source = masks if masks != "paper003" else ("infection" if folder == "COVID-19" else "lung")
    inf_dir = None
    if source == "infection":
        if folder == "COVID-19":  # COVID-19 infection masks are the point of the dataset: required
            inf_dir = require_child(class_dir, "infection masks", ("infection mask",), dataset=NAME, root=root)
        else:  # absent for Normal / Non-COVID in some copies: all-False masks then
            inf_dir = find_child(class_dir, "infection masks", ("infection mask",))
    names = list_images(image_dir)
    found[f"{split}/{folder}"] = len(names)
    lungs = pair_by_name(names, list_images(lung_dir))
    keep = set(drop_unpaired("COVID-QU-Ex", root, image_dir, lung_dir, names, lungs, prefix="", on_error=on_error,
                             skipped=skipped))
    if inf_dir is not None:
        infs = pair_by_name(names, list_images(inf_dir))
        keep &= set(drop_unpaired("COVID-QU-Ex", root, image_dir, inf_dir, names, infs, prefix="",
                                  on_error=on_error, skipped=skipped))
    mask_dir = lung_dir if source == "lung" else inf_dir
    mask_names = lungs if source == "lung" else (infs if inf_dir is not None else [None] * len(names))
    rel = lambda d, n: None if d is None or n is None else str((d / n).relative_to(base))  # noqa: E731
    return [(label, class_name, folder, split, rel(image_dir, n), rel(mask_dir, mask_names[i]),
             rel(lung_dir, lungs[i]), source if mask_dir is not None else None, mask_dir is not None)
            for i, n in enumerate(names) if i in keep]

