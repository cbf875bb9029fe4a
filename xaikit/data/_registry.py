"""``load(name, ...)``: the one entry point to every dataset, with seeded stratified splits."""
from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from .._validation import check_float, check_option, did_you_mean
from ._base import ImageSet
from ._brain import brain_mri
from ._chest import chest_covid
from ._lung_ct import lung_ct
from ._multilabel import chest_multilabel

__all__ = ["DATASETS", "load", "split_indices"]

DATASETS: dict[str, Callable[..., ImageSet]] = {
    "chest_covid": chest_covid,
    "chest_multilabel": chest_multilabel,
    "brain_mri": brain_mri,
    "lung_ct": lung_ct,
}
SPLITS = ("all", "train", "val", "test")


def split_indices(labels: np.ndarray, fractions: tuple[float, float, float], seed: int) -> dict[str, np.ndarray]:
    """Stratified train/val/test indices drawn from ``seed``.

    Each class is shuffled on its own and cut by ``fractions``; the three index
    sets are disjoint, sorted, and cover every sample.
    """
    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) < 0:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions!r}")
    rng = np.random.default_rng(seed)
    strata = labels if labels.ndim == 1 else labels @ (1 << np.arange(labels.shape[1]))
    out: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for c in np.unique(strata):
        idx = rng.permutation(np.flatnonzero(strata == c))
        n_train = int(round(fractions[0] * len(idx)))
        n_val = int(round(fractions[1] * len(idx)))
        out["train"].append(idx[:n_train])
        out["val"].append(idx[n_train:n_train + n_val])
        out["test"].append(idx[n_train + n_val:])
    return {k: np.sort(np.concatenate(v)) for k, v in out.items()}


def load(name: str, split: str = "all", *, n: int = 200, image_size: int = 64, seed: int = 0,
         fractions: tuple[float, float, float] = (0.7, 0.2, 0.1), **options) -> ImageSet:
    """Load dataset ``name`` and return one split of it.

    Parameters
    ----------
    name : a key of ``DATASETS``.
    split : "all", "train", "val" or "test".
    n, image_size, seed : passed to the phantom generator; the split is seeded by ``seed`` too.
    fractions : the stratified train/val/test fractions.
    **options : further generator options (``difficulty``, ``shortcut``, ...); an unknown
        option raises ``ValueError`` naming it.

    Examples
    --------
    >>> train = load("chest_covid", "train", n=40, image_size=32, seed=0)
    >>> len(train)
    28
    """
    check_option("name", name, DATASETS, context="load")
    check_option("split", split, SPLITS, context="load")
    for f in fractions:
        check_float("fractions", f, min_value=0.0, max_value=1.0, context="load")
    fn = DATASETS[name]
    known = [p for p in inspect.signature(fn).parameters if p not in ("n", "image_size", "seed")]
    for key in options:
        if key not in known:
            raise ValueError(f"{key!r} is not an option of {name}; options are {', '.join(known)}."
                             f"{did_you_mean(key, known)}")
    ds = fn(n, image_size=image_size, seed=seed, **options)
    if split == "all":
        return ds
    return ds.subset(split_indices(ds.labels, tuple(fractions), seed)[split])
