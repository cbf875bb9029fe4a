"""MedMNIST v2 (Yang et al. 2023) 2D datasets from local ``.npz`` files; nothing is downloaded.

A file ``{flag}.npz`` (28 px) or ``{flag}_{size}.npz`` (64, 128, 224 px) holds ``{train,val,test}_images``
(uint8, (N, H, W) or (N, H, W, 3)) and ``{train,val,test}_labels`` ((N, L)). As the ``medmnist`` package
does, each split's size is checked against the published one (here a warning, as for every loader).
Only the labels are read when indexing; image arrays are read on first decode.
"""
from __future__ import annotations

import os
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import check_option
from ._errors import CorruptImageError, LabelValueError, LayoutError
from ._files import _resize, check_counts, check_root, full_scale, listing
from ._lazy import RealDataset
from ._sources import SOURCES
from ._splits import check_common

__all__ = ["medmnist", "MEDMNIST_INFO", "MedMNISTDataset"]

NAME = "medmnist"
_OFFICIAL = ("train", "val", "test")
_ORGANS = ("bladder", "femur_left", "femur_right", "heart", "kidney_left", "kidney_right", "liver", "lung_left",
           "lung_right", "pancreas", "spleen")
#: flag → (channels, task, (n_train, n_val, n_test), class names), from the medmnist package's INFO
MEDMNIST_INFO: dict[str, tuple[int, str, tuple[int, int, int], tuple[str, ...]]] = {
    "pathmnist": (3, "multi-class", (89996, 10004, 7180), ("adipose", "background", "debris", "lymphocytes", "mucus",
                  "smooth_muscle", "normal_colon_mucosa", "cancer_associated_stroma", "colorectal_adenocarcinoma")),
    "chestmnist": (1, "multi-label", (78468, 11219, 22433), ("atelectasis", "cardiomegaly", "effusion",
                   "infiltration", "mass", "nodule", "pneumonia", "pneumothorax", "consolidation", "edema",
                   "emphysema", "fibrosis", "pleural", "hernia")),
    "dermamnist": (3, "multi-class", (7007, 1003, 2005), ("actinic_keratoses", "basal_cell_carcinoma",
                   "benign_keratosis", "dermatofibroma", "melanoma", "melanocytic_nevi", "vascular_lesions")),
    "octmnist": (1, "multi-class", (97477, 10832, 1000), ("cnv", "dme", "drusen", "normal")),
    "pneumoniamnist": (1, "binary-class", (4708, 524, 624), ("normal", "pneumonia")),
    "retinamnist": (3, "ordinal-regression", (1080, 120, 400), ("0", "1", "2", "3", "4")),
    "breastmnist": (1, "binary-class", (546, 78, 156), ("malignant", "normal_benign")),
    "bloodmnist": (3, "multi-class", (11959, 1712, 3421), ("basophil", "eosinophil", "erythroblast",
                   "immature_granulocytes", "lymphocyte", "monocyte", "neutrophil", "platelet")),
    "tissuemnist": (1, "multi-class", (165466, 23640, 47280), ("collecting_duct", "distal_convoluted_tubule",
                    "glomerular_endothelial", "interstitial_endothelial", "leukocytes", "podocytes",
                    "proximal_tubule", "thick_ascending_limb")),
    "organamnist": (1, "multi-class", (34581, 6491, 17778), _ORGANS),
    "organcmnist": (1, "multi-class", (13000, 2392, 8268), _ORGANS),
    "organsmnist": (1, "multi-class", (13940, 2452, 8829), _ORGANS),
}
SIZES = (28, 64, 128, 224)


class MedMNISTDataset(RealDataset):
    """A :class:`RealDataset` whose images are rows of the npz arrays (``index.row`` in ``index.official_split``)."""

    _lock = threading.Lock()

    def _array(self, split: str) -> np.ndarray:
        with self._lock:
            cache = self.__dict__.setdefault("_arrays", {})  # subsets made after the first read share it
            if split not in cache:
                with np.load(self.root / self.params["file"]) as z:
                    cache[split] = z[f"{split}_images"]
        return cache[split]

    def _read_image(self, i: int, size: int | None) -> tuple[np.ndarray, tuple[int, int]]:
        row = self.index.iloc[i]
        raw = self._array(row["official_split"])[int(row["row"])]
        a = raw.astype(np.float32) / full_scale(raw.dtype)  # uint8 / 255, uint16 / 65,535: the bit depth
        native = a.shape[:2]
        if a.ndim == 3 and self.channels == 1:
            a = a @ np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601 luma, as Pillow's "L"
        elif a.ndim == 2 and self.channels == 3:
            a = np.repeat(a[..., None], 3, axis=-1)
        from PIL import Image

        a = _resize(a, size, Image.BILINEAR)
        a = a[None] if a.ndim == 2 else np.moveaxis(a, -1, 0)
        return np.ascontiguousarray(np.clip(a, 0, 1), dtype=np.float32), native


