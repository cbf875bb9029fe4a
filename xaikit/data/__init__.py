"""Datasets: procedural phantoms with pixel-exact ground truth, and loaders for the real datasets.

Every dataset is an :class:`ImageSet`. The four phantoms are deterministic functions of
``(n, image_size, seed, difficulty, options)``; :func:`load` adds seeded stratified splits.
The real-data loaders (``REAL_DATASETS``) read what you unpacked under ``data_root`` (nothing is
downloaded; see data/README.md), validate the layout with actionable errors, and return a lazy
:class:`RealDataset`; ``load(name, split, data_root=...)`` decodes it into an ImageSet.
``PhantomDataset`` (torch) is imported on first use, so ``import xaikit.data`` stays light.
"""
from ._base import ImageSet
from ._brain import CLASS_NAMES as BRAIN_MRI_CLASSES
from ._brain import brain_mri
from ._brain_tumor import BRAIN_COUNTS, brain_tumor_mri
from ._chest import chest_covid
from ._chexpert import CHEXPERT_COUNTS, CHEXPERT_LABELS, INFORMER_TRAIN, chexpert
from ._covidqu import COVIDQU_COUNTS, covid_qu_ex
from ._errors import (
    CorruptImageError,
    DatasetCountWarning,
    DatasetNotFoundError,
    DataWarning,
    LabelValueError,
    LayoutError,
    MissingMaskError,
)
from ._gallery import gallery
from ._iqothnccd import IQOTH_COUNTS, iq_oth_nccd
from ._lazy import RealDataset
from ._lung_ct import CLASS_NAMES as LUNG_CT_CLASSES
from ._lung_ct import lung_ct
from ._medmnist import MEDMNIST_INFO, medmnist
from ._multilabel import FINDINGS, chest_multilabel
from ._qata import QATA_COUNTS, qata_cov19
from ._registry import DATASETS, PHANTOM_OF, REAL_DATASETS, load, split_indices
from ._sampling import pick_per_class
from ._sources import SOURCES, DatasetSource

__all__ = ["BRAIN_COUNTS", "BRAIN_MRI_CLASSES", "LUNG_CT_CLASSES", "CHEXPERT_COUNTS", "CHEXPERT_LABELS",
           "COVIDQU_COUNTS", "DATASETS", "FINDINGS", "INFORMER_TRAIN", "IQOTH_COUNTS", "MEDMNIST_INFO", "PHANTOM_OF",
           "QATA_COUNTS", "REAL_DATASETS", "SOURCES", "CorruptImageError", "DataWarning", "DatasetCountWarning",
           "DatasetNotFoundError", "DatasetSource", "ImageSet", "LabelValueError", "LayoutError", "MissingMaskError",
           "PhantomDataset", "RealDataset", "brain_mri", "brain_tumor_mri", "chest_covid", "chest_multilabel",
           "chexpert", "covid_qu_ex", "gallery", "iq_oth_nccd", "load", "lung_ct", "medmnist", "pick_per_class",
           "qata_cov19", "split_indices"]


def __getattr__(name: str):
    if name == "PhantomDataset":
        from ._torch import PhantomDataset

        return PhantomDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
