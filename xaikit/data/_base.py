"""The one structure every dataset in xaikit returns: phantoms and real-data loaders alike."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["ImageSet"]


@dataclass(frozen=True)
class ImageSet:
    """Images with labels and pixel masks.

    Attributes
    ----------
    images : ndarray, float32, shape (N, C, H, W), values in [0, 1]
    labels : ndarray, int64, shape (N,) for single-label or (N, K) in {0, 1} for multi-label data
    masks : ndarray, bool, shape (N, 1, H, W) (or (N, K, H, W) for multi-label data):
        the evidence a correct explanation should point at.
    organ_masks : ndarray, bool, shape (N, 1, H, W): the organ (lungs, brain, ...), or ``None``.
    meta : DataFrame with one row per sample.
    class_names : names of the classes, indexed by label.
    name : the dataset's registry name.
    multilabel : whether ``labels`` is (N, K).
    params : the arguments that generated or loaded the data.
    shortcut_masks : ndarray, bool, shape (N, 1, H, W): where a spurious shortcut (a marker
        or tag correlated with a label) was drawn, or ``None`` when there is none.
    """

    images: np.ndarray
    labels: np.ndarray
    masks: np.ndarray
    organ_masks: np.ndarray | None
    meta: pd.DataFrame
    class_names: tuple[str, ...]
    name: str
    multilabel: bool = False
    params: dict = field(default_factory=dict)
    shortcut_masks: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.images)
        if self.images.ndim != 4:
            raise ValueError(f"images must have shape (N, C, H, W), got {self.images.shape}")
        for attr in ("labels", "masks", "meta"):
            if len(getattr(self, attr)) != n:
                raise ValueError(f"{attr} has {len(getattr(self, attr))} rows but images has {n}")
        if self.masks.shape[0] != n or self.masks.shape[-2:] != self.images.shape[-2:]:
            raise ValueError(
                f"masks must have shape (N, K, H, W) matching images {self.images.shape}, got {self.masks.shape}"
            )

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, index: np.ndarray | list[int]) -> ImageSet:
        """The samples at ``index`` (an int array or a boolean mask), as a new ImageSet."""
        index = np.asarray(index)
        return ImageSet(
            images=self.images[index],
            labels=self.labels[index],
            masks=self.masks[index],
            organ_masks=None if self.organ_masks is None else self.organ_masks[index],
            meta=self.meta.iloc[index].reset_index(drop=True),
            class_names=self.class_names,
            name=self.name,
            multilabel=self.multilabel,
            params=dict(self.params),
            shortcut_masks=None if self.shortcut_masks is None else self.shortcut_masks[index],
        )

    def fingerprint(self) -> str:
        """A SHA-256 of the images, labels and masks: equal data, equal fingerprint."""
        h = hashlib.sha256()
        for arr in (self.images, self.labels, self.masks):
            arr = np.ascontiguousarray(arr)
            h.update(str((arr.dtype.str, arr.shape)).encode())
            h.update(arr.tobytes())
        return h.hexdigest()[:16]

    def tensors(self):
        """``(images, labels)`` as torch tensors (float32, int64/float32)."""
        import torch

        x = torch.from_numpy(np.ascontiguousarray(self.images))
        y = torch.from_numpy(np.ascontiguousarray(self.labels))
        return x, (y.float() if self.multilabel else y.long())