def medmnist(data_root: str | os.PathLike | None, split: str = "all", *, flag: str = "pneumoniamnist",
             size: int = 28, seed: int = 0, fractions: tuple[float, float, float] = (0.7, 0.2, 0.1),
             on_error: str = "raise", image_size: int | None = None, channels: int | None = None,
             mask_threshold: int = 127) -> MedMNISTDataset:
    """Index one MedMNIST 2D dataset from ``data_root/{flag}[_{size}].npz`` (lazy).

    Parameters
    ----------
    data_root : the folder holding the npz files.
    split : "all", "train", "val" or "test" (the official splits; "all" concatenates them).
    flag : a key of ``MEDMNIST_INFO`` ("chestmnist", "pneumoniamnist", ...).
    size : 28, 64, 128 or 224 (the file's native size).
    seed, fractions : unused (MedMNIST has official splits); accepted so every loader takes them.
    on_error : "raise" or "skip" at decode time.
    image_size : decode size (default: ``size``). channels : 1 or 3 (default: the flag's own).
    mask_threshold : unused (no masks: all-False).

    Labels: int64 (N,) for single-label flags (binary, multi-class, ordinal), (N, 14) for ChestMNIST.

    Examples
    --------
    >>> ds = medmnist("/data/medmnist", "test", flag="pneumoniamnist")  # doctest: +SKIP
    """
    ctx = "medmnist"
    check_option("flag", flag, MEDMNIST_INFO, context=ctx)
    check_option("size", size, SIZES, context=ctx)
    n_ch, task, counts, class_names = MEDMNIST_INFO[flag]
    channels = n_ch if channels is None else channels
    check_common(ctx, split, seed, fractions, on_error, image_size, channels, mask_threshold)
    root = check_root(data_root, NAME)
    fname = f"{flag}.npz" if size == 28 else f"{flag}_{size}.npz"
    path = root / fname
    if not path.is_file():
        raise LayoutError(f"MedMNIST: expected file '{fname}' in data_root '{root}'; it contains: {listing(root)}. "
                          f"Expected layout: {SOURCES[NAME].layout}; see data/README.md.")
    shapes = _headers(path)
    multilabel = task == "multi-label"
    splits = _OFFICIAL if split == "all" else (split,)
    frames, found = [], {}
    for s in splits:
        for key in (f"{s}_images", f"{s}_labels"):
            if key not in shapes:
                raise LayoutError(f"MedMNIST: {fname} has no array {key!r}; it has {', '.join(sorted(shapes))}")
        n = shapes[f"{s}_images"][0]
        found[s] = n
        with np.load(path) as z:
            y = np.asarray(z[f"{s}_labels"])
        if len(y) != n:
            raise CorruptImageError(f"MedMNIST: {fname} has {n} {s}_images but {len(y)} {s}_labels")
        frames.append(_label_frame(y, s, flag, fname, class_names, multilabel))
    check_counts(f"MedMNIST {fname}", {s: counts[_OFFICIAL.index(s)] for s in splits}, found)
    index = pd.concat(frames, ignore_index=True).assign(has_mask=False)
    params = dict(split=split, flag=flag, size=size, file=fname, task=task)
    return MedMNISTDataset(NAME, root, index, class_names, multilabel=multilabel, image_size=image_size or size,
                           channels=channels, mask_threshold=mask_threshold, has_masks=False, on_error=on_error,
                           params=params)


def _headers(path: Path) -> dict[str, tuple[int, ...]]:
    """Array shapes in an npz, read from the .npy headers only (no array is loaded)."""
    shapes = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                with zf.open(name) as f:
                    version = np.lib.format.read_magic(f)
                    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                            else np.lib.format.read_array_header_2_0)
                    shapes[name.removesuffix(".npy")] = read(f)[0]
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise CorruptImageError(f"MedMNIST: cannot read '{path}': {err}. Re-download the file.") from err
    return shapes


def _label_frame(y: np.ndarray, split: str, flag: str, fname: str, class_names: tuple[str, ...],
                 multilabel: bool) -> pd.DataFrame:
    k = len(class_names)
    y = y.reshape(len(y), -1)
    width, allowed = (k, (0, 1)) if multilabel else (1, tuple(range(k)))
    bad = sorted(set(np.unique(y).tolist()) - set(allowed))
    if y.shape[1] != width or bad:
        raise LabelValueError(f"MedMNIST {fname}: {split}_labels must be (N, {width}) with values in {allowed} for "
                              f"{flag}; got shape {y.shape}" + (f" and values {bad[:5]}" if bad else ""))
    if multilabel:
        frame = pd.DataFrame(y.astype(np.int64), columns=list(class_names))
    else:
        frame = pd.DataFrame({"label": y[:, 0].astype(np.int64)})
        frame["class_name"] = np.asarray(class_names, dtype=object)[frame["label"]]
    frame["official_split"], frame["row"] = split, np.arange(len(y))
    frame["file"] = [f"{fname}:{split}_images[{i}]" for i in range(len(y))]
    return frame
