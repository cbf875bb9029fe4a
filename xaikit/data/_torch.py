"""``PhantomDataset``: an ImageSet as a ``torch.utils.data.Dataset``."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from ._base import ImageSet

__all__ = ["PhantomDataset"]


class PhantomDataset(Dataset):
    """Items ``(image, label, mask)`` of an ImageSet, as tensors.

    Parameters
    ----------
    imageset : the data (any ImageSet: phantom or real).
    transform : optional ``transform(image) -> image`` applied to the image tensor only.
    joint_transform : optional ``joint_transform(image, mask) -> (image, mask)`` for geometric
        augmentation that must move the mask with the image; applied before ``transform``.

    Image: float32 (C, H, W). Label: int64 scalar, or float32 (K,) for multi-label data.
    Mask: bool (K, H, W).

    Examples
    --------
    >>> from xaikit.data import PhantomDataset, chest_covid
    >>> x, y, m = PhantomDataset(chest_covid(2, image_size=32))[0]
    >>> tuple(x.shape), y.dtype, m.dtype
    ((1, 32, 32), torch.int64, torch.bool)
    """

    def __init__(self, imageset: ImageSet, transform: Callable | None = None,
                 joint_transform: Callable | None = None) -> None:
        self.imageset = imageset
        self.transform = transform
        self.joint_transform = joint_transform

    def __len__(self) -> int:
        return len(self.imageset)

    def __getitem__(self, i: int):
        ds = self.imageset
        x = torch.from_numpy(np.ascontiguousarray(ds.images[i]))
        m = torch.from_numpy(np.ascontiguousarray(ds.masks[i]))
        y = torch.as_tensor(ds.labels[i], dtype=torch.float32 if ds.multilabel else torch.int64)
        if self.joint_transform is not None:
            x, m = self.joint_transform(x, m)
        if self.transform is not None:
            x = self.transform(x)
        return x, y, m
