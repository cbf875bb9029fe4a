"""Datasets: procedural phantoms with pixel-exact ground truth, and (later) real-data loaders.

Every dataset is an :class:`ImageSet`. The four phantoms are deterministic functions of
``(n, image_size, seed, difficulty, options)``; :func:`load` adds seeded stratified splits.
``PhantomDataset`` (torch) is imported on first use, so ``import xaikit.data`` stays light.
"""
from ._base import ImageSet
from ._brain import brain_mri
from ._chest import chest_covid
from ._gallery import gallery
from ._lung_ct import lung_ct
from ._multilabel import FINDINGS, chest_multilabel
from ._registry import DATASETS, load, split_indices

__all__ = ["DATASETS", "FINDINGS", "ImageSet", "PhantomDataset", "brain_mri", "chest_covid",
           "chest_multilabel", "gallery", "load", "lung_ct", "split_indices"]


def __getattr__(name: str):
    if name == "PhantomDataset":
        from ._torch import PhantomDataset

        return PhantomDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
