"""Tiny fake dataset trees for the loader tests: a few 8x8 images each, written with Pillow.

Every image encodes an id in its grey level (``10 * id``) and its mask has exactly ``id + 1``
foreground pixels, so a test can tell whether an image got *its* mask (pairing by name).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SIZE = 8


def image(path: Path, ident: int, fmt: str | None = None, size: int = SIZE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size, size), min(255, 10 * ident), np.uint8)).save(path, format=fmt)
    return path


def mask(path: Path, ident: int, size: int = SIZE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    m = np.zeros(size * size, np.uint8)
    m[: ident + 1] = 255
    Image.fromarray(m.reshape(size, size)).save(path)
    return path


def corrupt(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n not really an image")
    return path


COVIDQU = {"Train": {"COVID-19": 6, "Normal": 4, "Non-COVID": 2},
           "Val": {"COVID-19": 2, "Normal": 2, "Non-COVID": 1},
           "Test": {"COVID-19": 2, "Normal": 1, "Non-COVID": 1}}
PREFIX = {"COVID-19": "covid_{}.png", "Normal": "Normal ({}).png", "Non-COVID": "non_COVID ({}).png"}


def covidqu_tree(root: Path, *, nested: tuple[str, ...] = ("Infection Segmentation Data",) * 2,
                 normal_infection: bool = False) -> dict[str, int]:
    """COVID-QU-Ex infection part; returns {file name: id}. Normal/Non-COVID infection masks only if asked."""
    base = root.joinpath(*nested)
    ids, k = {}, 0
    for split, classes in COVIDQU.items():
        for cls, n in classes.items():
            d = base / split / cls
            for _j in range(n):
                name = PREFIX[cls].format(k + 1)
                image(d / "images" / name, k)
                mask(d / "lung masks" / name, k)
                if cls == "COVID-19" or normal_infection:
                    mask(d / "infection masks" / name, k)
                ids[name] = k
                k += 1
            (d / "lung masks").mkdir(parents=True, exist_ok=True)
            mask(d / "lung masks" / "0_extra_mask.png", 20)  # sorts first: pairing by order would shift
    return ids


def qata_tree(root: Path, version: str = "v2", n_train: int = 10, n_test: int = 3) -> dict[str, int]:
    ids, k = {}, 0
    base = root / "QaTa-COV19" / f"QaTa-COV19-{version}"
    folders = {"Train Set": n_train, "Test Set": n_test} if version == "v2" else {"": n_train + n_test}
    for folder, n in folders.items():
        for _j in range(n):
            name = f"covid_{k + 1}.png"
            image(base / folder / "Images" / name, k)
            mask(base / folder / "Ground-truths" / f"mask_{name}", k)
            ids[name] = k
            k += 1
    return ids


BRAIN = {"Training": {"glioma": 4, "meningioma": 3, "notumor": 5, "pituitary": 4},
         "Testing": {"glioma": 2, "meningioma": 2, "notumor": 2, "pituitary": 1}}


def brain_tree(root: Path) -> None:
    k = 0
    for split, classes in BRAIN.items():
        for cls, n in classes.items():
            for j in range(n):
                image(root / split / cls / f"{split[:2]}-{cls[:2]}_{j:04d}.jpg", k, "JPEG", size=8 + j)
                k += 1


def iqoth_tree(root: Path, benign: str = "Bengin cases", counts=(3, 2, 4)) -> None:
    base = root / "The IQ-OTHNCCD lung cancer dataset" / "The IQ-OTHNCCD lung cancer dataset"
    for folder, stem, n in zip(("Normal cases", benign, "Malignant cases"), ("Normal case", "Bengin case",
                                                                             "Malignant case"), counts, strict=True):
        for j in range(n):
            image(base / folder / f"{stem} ({j + 1}).jpg", j, "JPEG")
    (base / "IQ-OTH_NCCD lung cancer dataset.txt").write_text("readme")


LABELS = ("No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion", "Edema",
          "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion", "Pleural Other",
          "Fracture", "Support Devices")


def chexpert_rows(n_patients: int = 12, seed: int = 0) -> list[dict]:
    """Rows of a fake train.csv: 1-2 studies per patient, a frontal and sometimes a lateral view."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(1, n_patients + 1):
        for s in range(1, int(rng.integers(1, 3)) + 1):
            for v, view in enumerate(("frontal", "lateral")[: int(rng.integers(1, 3))], start=1):
                row = {"Path": f"CheXpert-v1.0-small/train/patient{p:05d}/study{s}/view{v}_{view}.jpg",
                       "Sex": "Female", "Age": 50, "Frontal/Lateral": view.capitalize(),
                       "AP/PA": ("AP" if p % 3 else "PA") if view == "frontal" else ""}
                for c in LABELS:
                    row[c] = rng.choice(["", "1.0", "0.0", "-1.0"], p=[0.5, 0.25, 0.15, 0.1])
                row["No Finding"] = ""
                rows.append(row)
    return rows


def chexpert_tree(root: Path, rows: list[dict], *, folder: str = "CheXpert-v1.0-small", csv: str = "train.csv",
                  images: bool = True) -> Path:
    import pandas as pd

    base = root / folder
    base.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["Path", "Sex", "Age", "Frontal/Lateral", "AP/PA", *LABELS]).to_csv(base / csv,
                                                                                                   index=False)
    if images:
        for r in rows:
            image(base / r["Path"].split("/", 1)[1], 1, "JPEG")
    return base
