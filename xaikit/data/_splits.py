"""Split helpers for the real-data loaders: seeded stratified splits, a validation part carved from
an official training folder, and patient-level splits (no patient in two splits)."""
from __future__ import annotations

import numpy as np

from .._validation import check_float, check_int, check_option
from ._lazy import ON_ERROR

__all__ = ["SPLITS", "carve_val", "check_common", "patient_split", "select_split", "split_indices", "stratified_split"]

SPLITS = ("all", "train", "val", "test")


def check_common(context: str, split: str, seed: int, fractions, on_error: str, image_size: int | None,
                 channels: int, mask_threshold: int) -> None:
    """Validate the arguments every loader shares."""
    check_option("split", split, SPLITS, context=context)
    check_int("seed", seed, min_value=0, context=context)
    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions of {context} must be three numbers summing to 1, got {fractions!r}")
    for f in fractions:
        check_float("fractions", f, min_value=0.0, max_value=1.0, context=context)
    check_option("on_error", on_error, ON_ERROR, context=context)
    if image_size is not None:
        check_int("image_size", image_size, min_value=8, max_value=4096, context=context)
    check_option("channels", channels, (1, 3), context=context)
    check_int("mask_threshold", mask_threshold, min_value=0, max_value=254, context=context)


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


def stratified_split(labels: np.ndarray, split: str, seed: int, fractions) -> np.ndarray:
    """Indices of ``split`` in a seeded, per-class train/val/test cut (``xaikit.data.split_indices``)."""
    if split == "all":
        return np.arange(len(labels))
    return split_indices(np.asarray(labels), tuple(fractions), seed)[split]


def carve_val(labels: np.ndarray, seed: int, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """``(train, val)`` indices: a seeded, per-class ``round(val_fraction * n_class)`` of an official
    training folder goes to validation, the rest stays for training."""
    labels = np.asarray(labels)
    strata = labels if labels.ndim == 1 else labels @ (1 << np.arange(labels.shape[1]))
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(strata):
        idx = rng.permutation(np.flatnonzero(strata == c))
        n_val = int(round(val_fraction * len(idx)))
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    cat = lambda parts: np.sort(np.concatenate(parts)) if parts else np.zeros(0, int)  # noqa: E731
    return cat(train), cat(val)


def select_split(index, split: str, split_mode: str, seed: int, fractions, val_fraction: float,
                 train_folder: str, test_folder: str):
    """Rows of ``index`` (a DataFrame with ``label`` and ``official_split`` columns) in ``split``.

    ``split_mode="pooled"``: a seeded stratified cut of every image by ``fractions``.
    Otherwise the dataset's own folders: ``test`` is ``test_folder``; ``train``/``val`` are a seeded
    per-class ``val_fraction`` carved out of ``train_folder`` (:func:`carve_val`).
    """
    if split_mode == "pooled":
        return index.iloc[stratified_split(index["label"].to_numpy(), split, seed, fractions)]
    if split == "all":
        return index
    training = np.flatnonzero(index["official_split"] == train_folder)
    tr, va = carve_val(index["label"].to_numpy()[training], seed, val_fraction)
    pick = {"train": training[tr], "val": training[va],
            "test": np.flatnonzero(index["official_split"] == test_folder)}[split]
    return index.iloc[pick]


def patient_split(patients: np.ndarray, split: str, seed: int, fractions) -> np.ndarray:
    """Indices of ``split`` when whole patients, not images, are shuffled (seeded) and cut by ``fractions``.

    Every image of a patient lands in the same split, so no patient is in two splits. The
    fractions apply to patients; image fractions follow only approximately.
    """
    if split == "all":
        return np.arange(len(patients))
    # One sort (np.unique with the inverse) and a boolean lookup per image: O(n log n). The former
    # np.isin on object arrays compared every image with every chosen patient id, O(n * patients):
    # about 180 s on CheXpert's train.csv. Same ids, same order, same seeded permutation: same splits.
    ids, inverse = np.unique(np.asarray(patients).astype(str), return_inverse=True)
    order = np.random.default_rng(seed).permutation(len(ids))
    n_train = int(round(fractions[0] * len(ids)))
    n_val = int(round(fractions[1] * len(ids)))
    cut = {"train": order[:n_train], "val": order[n_train:n_train + n_val], "test": order[n_train + n_val:]}
    chosen = np.zeros(len(ids), bool)
    chosen[cut[split]] = True
    return np.flatnonzero(chosen[inverse.reshape(-1)])
