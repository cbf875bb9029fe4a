"""Issue 19 item 9: the patient-level split is vectorised and gives exactly the splits of the direct definition."""
import time

import numpy as np
import pytest

from xaikit.data._splits import patient_split


def _reference(patients, split, seed, fractions):
    """The definition, written out: shuffle the sorted unique ids, cut them, keep every image of a chosen id."""
    ids = sorted(set(patients.tolist()))
    order = np.random.default_rng(seed).permutation(len(ids))
    n_train, n_val = int(round(fractions[0] * len(ids))), int(round(fractions[1] * len(ids)))
    cut = {"train": order[:n_train], "val": order[n_train:n_train + n_val], "test": order[n_train + n_val:]}[split]
    chosen = {ids[i] for i in cut}
    return np.array([i for i, p in enumerate(patients.tolist()) if p in chosen], dtype=np.int64)


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_patient_split_equals_the_definition(seed, split):
    rng = np.random.default_rng(seed)
    patients = np.array([f"patient{p:05d}" for p in rng.integers(1, 400, 2000)], dtype=object)
    got = patient_split(patients, split, seed, (0.7, 0.2, 0.1))
    np.testing.assert_array_equal(got, _reference(patients, split, seed, (0.7, 0.2, 0.1)))


def test_patient_split_at_chexpert_scale_is_fast_and_partitions_the_images():
    # 90,839 images of ~40,000 patients, as INFORMER's selection of train.csv: the object-array np.isin took
    # minutes here; a sort-based split takes well under a second on a busy 2-core machine.
    rng = np.random.default_rng(0)
    patients = np.array([f"patient{p:05d}" for p in rng.integers(1, 40_000, 90_839)], dtype=object)
    t0 = time.perf_counter()
    parts = [patient_split(patients, s, 0, (0.7, 0.2, 0.1)) for s in ("train", "val", "test")]
    assert time.perf_counter() - t0 < 5.0
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(len(patients)))
    assert not set(patients[parts[0]]) & set(patients[parts[1]])
