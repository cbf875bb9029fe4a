"""CheXpert (CSV labels, views, uncertainty policy, patient-level splits), MedMNIST (.npz), and the
``load(name, split, data_root=...)`` entry point, on tiny generated files."""
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _loader_trees import LABELS, chexpert_rows, chexpert_tree, image

import xaikit.data as xd

pytestmark = [pytest.mark.filterwarnings("ignore::xaikit.data.DatasetCountWarning"),
              pytest.mark.filterwarnings("ignore:.*as published:xaikit.data.DataWarning")]
FIVE = ("cardiomegaly", "pleural_effusion", "edema", "consolidation", "atelectasis")
COL = {"cardiomegaly": "Cardiomegaly", "pleural_effusion": "Pleural Effusion", "edema": "Edema",
       "consolidation": "Consolidation", "atelectasis": "Atelectasis"}


def _naive(rows, uncertainty, views=("Frontal",), require_positive=True):
    """The CheXpert selection written out row by row (No Finding is blank in these rows)."""
    out = []
    for r in rows:
        if r["Frontal/Lateral"] not in views:
            continue
        y = [float(r[COL[f]]) if r[COL[f]] != "" else 0.0 for f in FIVE]
        if uncertainty == "ignore" and -1.0 in y:
            continue
        y = [(1.0 if uncertainty == "ones" else 0.0) if v == -1.0 else v for v in y]
        if require_positive and 1.0 not in y:
            continue
        out.append((r["Path"].split("/", 1)[1], tuple(int(v) for v in y)))
    return out


@pytest.fixture
def chex(tmp_path):
    rows = chexpert_rows(14)
    chexpert_tree(tmp_path, rows)
    return tmp_path, rows


@pytest.mark.parametrize("uncertainty", ["ones", "zeros", "ignore"])
def test_chexpert_uncertainty_policy_views_and_labels(chex, uncertainty):
    root, rows = chex
    ds = xd.chexpert(root, uncertainty=uncertainty)
    assert ds.multilabel and ds.class_names == xd.FINDINGS == FIVE
    got = list(zip(ds.index.file, map(tuple, ds.labels.tolist()), strict=True))
    assert got == _naive(rows, uncertainty)
    assert (ds.index.frontal_lateral == "Frontal").all()
    s = ds.to_imageset(8)
    assert s.labels.shape == (len(ds), 5) and s.masks.shape == (len(ds), 5, 8, 8) and not s.masks.any()


def test_chexpert_views_all_findings_and_keep_negatives(chex):
    root, rows = chex
    lat = xd.chexpert(root, views=("lateral",), uncertainty="zeros", require_positive=False)
    assert len(lat) == sum(r["Frontal/Lateral"] == "Lateral" for r in rows)
    pa = xd.chexpert(root, views=("PA",), uncertainty="zeros", require_positive=False)
    assert len(pa) == sum(r["AP/PA"] == "PA" for r in rows) and (pa.index.ap_pa == "PA").all()
    every = xd.chexpert(root, findings="all", uncertainty="zeros", require_positive=False, views=("frontal", "lateral"))
    assert len(every) == len(rows) and len(every.class_names) == 14 and every.class_names[0] == "no_finding"


def test_chexpert_no_finding_rule(tmp_path):
    row = {"Path": "CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg", "Sex": "Male", "Age": 40,
           "Frontal/Lateral": "Frontal", "AP/PA": "AP", **{c: "" for c in LABELS}}
    row.update({"No Finding": "1.0", "Edema": "-1.0", "Support Devices": "1.0"})
    chexpert_tree(tmp_path, [row])
    kw = dict(findings="all", uncertainty="ones", require_positive=False)
    on, off = xd.chexpert(tmp_path, **kw), xd.chexpert(tmp_path, no_finding_rule=False, **kw)
    assert on.index.at[0, "edema"] == 0 and off.index.at[0, "edema"] == 1
    assert on.index.at[0, "support_devices"] == 1 == on.index.at[0, "no_finding"]


def test_chexpert_patient_split_is_disjoint_complete_and_seeded(chex):
    root, _ = chex
    kw = dict(uncertainty="zeros", require_positive=False, views=("frontal", "lateral"))
    parts = {s: xd.chexpert(root, s, seed=1, **kw) for s in ("train", "val", "test")}
    patients = [set(p.index.patient_id) for p in parts.values()]
    assert all(not (a & b) for i, a in enumerate(patients) for b in patients[i + 1:])
    assert sum(len(p) for p in parts.values()) == len(xd.chexpert(root, **kw))
    assert len(patients[0]) == round(0.7 * 14) and len(patients[1]) == round(0.2 * 14)
    assert list(xd.chexpert(root, "train", seed=1, **kw).index.file) == list(parts["train"].index.file)
    assert set(xd.chexpert(root, "train", seed=2, **kw).index.patient_id) != patients[0]


