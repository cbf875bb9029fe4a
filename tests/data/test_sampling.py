"""Stratified sampling: a few images per class, seeded."""
import numpy as np
import pytest

from xaikit.data import pick_per_class


def test_pick_per_class_is_seeded_stratified_and_bounded():
    y = np.array([0] * 10 + [1] * 3 + [2] * 7)
    a, b = pick_per_class(y, 4, seed=1), pick_per_class(y, 4, seed=1)
    assert np.array_equal(a, b)
    assert np.bincount(y[a]).tolist() == [4, 3, 4]  # class 1 has only 3
    assert len(set(a.tolist())) == len(a)
    only = pick_per_class(y, 5, seed=0, among=np.arange(len(y)) % 2 == 0)
    assert (only % 2 == 0).all()
    with pytest.raises(ValueError, match="n_per_class"):
        pick_per_class(y, 0)
