"""Where each real dataset comes from, its licence note, and the layout its loader expects.

The same facts feed the loaders' error messages and ``data/README.md``, so a user who lacks
the data is told where to get it and where to put it. No loader downloads anything.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DatasetSource", "SOURCES", "where_to_get"]


@dataclass(frozen=True)
class DatasetSource:
    """Provenance of one real dataset.

    Attributes
    ----------
    title : the dataset's usual name.
    source : where to obtain it, as text (a Kaggle dataset slug or the hosting institution).
    licence : a short licence note; the source page is authoritative.
    layout : the folder that must exist under ``data_root`` once unpacked.
    """

    title: str
    source: str
    licence: str
    layout: str


SOURCES: dict[str, DatasetSource] = {
    "covid-qu-ex": DatasetSource(
        "COVID-QU-Ex", "the Kaggle dataset anasmohammedtahir/covidqu",
        "the licence on the Kaggle page applies; cite Tahir et al. (2021)",
        "<data_root>/Infection Segmentation Data/Infection Segmentation Data/{Train,Val,Test}/"
        "{COVID-19,Non-COVID,Normal}/{images,infection masks,lung masks}/"),
    "qata-cov19": DatasetSource(
        "QaTa-COV19", "the Kaggle dataset aysendegerli/qatacov19-dataset",
        "the licence on the Kaggle page applies; cite Degerli et al.",
        "<data_root>/QaTa-COV19/QaTa-COV19-v2/{Train Set,Test Set}/{Images,Ground-truths}/ "
        "(v1: <data_root>/QaTa-COV19/QaTa-COV19-v1/{Images,Ground-truths}/)"),
    "chexpert": DatasetSource(
        "CheXpert", "the Stanford AIMI CheXpert page (registration; v1.0 or v1.0-small)",
        "Stanford CheXpert Research Use Agreement: non-commercial research, no redistribution",
        "<data_root>/CheXpert-v1.0-small/{train.csv,valid.csv,train/,valid/} (or CheXpert-v1.0/)"),
    "brain-tumor-mri": DatasetSource(
        "Brain Tumor MRI", "the Kaggle dataset masoudnickparvar/brain-tumor-mri-dataset",
        "the licence on the Kaggle page applies; it merges figshare, SARTAJ and Br35H images",
        "<data_root>/{Training,Testing}/{glioma,meningioma,notumor,pituitary}/"),
    "iq-oth-nccd": DatasetSource(
        "IQ-OTH/NCCD lung cancer CT", "the Kaggle dataset hamdallak/the-iqothnccd-lung-cancer-dataset",
        "the licence on the Kaggle page applies; cite Alyasriy & Al-Huseiny",
        "<data_root>/The IQ-OTHNCCD lung cancer dataset/{Bengin cases,Malignant cases,Normal cases}/"),
    "medmnist": DatasetSource(
        "MedMNIST v2", "the MedMNIST project's npz files (the `medmnist` package's INFO names them)",
        "CC BY 4.0 (the source datasets keep their own licences)",
        "<data_root>/{flag}.npz for 28 px, <data_root>/{flag}_{size}.npz for 64/128/224 px"),
}


def where_to_get(name: str) -> str:
    """One sentence: where to get dataset ``name`` and where to put it."""
    s = SOURCES[name]
    return (f"Get {s.title} from {s.source} (nothing is downloaded for you) and unpack it so that "
            f"{s.layout} exists; see data/README.md.")