def test_chexpert_path_prefix_of_the_other_version(tmp_path):
    rows = chexpert_rows(4)
    chexpert_tree(tmp_path, rows, folder="CheXpert-v1.0")  # CSV says CheXpert-v1.0-small/...
    ds = xd.chexpert(tmp_path, uncertainty="zeros", require_positive=False)
    assert ds.params["version"] == "CheXpert-v1.0" and ds.index.file.str.startswith("train/patient").all()


def test_chexpert_bad_label_values_name_column_and_values(tmp_path):
    rows = chexpert_rows(3)
    rows[0]["Edema"], rows[1]["Fracture"] = "2.0", "yes"
    chexpert_tree(tmp_path, rows, images=False)
    with pytest.raises(xd.LabelValueError, match=r"column 'Edema': 2\.0.*column 'Fracture': 'yes'"):
        xd.chexpert(tmp_path)


def test_chexpert_missing_column_csv_and_images(tmp_path):
    rows = chexpert_rows(4)
    base = chexpert_tree(tmp_path, rows)
    kw = dict(uncertainty="zeros", require_positive=False)
    with pytest.raises(xd.LayoutError, match=r"'test\.csv'.*split_mode='patient'"):
        xd.chexpert(tmp_path, "test", split_mode="official", **kw)
    gone = base / rows[0]["Path"].split("/", 1)[1]
    gone.unlink()
    with pytest.raises(xd.LayoutError, match=rf"1 of \d+ .*{re.escape(rows[0]['Path'].split('/', 1)[1])}"):
        xd.chexpert(tmp_path, views=("frontal", "lateral"), **kw)
    ds = xd.chexpert(tmp_path, views=("frontal", "lateral"), on_error="skip", **kw)
    assert len(ds) == len(rows) - 1 and ds.skipped[0][1] == "listed in the CSV but missing on disk"
    pd.read_csv(base / "train.csv").drop(columns=["Edema"]).to_csv(base / "train.csv", index=False)
    with pytest.raises(ValueError, match=r"lacks the column\(s\) 'Edema'"):
        xd.chexpert(tmp_path, **kw)
    with pytest.raises(xd.DatasetNotFoundError, match=r"CheXpert-v1.0-small/train\.csv.*Stanford"):
        xd.chexpert(tmp_path / "CheXpert-v1.0-small" / "train")


def test_chexpert_official_valid_csv(tmp_path):
    rows = chexpert_rows(4)
    chexpert_tree(tmp_path, rows)
    valid = [{**r, "Path": r["Path"].replace("/train/", "/valid/")} for r in chexpert_rows(3, seed=5)]
    for r in valid:
        for c in LABELS:
            r[c] = "1.0" if r[c] == "1.0" else "0.0"
    chexpert_tree(tmp_path, valid, csv="valid.csv")
    ds = xd.chexpert(tmp_path, "val", split_mode="official", uncertainty="zeros", require_positive=False)
    assert (ds.index.source_csv == "valid.csv").all() and ds.index.file.str.startswith("valid/").all()


# ----------------------------------------------------------------------------- MedMNIST
def _npz(path: Path, n=(5, 2, 3), multilabel=False, rgb=False, size=28):
    rng = np.random.default_rng(0)
    arrays = {}
    for s, k in zip(("train", "val", "test"), n, strict=True):
        shape = (k, size, size, 3) if rgb else (k, size, size)
        arrays[f"{s}_images"] = rng.integers(0, 256, shape, dtype=np.uint8)
        arrays[f"{s}_labels"] = rng.integers(0, 2, (k, 14 if multilabel else 1), dtype=np.uint8)
    np.savez(path, **arrays)
    return arrays


def test_medmnist_single_and_multilabel(tmp_path):
    arrays = _npz(tmp_path / "pneumoniamnist.npz")
    with pytest.warns(xd.DatasetCountWarning, match=r"train: expected 4708, found 5"):
        ds = xd.medmnist(tmp_path, "train", flag="pneumoniamnist")
    assert ds.class_names == ("normal", "pneumonia") and ds.labels.tolist() == arrays["train_labels"][:, 0].tolist()
    s = ds.to_imageset()
    np.testing.assert_allclose(s.images[:, 0], arrays["train_images"] / 255.0, atol=1e-6)
    _npz(tmp_path / "chestmnist_64.npz", multilabel=True, size=64)
    every = xd.load("medmnist", data_root=tmp_path, flag="chestmnist", size=64, image_size=32)
    assert every.multilabel and every.labels.shape == (10, 14) and every.images.shape == (10, 1, 32, 32)


