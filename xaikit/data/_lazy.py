"""``RealDataset``: a real dataset as a validated file index that decodes nothing until asked.

Real datasets do not fit in memory at the papers' sizes (CheXpert: 90,839 images at 320 px is
37 GB as float32), so a loader returns this lazy object: the layout is checked, images are
paired with their masks and labelled, but no pixel is read. Two ways to get pixels:

- ``ds[i]`` → ``(image, label, mask)`` tensors, exactly as :class:`PhantomDataset` yields them,
  decoded at ``ds.image_size``: hand it to a ``torch.utils.data.DataLoader`` for training;
- ``ds.to_imageset(image_size, limit=...)`` → an in-memory :class:`ImageSet`, the structure the
  phantoms return, so notebooks treat phantoms and real data alike. ``load(name, split,
  data_root=...)`` returns this.

Decoding: Pillow, greyscale (``channels=1``) or RGB (``channels=3``), bilinear antialiased resize
to a square, values in [0, 1] scaled by the file's bit depth (255 for 8-bit, 65,535 for 16-bit),
never by the image's own maximum. Masks: thresholded ``> mask_threshold`` at native resolution, then
nearest-neighbour resize; a mask whose native size differs from its image's is refused (both
files and sizes named), never resized onto it. Datasets without pixel annotations (CheXpert, brain MRI, lung CT,
MedMNIST) get all-False masks and ``params["has_masks"] = False``; a per-sample ``has_mask``
column in ``meta`` says which masks are annotations.
"""
from __future__ import annotations

import copy
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import check_int, check_option
from ._base import ImageSet
from ._errors import CorruptImageError, DataWarning
from ._files import read_image, read_mask

__all__ = ["RealDataset", "ON_ERROR"]

ON_ERROR = ("raise", "skip")
_WORKERS = max(1, min(4, os.cpu_count() or 1))


