"""``load(name, ...)``: the one entry point to every dataset, phantom or real, with seeded splits.

Phantoms (``DATASETS``) are generated; real datasets (``REAL_DATASETS``) are read from the
``data_root`` you pass, validated, and decoded into the same :class:`ImageSet` structure, so a
notebook switches from a phantom to the real data by changing ``dataset=`` and ``data_root=``.
"""
from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable

from .._validation import check_float, check_option, did_you_mean
from ._base import ImageSet
from ._brain import brain_mri
from ._brain_tumor import brain_tumor_mri
from ._chest import chest_covid
from ._chexpert import chexpert
from ._covidqu import covid_qu_ex
from ._iqothnccd import iq_oth_nccd
from ._lazy import RealDataset
from ._lung_ct import lung_ct
from ._medmnist import medmnist
from ._multilabel import chest_multilabel
from ._qata import qata_cov19
from ._splits import SPLITS, split_indices

__all__ = ["DATASETS", "PHANTOM_OF", "REAL_DATASETS", "load", "split_indices"]

DATASETS: dict[str, Callable[..., ImageSet]] = {
    "chest_covid": chest_covid,
    "chest_multilabel": chest_multilabel,
    "brain_mri": brain_mri,
    "lung_ct": lung_ct,
}
#: real datasets: name -> loader(data_root, split, *, seed, fractions, image_size, ...) -> RealDataset
REAL_DATASETS: dict[str, Callable[..., RealDataset]] = {
    "covid-qu-ex": covid_qu_ex,
    "qata-cov19": qata_cov19,
    "chexpert": chexpert,
    "brain-tumor-mri": brain_tumor_mri,
    "iq-oth-nccd": iq_oth_nccd,
    "medmnist": medmnist,
}
#: the phantom that stands in for each real dataset when no data_root is given
PHANTOM_OF = {"covid-qu-ex": "chest_covid", "qata-cov19": "chest_covid", "chexpert": "chest_multilabel",
              "brain-tumor-mri": "brain_mri", "iq-oth-nccd": "lung_ct"}
_SHARED = ("data_root", "split", "seed", "fractions", "image_size")
#: The phantom generated last, keyed by its arguments: the three splits of one run are cut from one generation
#: (``load`` is called once per split) instead of three identical ones. Splits are copies (``ImageSet.subset``).
_LAST_PHANTOM: dict[str, ImageSet] = {}


def load(name: str, split: str = "all", *, n: int | None = None, image_size: int = 64, seed: int = 0,
         fractions: tuple[float, float, float] = (0.7, 0.2, 0.1), data_root: str | None = None,
         lazy: bool = False, **options) -> ImageSet | RealDataset:
    """Load dataset ``name`` and return one split of it.

    Parameters
    ----------
    name : a key of ``DATASETS`` (a phantom) or of ``REAL_DATASETS`` (read from ``data_root``).
    split : "all", "train", "val" or "test".
    n : how many images all three splits hold together, so a split has about its fraction of ``n``.
        Phantoms: how many to generate (default 200). Real data: a seeded, class-stratified sample
        of the split, sized ``round(n * len(split) / len(dataset))`` (default: the whole split).
    image_size : square side in pixels; real images are resized to it (masks: nearest neighbour).
    seed : seeds the phantom, the split and (real data) the sample of ``n``.
    fractions : train/val/test fractions of the seeded splits (phantoms always; real datasets
        where their ``split_mode`` draws one).
    data_root : real datasets only: the folder you unpacked the dataset into (see data/README.md;
        nothing is downloaded). Required for a real dataset, refused for a phantom.
    lazy : real datasets only: return the :class:`RealDataset` (validated file index, nothing decoded)
        instead of an in-memory ImageSet, e.g. for a DataLoader over all of CheXpert.
    **options : further options of the generator or loader (``difficulty``, ``uncertainty``,
        ``split_mode``, ``on_error``, ``channels``, ...); an unknown option raises ``ValueError`` naming it.

    Examples
    --------
    >>> train = load("chest_covid", "train", n=40, image_size=32, seed=0)
    >>> len(train)
    28
    >>> test = load("covid-qu-ex", "test", data_root="/data/covidqu", image_size=224)  # doctest: +SKIP
    """
    check_option("name", name, [*DATASETS, *REAL_DATASETS], context="load")
    check_option("split", split, SPLITS, context="load")
    for f in fractions:
        check_float("fractions", f, min_value=0.0, max_value=1.0, context="load")
    if name in REAL_DATASETS:
        return _load_real(name, split, n=n, image_size=image_size, seed=seed, fractions=fractions,
                          data_root=data_root, lazy=lazy, options=options)
    if data_root is not None:
        real = [k for k, v in PHANTOM_OF.items() if v == name]
        raise ValueError(f"data_root of load is set ({str(data_root)!r}) but {name!r} is a phantom, which reads "
                         f"nothing from disk; for real data choose a real dataset"
                         f"{' (' + ', '.join(map(repr, real)) + ')' if real else ''}, or leave data_root unset")
    if lazy:
        raise ValueError(f"lazy of load applies to real datasets only; {name!r} is a phantom")
    fn = DATASETS[name]
    _check_options(name, fn, options, ("n", "image_size", "seed"))
    n = 200 if n is None else n
    if split == "all":
        return fn(n, image_size=image_size, seed=seed, **options)
    key = repr((name, n, image_size, seed, sorted(options.items())))
    if key not in _LAST_PHANTOM:
        _LAST_PHANTOM.clear()
        _LAST_PHANTOM[key] = fn(n, image_size=image_size, seed=seed, **options)
    ds = _LAST_PHANTOM[key]
    return ds.subset(split_indices(ds.labels, tuple(fractions), seed)[split])


def _check_options(name: str, fn: Callable, options: dict, shared: tuple[str, ...]) -> None:
    known = [p for p in inspect.signature(fn).parameters if p not in shared]
    for key in options:
        if key not in known:
            raise ValueError(f"{key!r} is not an option of {name}; options are {', '.join(known)}."
                             f"{did_you_mean(key, known)}")


def _load_real(name: str, split: str, *, n: int | None, image_size: int, seed: int, fractions, data_root,
               lazy: bool, options: dict) -> ImageSet | RealDataset:
    fn = REAL_DATASETS[name]
    _check_options(name, fn, options, _SHARED)
    ds = fn(data_root, split, seed=seed, fractions=tuple(fractions), image_size=image_size, **options)
    if n is not None and split != "all":  # n counts all splits together, as for the phantoms
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the first call has warned already
            total = len(fn(data_root, "all", seed=seed, fractions=tuple(fractions), image_size=image_size, **options))
        n = max(1, int(round(n * len(ds) / max(total, 1))))
    if lazy:
        return ds if n is None else ds.sample(n, seed)
    return ds.to_imageset(image_size, limit=n, seed=seed)