def test_medmnist_split_size_check_passes_on_published_sizes(tmp_path, monkeypatch):
    _npz(tmp_path / "dermamnist.npz", rgb=True)
    info = xd.MEDMNIST_INFO["dermamnist"]
    monkeypatch.setitem(xd.MEDMNIST_INFO, "dermamnist", (info[0], info[1], (5, 2, 3), info[3]))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", xd.DatasetCountWarning)
        ds = xd.medmnist(tmp_path, flag="dermamnist")
    assert ds.channels == 3 and ds.to_imageset(16).images.shape == (10, 3, 16, 16)


def test_medmnist_errors(tmp_path):
    _npz(tmp_path / "breastmnist.npz")
    with pytest.raises(xd.LayoutError, match=r"'pneumoniamnist\.npz'.*contains: breastmnist\.npz"):
        xd.medmnist(tmp_path, flag="pneumoniamnist")
    arrays = dict(np.load(tmp_path / "breastmnist.npz"))
    arrays["test_labels"][0] = 7
    np.savez(tmp_path / "breastmnist.npz", **arrays)
    with pytest.raises(xd.LabelValueError, match=r"test_labels.*values \[7\]"):
        xd.medmnist(tmp_path, "test", flag="breastmnist")
    (tmp_path / "octmnist.npz").write_bytes(b"garbage")
    with pytest.raises(xd.CorruptImageError, match="octmnist.npz"):
        xd.medmnist(tmp_path, flag="octmnist")
    with pytest.raises(ValueError, match="Did you mean 'chestmnist'"):
        xd.medmnist(tmp_path, flag="chestmnst")


# ----------------------------------------------------------------------------- load() and the README
def test_load_selects_real_loader_and_samples_deterministically(tmp_path):
    for k, cls in enumerate(("Normal cases", "Bengin cases", "Malignant cases")):
        for j in range(6):
            image(tmp_path / cls / f"{cls[:-1]} ({j + 1}).jpg", 3 * k + j % 3, "JPEG")
    a = xd.load("iq-oth-nccd", "all", data_root=tmp_path, image_size=16, n=9, seed=5)
    b = xd.load("iq-oth-nccd", "all", data_root=tmp_path, image_size=16, n=9, seed=5)
    assert isinstance(a, xd.ImageSet) and a.name == "iq-oth-nccd" and len(a) == 9
    assert np.bincount(a.labels).tolist() == [3, 3, 3] and a.fingerprint() == b.fingerprint()
    assert a.meta.columns[:2].tolist() == ["label", "class_name"]
    train = xd.load("iq-oth-nccd", "train", data_root=tmp_path, image_size=16)
    assert len(train) == 3 * round(0.7 * 6)
    assert len(xd.load("iq-oth-nccd", "train", data_root=tmp_path, image_size=16, n=9)) == round(9 * 12 / 18)


def test_load_argument_errors(tmp_path):
    with pytest.raises(ValueError, match=r"'uncertainy' is not an option of chexpert.*Did you mean 'uncertainty'"):
        xd.load("chexpert", data_root=tmp_path, uncertainy="ones")
    with pytest.raises(ValueError, match=r"'chest_covid' is a phantom.*'covid-qu-ex'"):
        xd.load("chest_covid", data_root=tmp_path)
    with pytest.raises(ValueError, match="Did you mean 'covid-qu-ex'"):
        xd.load("covid-qu-x", data_root=tmp_path)
    with pytest.raises(xd.DatasetNotFoundError, match="masoudnickparvar/brain-tumor-mri-dataset"):
        xd.load("brain-tumor-mri", "test")
    assert len(xd.load("chest_covid", n=10, image_size=32)) == 10  # phantoms unchanged


def test_readme_documents_every_real_dataset_without_urls():
    text = (Path(__file__).parents[2] / "data" / "README.md").read_text()
    assert "://" not in text
    for name, src in xd.SOURCES.items():
        slug = re.search(r"[\w-]+/[\w-]+", src.source)
        assert name in text and src.title in text and (slug is None or slug.group() in text), name
    assert set(xd.SOURCES) == set(xd.REAL_DATASETS)
