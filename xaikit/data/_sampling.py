"""Stratified sampling of images: a few per class, seeded."""
from __future__ import annotations

import numpy as np

from .._validation import check_int

__all__ = ["pick_per_class"]


def pick_per_class(labels, n_per_class: int, *, seed: int = 0, among: np.ndarray | None = None) -> np.ndarray:
    """Indices of up to ``n_per_class`` images of each class, drawn without replacement (seeded), class by class.

    ``among`` restricts the draw to a boolean mask of eligible images. The result is grouped by
    class (in label order), each group sorted.

    Examples
    --------
    >>> pick_per_class([0, 1, 0, 1, 2], 1, seed=0).tolist()
    [2, 3, 4]
    """
    y = np.asarray(labels)
    check_int("n_per_class", n_per_class, min_value=1, context="pick_per_class")
    ok = np.ones(len(y), bool) if among is None else np.asarray(among, bool)
    if ok.shape != y.shape:
        raise ValueError(f"among must be a boolean mask of shape {y.shape}, got {ok.shape}")
    rng = np.random.default_rng(seed)
    out = []
    for c in np.unique(y):
        idx = np.flatnonzero((y == c) & ok)
        out.append(np.sort(rng.choice(idx, size=min(n_per_class, len(idx)), replace=False)))
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, np.int64)
