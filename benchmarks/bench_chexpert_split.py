"""CheXpert at real scale (issue 19 item 9). Prints, on this machine, for a generated train.csv of
223,414 rows (64,540 patients; frontal and lateral views; labels 1/0/-1/blank):

1. the time to index the whole CSV (``chexpert(root, "all")``: read, validate, select);
2. the time to index one patient-level split (``chexpert(root, "train")``), and the split alone;
3. with ``--old``, the former ``np.isin`` split on object arrays (minutes: O(images x patients)).

No image is written (``check_files=False``). Usage:
python benchmarks/bench_chexpert_split.py [--rows 223414] [--patients 64540] [--old]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from xaikit.data import chexpert
from xaikit.data._chexpert import CHEXPERT_LABELS
from xaikit.data._splits import patient_split


def write_csv(folder: Path, rows: int, patients: int, seed: int = 0) -> None:
    """A train.csv shaped like CheXpert's: patients with studies, each study a frontal and maybe a lateral view."""
    rng = np.random.default_rng(seed)
    patient = np.sort(rng.integers(1, patients + 1, rows))
    patient[:patients] = np.arange(1, patients + 1)  # every patient appears
    patient.sort()
    study = 1 + rng.integers(0, 3, rows)
    lateral = rng.random(rows) < 0.17
    view = np.where(lateral, 2, 1)
    kind = np.where(lateral, "lateral", "frontal")
    path = [f"CheXpert-v1.0-small/train/patient{p:05d}/study{s}/view{v}_{k}.jpg"
            for p, s, v, k in zip(patient, study, view, kind, strict=True)]
    frame = pd.DataFrame({"Path": path, "Sex": rng.choice(["Female", "Male"], rows), "Age": rng.integers(18, 90, rows),
                          "Frontal/Lateral": np.where(lateral, "Lateral", "Frontal"),
                          "AP/PA": np.where(lateral, "", rng.choice(["AP", "PA"], rows))})
    for c in CHEXPERT_LABELS:
        frame[c] = rng.choice([np.nan, 1.0, 0.0, -1.0], rows, p=[0.6, 0.2, 0.12, 0.08])
    frame.to_csv(folder / "train.csv", index=False)


def old_patient_split(patients, split, seed, fractions):
    """The former implementation (np.isin on object arrays), for the before/after comparison."""
    ids = np.unique(np.asarray(patients))
    order = np.random.default_rng(seed).permutation(len(ids))
    n_train = int(round(fractions[0] * len(ids)))
    n_val = int(round(fractions[1] * len(ids)))
    cut = {"train": order[:n_train], "val": order[n_train:n_train + n_val], "test": order[n_train + n_val:]}
    return np.flatnonzero(np.isin(patients, ids[cut[split]]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=223_414)
    parser.add_argument("--patients", type=int, default=64_540)
    parser.add_argument("--old", action="store_true", help="also time the former np.isin split (minutes)")
    args = parser.parse_args()
    import warnings

    warnings.simplefilter("ignore")  # count warnings: a generated CSV is not the published one
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "CheXpert-v1.0-small"
        folder.mkdir()
        write_csv(folder, args.rows, args.patients)
        t0 = time.perf_counter()
        every = chexpert(d, "all", check_files=False)
        t_all = time.perf_counter() - t0
        t0 = time.perf_counter()
        train = chexpert(d, "train", check_files=False)
        t_train = time.perf_counter() - t0
        patients = every.index["patient_id"].to_numpy()
        t0 = time.perf_counter()
        new = patient_split(patients, "train", 0, (0.7, 0.2, 0.1))
        t_split = time.perf_counter() - t0
        print(f"rows {args.rows:,}, selected images {len(every):,}, patients {len(set(patients)):,}, "
              f"train split {len(train):,} images")
        print(f"index, whole CSV ('all'):        {t_all:8.2f} s")
        print(f"index + patient split ('train'): {t_train:8.2f} s  ({t_train / t_all:.2f}x the whole index)")
        print(f"patient split alone (new):       {t_split:8.3f} s")
        if args.old:
            t0 = time.perf_counter()
            old = old_patient_split(patients, "train", 0, (0.7, 0.2, 0.1))
            t_old = time.perf_counter() - t0
            assert np.array_equal(old, new), "the vectorised split must give the same images"
            print(f"patient split alone (old isin):  {t_old:8.2f} s  ({t_old / t_split:.0f}x the new one)")


if __name__ == "__main__":
    main()