class RealDataset:
    """A real dataset, indexed and validated but not decoded.

    Parameters
    ----------
    name : the registry name (``"covid-qu-ex"``, ...).
    root : the folder the index's relative paths start from.
    index : one row per sample. ``file`` (relative path), optional ``mask_file`` / ``organ_file``
        (relative paths, ``None`` where a sample has none: its mask is all False), and the labels:
        ``label`` (int) for single-label data, or one 0/1 column per class name for multi-label data.
        Other columns are metadata and travel into ``ImageSet.meta``.
    class_names : names of the classes, indexed by label (or the label columns, in order).
    multilabel : whether labels are one 0/1 column per class.
    image_size : the square side ``ds[i]`` decodes to (``None``: native size).
    channels : 1 (greyscale) or 3 (RGB).
    mask_threshold : mask pixels ``> mask_threshold`` are foreground (masks are 0/255).
    has_masks : whether the dataset has pixel annotations at all.
    has_organ : whether ``organ_file`` holds organ masks (COVID-QU-Ex lung masks).
    on_error : ``"raise"`` or ``"skip"``: what :meth:`to_imageset` does with an unreadable file.
    expected_size : the published native ``(height, width)``, if any (a mismatch warns).
    params : the loader's arguments, kept for provenance.
    skipped : ``(file, reason)`` pairs the loader already dropped (``on_error="skip"``).

    Examples
    --------
    >>> ds = load("brain-tumor-mri", "test", data_root="/data/brain", lazy=True)  # doctest: +SKIP
    >>> x, y, m = ds[0]; small = ds.to_imageset(64, limit=40)  # doctest: +SKIP
    """

    def __init__(self, name: str, root: Path, index: pd.DataFrame, class_names: tuple[str, ...], *,
                 multilabel: bool = False, image_size: int | None = None, channels: int = 1,
                 mask_threshold: int = 127, has_masks: bool = False, has_organ: bool = False,
                 on_error: str = "raise", expected_size: tuple[int, int] | None = None,
                 params: dict | None = None, skipped: list[tuple[str, str]] | None = None) -> None:
        self.name = name
        self.root = Path(root)
        self.index = index.reset_index(drop=True)
        self.class_names = tuple(class_names)
        self.multilabel = multilabel
        self.image_size = image_size
        self.channels = channels
        self.mask_threshold = mask_threshold
        self.has_masks = has_masks
        self.has_organ = has_organ
        self.on_error = on_error
        self.expected_size = expected_size
        self.params = dict(params or {})
        self.skipped = list(skipped or [])

    # ------------------------------------------------------------------ index
    def __len__(self) -> int:
        return len(self.index)

    def __repr__(self) -> str:
        return (f"RealDataset({self.name!r}, n={len(self)}, classes={self.class_names}, root='{self.root}', "
                f"has_masks={self.has_masks})")

    @property
    def labels(self) -> np.ndarray:
        """int64 ``(N,)``, or ``(N, K)`` in {0, 1} for multi-label data."""
        if self.multilabel:
            return self.index[list(self.class_names)].to_numpy(dtype=np.int64)
        return self.index["label"].to_numpy(dtype=np.int64)

    def subset(self, index) -> RealDataset:
        """The samples at ``index`` (int positions or a boolean mask), still lazy."""
        out = copy.copy(self)
        out.index = self.index.iloc[np.asarray(index)].reset_index(drop=True)
        out.params = dict(self.params)
        return out

    def sample(self, n: int, seed: int = 0) -> RealDataset:
        """A seeded, class-stratified sample of ``n`` samples (all of them if ``n >= len(self)``), in index order."""
        check_int("n", n, min_value=1, context=f"{self.name}.sample")
        if n >= len(self):
            return self.subset(np.arange(len(self)))
        labels = self.labels
        strata = labels if labels.ndim == 1 else labels @ (1 << np.arange(labels.shape[1]))
        classes, counts = np.unique(strata, return_counts=True)
        quota = counts * n / len(self)
        take = np.floor(quota).astype(int)
        for k in np.argsort(-(quota - take), kind="stable")[: n - take.sum()]:
            take[k] += 1
        rng = np.random.default_rng(seed)
        picked = [rng.permutation(np.flatnonzero(strata == c))[:t] for c, t in zip(classes, take, strict=True)]
        return self.subset(np.sort(np.concatenate(picked)))

    # ------------------------------------------------------------------ decoding
    def _read_image(self, i: int, size: int | None) -> tuple[np.ndarray, tuple[int, int]]:
        return read_image(self.root / self.index.at[i, "file"], size, self.channels)

    def _mask_channels(self) -> int:
        return len(self.class_names) if self.multilabel else 1

    def _decode(self, i: int, size: int | None):
        """``(image (C,H,W), mask (K,H,W), organ (1,H,W) or None, native (h, w))`` of sample ``i``."""
        image, native = self._read_image(i, size)
        h, w = image.shape[-2:]
        mask = np.zeros((self._mask_channels(), h, w), dtype=bool)
        mfile = self.index.at[i, "mask_file"] if "mask_file" in self.index else None
        if isinstance(mfile, str):
            mask[0] = self._read_mask(mfile, (h, w), native, i)
        organ = None
        if self.has_organ:
            ofile = self.index.at[i, "organ_file"]
            organ = np.zeros((1, h, w), dtype=bool)
            if isinstance(ofile, str):
                organ[0] = self._read_mask(ofile, (h, w), native, i)
        return image, mask, organ, native

    def _read_mask(self, rel: str, shape: tuple[int, int], native: tuple[int, int], i: int) -> np.ndarray:
        m = read_mask(self.root / rel, shape[0] if shape[0] == shape[1] else None, self.mask_threshold,
                      native=native, image=self.root / self.index.at[i, "file"])
        if m.shape != shape:
            raise ValueError(f"mask {rel!r} is {m.shape[1]}x{m.shape[0]} but its image is {shape[1]}x{shape[0]}")
        return m

    def _fail(self, i: int, err: Exception) -> CorruptImageError:
        row = self.index.iloc[i]
        files = ", ".join(str(row[c]) for c in ("file", "mask_file", "organ_file") if isinstance(row.get(c), str))
        return CorruptImageError(
            f"{self.name}: cannot decode sample {i} ({files}) under '{self.root}': {type(err).__name__}: {err}. "
            f"Re-download or delete the file, or pass on_error='skip' to drop unreadable files and report them.")

    def __getitem__(self, i: int):
        """``(image, label, mask)`` as torch tensors, like :class:`PhantomDataset`: float32 (C, H, W);
        int64 scalar or float32 (K,); bool (K, H, W). An unreadable file raises :class:`CorruptImageError`
        (run :meth:`verify` first to drop such files)."""
        import torch

        try:
            image, mask, _, _ = self._decode(int(i), self.image_size)
        except Exception as err:  # noqa: BLE001 - any decode failure is reported with the file name
            raise self._fail(int(i), err) from err
        y = self.labels[i]
        label = torch.as_tensor(y, dtype=torch.float32 if self.multilabel else torch.int64)
        return torch.from_numpy(image), label, torch.from_numpy(mask)

    def verify(self, on_error: str | None = None) -> RealDataset:
        """Decode every file once (small) and return the dataset without unreadable ones
        (``on_error="skip"``, reported in ``skipped``) or raise on the first (``"raise"``)."""
        on_error = check_option("on_error", on_error or self.on_error, ON_ERROR, context=f"{self.name}.verify")
        ok, bad = self._decode_all(8, on_error)
        out = self.subset(ok)
        out.skipped = self.skipped + bad
        return out

    def _decode_all(self, size: int | None, on_error: str, keep: list | None = None):
        def work(i):
            try:
                return i, self._decode(i, size), None
            except Exception as err:  # noqa: BLE001
                return i, None, err

        ok, bad = [], []
        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            for i, out, err in pool.map(work, range(len(self))):
                if err is not None:
                    if on_error == "raise":
                        raise self._fail(i, err) from err
                    bad.append((str(self.index.at[i, "file"]), f"{type(err).__name__}: {err}"))
                    continue
                ok.append(i)
                if keep is not None:
                    keep.append(out)
        return ok, bad

    def to_imageset(self, image_size: int | None = None, *, limit: int | None = None, seed: int = 0,
                    on_error: str | None = None) -> ImageSet:
        """Decode into an in-memory :class:`ImageSet` (the phantoms' structure).

        Parameters
        ----------
        image_size : square side in pixels (default ``self.image_size``; required when native sizes vary).
        limit : decode only a seeded, class-stratified sample of this many (see :meth:`sample`).
        seed : seeds that sample.
        on_error : ``"raise"`` (default: the loader's) or ``"skip"``: unreadable files are dropped,
            listed in ``params["skipped"]`` with the reason, and a :class:`DataWarning` says how many.
        """
        ctx = f"{self.name}.to_imageset"
        size = self.image_size if image_size is None else image_size
        if size is None:
            raise ValueError(f"image_size of {ctx} must be given: native image sizes of {self.name} vary")
        check_int("image_size", size, min_value=8, max_value=4096, context=ctx)
        on_error = check_option("on_error", on_error or self.on_error, ON_ERROR, context=ctx)
        ds = self if limit is None else self.sample(limit, seed)
        decoded: list = []
        ok, bad = ds._decode_all(size, on_error, decoded)
        kept = ds.subset(ok)
        skipped = self.skipped + bad
        if bad:
            warnings.warn(f"{self.name}: skipped {len(bad)} unreadable file(s), e.g. {bad[0][0]} ({bad[0][1]}); "
                          f"the list is in params['skipped']", DataWarning, stacklevel=2)
        n, c, k = len(kept), self.channels, self._mask_channels()
        images = np.empty((n, c, size, size), np.float32)
        masks = np.empty((n, k, size, size), bool)
        organ = np.empty((n, 1, size, size), bool) if self.has_organ else None
        natives = np.empty((n, 2), np.int64)
        for j, (img, m, o, native) in enumerate(decoded):
            images[j], masks[j], natives[j] = img, m, native
            if organ is not None:
                organ[j] = o
        self._check_native(kept, natives)
        meta = kept.index.copy()
        meta["orig_height"], meta["orig_width"] = natives[:, 0], natives[:, 1]
        params = {**self.params, "data_root": str(self.root), "image_size": size, "channels": c,
                  "has_masks": self.has_masks, "mask_threshold": self.mask_threshold,
                  "skipped": [f"{f}: {r}" for f, r in skipped]}
        return ImageSet(images=images, labels=kept.labels, masks=masks, organ_masks=organ, meta=meta,
                        class_names=self.class_names, name=self.name, multilabel=self.multilabel, params=params)

    def _check_native(self, kept: RealDataset, natives: np.ndarray) -> None:
        if self.expected_size is None or not len(natives):
            return
        off = np.flatnonzero((natives != np.asarray(self.expected_size)).any(axis=1))
        if len(off):
            h, w = natives[off[0]]
            warnings.warn(f"{self.name}: {len(off)} of {len(natives)} images are not "
                          f"{self.expected_size[1]}x{self.expected_size[0]} as published, e.g. "
                          f"{kept.index.at[off[0], 'file']} is {w}x{h}", DataWarning, stacklevel=3)
