"""QaTa-COV19 (Degerli et al.): COVID-19 chest radiographs with infection masks named ``mask_<image>``.

Every image is COVID-19 (label 1 in the ``chest_covid`` class order), so the dataset serves
localisation and transfer, not classification; v1's control-group images are not indexed.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .._validation import check_float, check_option
from ._errors import DatasetNotFoundError
from ._files import (
    check_counts,
    check_root,
    drop_unpaired,
    list_images,
    locate,
    pair_by_name,
    require_child,
    require_images,
)
from ._lazy import RealDataset
from ._splits import check_common, select_split

__all__ = ["qata_cov19", "QATA_COUNTS"]

NAME = "qata-cov19"
CLASS_NAMES = ("healthy", "covid")
#: published image counts of v2 (Train Set = LViT's 5,716 train + 1,429 val)
QATA_COUNTS = {"Train Set": 7145, "Test Set": 2113}
VERSIONS = ("auto", "v1", "v2")


def qata_cov19(data_root: str | os.PathLike | None, split: str = "all", *, version: str = "auto",
               split_mode: str | None = None, val_fraction: float = 0.2, seed: int = 0,
               fractions: tuple[float, float, float] = (0.7, 0.2, 0.1), on_error: str = "raise",
               image_size: int | None = None, channels: int = 1, mask_threshold: int = 127) -> RealDataset:
    """Index QaTa-COV19 under ``data_root`` (lazy).

    Parameters
    ----------
    data_root : the folder holding ``QaTa-COV19/QaTa-COV19-v2/`` (or ``-v1``), or either folder itself.
    split : "all", "train", "val" or "test".
    version : "v2" (``{Train Set,Test Set}/{Images,Ground-truths}``), "v1" (``{Images,Ground-truths}``)
        or "auto" (v2 when present, else v1).
    split_mode : "official" (v2 only: Train Set minus a seeded ``val_fraction`` for validation, and
        Test Set; 0.2 gives LViT's 5,716 / 1,429 / 2,113) or "pooled" (all images, seeded ``fractions``).
        Default: "official" for v2, "pooled" for v1.
    val_fraction, seed, fractions : the seeded splits.
    on_error : "raise" or "skip" for images without ``mask_<name>`` and unreadable files.
    image_size, channels, mask_threshold : decoding settings; masks are 0/255 and foreground is
        ``> mask_threshold`` (127; any threshold in 1..254 agrees on clean 0/255 masks).

    Examples
    --------
    >>> ds = qata_cov19("/data/qata", "test")  # doctest: +SKIP
    """
    ctx = "qata_cov19"
    check_common(ctx, split, seed, fractions, on_error, image_size, channels, mask_threshold)
    check_option("version", version, VERSIONS, context=ctx)
    check_float("val_fraction", val_fraction, min_value=0.0, max_value=0.9, context=ctx)
    root = check_root(data_root, NAME)
    v2 = [("QaTa-COV19", "QaTa-COV19-v2"), ("QaTa-COV19-v2",), ()]
    v1 = [("QaTa-COV19", "QaTa-COV19-v1"), ("QaTa-COV19-v1",), ()]
    if version == "auto":
        try:
            base, version = locate(root, v2, ["Train Set"], dataset=NAME), "v2"
        except DatasetNotFoundError as no_v2:
            try:
                base, version = locate(root, v1, ["Images", "Ground-truths"], dataset=NAME), "v1"
            except DatasetNotFoundError:
                raise no_v2 from None  # its message names both layouts
    elif version == "v2":
        base = locate(root, v2, ["Train Set"], dataset=NAME)
    else:
        base = locate(root, v1, ["Images", "Ground-truths"], dataset=NAME)
    split_mode = split_mode or ("official" if version == "v2" else "pooled")
    check_option("split_mode", split_mode, ("official", "pooled") if version == "v2" else ("pooled",), context=ctx)

    skipped: list[tuple[str, str]] = []
    if version == "v1":
        index = _index_folder(root, base, base, "all", on_error, skipped)
        require_images("QaTa-COV19 v1", root, [base / "Images"], index.attrs["n_found"])
    else:
        parts = [_index_folder(root, base, require_child(base, s, dataset=NAME, root=root), s, on_error, skipped)
                 for s in QATA_COUNTS]
        check_counts("QaTa-COV19 v2", QATA_COUNTS, {s: p.attrs["n_found"] for s, p in zip(QATA_COUNTS, parts,
                                                                                          strict=True)})
        require_images("QaTa-COV19 v2", root, [base / s / "Images" for s in QATA_COUNTS],
                       sum(p.attrs["n_found"] for p in parts))
        index = pd.concat(parts, ignore_index=True)
    index = select_split(index, split, split_mode, seed, fractions, val_fraction, "Train Set", "Test Set")
    params = dict(split=split, version=version, split_mode=split_mode, val_fraction=val_fraction, seed=seed,
                  fractions=tuple(fractions))
    return RealDataset(NAME, base, index, CLASS_NAMES, image_size=image_size, channels=channels,
                       mask_threshold=mask_threshold, has_masks=True, on_error=on_error, params=params,
                       skipped=skipped)


def _index_folder(root: Path, base: Path, folder: Path, split: str, on_error: str, skipped: list) -> pd.DataFrame:
    image_dir = require_child(folder, "Images", ("image",), dataset=NAME, root=root)
    mask_dir = require_child(folder, "Ground-truths", ("ground truths", "ground-truth", "masks"), dataset=NAME,
                             root=root)
    names = list_images(image_dir)
    pairs = pair_by_name(names, list_images(mask_dir), prefix="mask_")
    keep = drop_unpaired("QaTa-COV19", root, image_dir, mask_dir, names, pairs, prefix="mask_", on_error=on_error,
                         skipped=skipped)
    rel = lambda d, n: str((d / n).relative_to(base))  # noqa: E731
    index = pd.DataFrame({"label": 1, "class_name": "covid", "official_split": split,
                          "file": [rel(image_dir, names[i]) for i in keep],
                          "mask_file": [rel(mask_dir, pairs[i]) for i in keep], "has_mask": True},
                         index=range(len(keep)))
    index.attrs["n_found"] = len(names)
    return index
