"""Loaders of the folder-based real datasets (COVID-QU-Ex, QaTa-COV19, Brain Tumor MRI, IQ-OTH/NCCD)
on tiny trees built in temporary folders: counts, label mapping, mask pairing by name, splits,
and an actionable error for every failure mode."""
import shutil

import numpy as np
import pytest
import torch
from _loader_trees import BRAIN, COVIDQU, brain_tree, corrupt, covidqu_tree, iqoth_tree, qata_tree

import xaikit.data as xd

pytestmark = [pytest.mark.filterwarnings("ignore::xaikit.data.DatasetCountWarning"),
              pytest.mark.filterwarnings("ignore:.*as published:xaikit.data.DataWarning")]
SIZE = 8


def _ids_match_masks(s: xd.ImageSet, ids: dict) -> None:
    """Image with id k has grey 10k and a mask of exactly k + 1 pixels (see _loader_trees)."""
    for i in range(len(s)):
        k = int(round(s.images[i, 0].mean() * 255 / 10))
        assert s.masks[i].sum() == k + 1, s.meta.loc[i, "file"]


# ----------------------------------------------------------------------------- COVID-QU-Ex
def test_covidqu_official_split_counts_labels_and_mask_pairing(tmp_path):
    ids = covidqu_tree(tmp_path)
    ds = xd.covid_qu_ex(tmp_path, "train", split_mode="official")
    assert isinstance(ds, xd.RealDataset) and len(ds) == 6 + 4  # COVID-19 + Normal, nothing decoded yet
    assert ds.class_names == xd.chest_covid(2, image_size=32).class_names == ("healthy", "covid")
    assert (ds.index.loc[ds.index.folder_class == "Normal", "label"] == 0).all()
    assert (ds.index.loc[ds.index.folder_class == "COVID-19", "label"] == 1).all()
    s = ds.to_imageset(SIZE)
    assert s.images.shape == (10, 1, SIZE, SIZE) and s.images.dtype == np.float32
    assert s.masks.shape == (10, 1, SIZE, SIZE) and s.masks.dtype == bool and s.organ_masks.dtype == bool
    _ids_match_masks(s, ids)
    # paper 003: infection masks for COVID-19, lung masks for Normal
    src = s.meta.set_index("folder_class")["mask_source"]
    assert set(src["COVID-19"]) == {"infection"} and set(src["Normal"]) == {"lung"}
    assert s.params["has_masks"] and s.meta["has_mask"].all()


def test_covidqu_paper003_split_is_seeded_stratified_and_disjoint(tmp_path):
    covidqu_tree(tmp_path)
    parts = {s: xd.covid_qu_ex(tmp_path, s, seed=3) for s in ("train", "val", "test")}
    n_covid, n_normal = (sum(c[k] for c in COVIDQU.values()) for k in ("COVID-19", "Normal"))
    expect = {"train": round(0.7 * n_covid) + round(0.7 * n_normal),
              "val": round(0.2 * n_covid) + round(0.2 * n_normal)}
    assert len(parts["train"]) == expect["train"] and len(parts["val"]) == expect["val"]
    files = [set(p.index.file) for p in parts.values()]
    assert sum(map(len, files)) == n_covid + n_normal == len(set.union(*files))
    again = xd.covid_qu_ex(tmp_path, "train", seed=3)
    assert list(again.index.file) == list(parts["train"].index.file)
    assert list(xd.covid_qu_ex(tmp_path, "train", seed=4).index.file) != list(again.index.file)


def test_covidqu_all_classes_infection_masks_and_missing_infection_folder(tmp_path):
    covidqu_tree(tmp_path)  # Normal / Non-COVID have no 'infection masks' folder
    ds = xd.covid_qu_ex(tmp_path, "test", classes="all", masks="infection", split_mode="official")
    assert ds.class_names == ("healthy", "covid", "non_covid")
    assert sorted(ds.index.label) == [0, 1, 1, 2]
    s = ds.to_imageset(SIZE)
    healthy = s.labels != 1
    assert not s.masks[healthy].any() and not s.meta.has_mask[healthy].any() and s.masks[~healthy].any()


def test_covidqu_accepts_other_unpackings(tmp_path):
    covidqu_tree(tmp_path, nested=("Infection Segmentation Data",))
    (tmp_path / "Infection Segmentation Data" / "Val" / "Normal" / "lung masks").rename(
        tmp_path / "Infection Segmentation Data" / "Val" / "Normal" / "Lung_Masks")
    assert len(xd.covid_qu_ex(tmp_path, "val", split_mode="official")) == 4
    assert len(xd.covid_qu_ex(tmp_path / "Infection Segmentation Data", "val", split_mode="official")) == 4


def test_covidqu_image_without_mask(tmp_path):
    covidqu_tree(tmp_path)
    base = tmp_path / "Infection Segmentation Data" / "Infection Segmentation Data" / "Test" / "COVID-19"
    victim = sorted((base / "infection masks").glob("covid_*.png"))[0]
    victim.unlink()
    with pytest.raises(xd.MissingMaskError, match=rf"{victim.name}.*infection masks.*on_error='skip'"):
        xd.covid_qu_ex(tmp_path, "test", split_mode="official")
    ds = xd.covid_qu_ex(tmp_path, "test", split_mode="official", on_error="skip")
    assert len(ds) == 2 and victim.name not in set(ds.index.file.str.split("/").str[-1])
    assert any(victim.name in f for f, _ in ds.skipped)


def test_covidqu_missing_folder_names_it_and_lists_what_is_there(tmp_path):
    covidqu_tree(tmp_path)
    base = tmp_path / "Infection Segmentation Data" / "Infection Segmentation Data"
    shutil.rmtree(base / "Val")
    with pytest.raises(xd.LayoutError, match=r"expected folder 'Infection Segmentation Data/.*Val'.*contains: "
                                             r"Test/, Train/"):
        xd.covid_qu_ex(tmp_path, "all")
    shutil.rmtree(base / "Test" / "Normal" / "lung masks")
    with pytest.raises(xd.LayoutError, match=r"Test/Normal/lung masks.*contains: images/"):
        xd.covid_qu_ex(tmp_path, "test", split_mode="official")


def test_covidqu_root_missing_or_empty_says_where_to_get_it(tmp_path):
    with pytest.raises(xd.DatasetNotFoundError, match=r"does not exist.*anasmohammedtahir/covidqu.*README"):
        xd.covid_qu_ex(tmp_path / "nope")
    (tmp_path / "stuff").mkdir()
    with pytest.raises(xd.DatasetNotFoundError, match=r"looked for Infection Segmentation Data.*contains: stuff/"):
        xd.covid_qu_ex(tmp_path)
    with pytest.raises(xd.DatasetNotFoundError, match=r"needs data_root.*anasmohammedtahir/covidqu"):
        xd.load("covid-qu-ex", "test")


def test_count_mismatch_warns_with_expected_and_found(tmp_path, monkeypatch):
    covidqu_tree(tmp_path)
    with pytest.warns(xd.DatasetCountWarning, match=r"Train/COVID-19: expected 1864, found 6"):
        xd.covid_qu_ex(tmp_path, "train", split_mode="official")
    tiny = {f"{s}/{c}": n for s, cs in COVIDQU.items() for c, n in cs.items()}
    monkeypatch.setitem(xd.COVIDQU_COUNTS, "infection", tiny)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", xd.DatasetCountWarning)
        xd.covid_qu_ex(tmp_path, "all", classes="all")


# ----------------------------------------------------------------------------- QaTa-COV19
def test_qata_v2_pairs_mask_prefix_and_official_split(tmp_path):
    ids = qata_tree(tmp_path, "v2", n_train=10, n_test=3)
    parts = {s: xd.qata_cov19(tmp_path, s) for s in ("train", "val", "test")}
    assert [len(p) for p in parts.values()] == [8, 2, 3]
    assert set(parts["test"].index.official_split) == {"Test Set"}
    assert not set(parts["train"].index.file) & set(parts["val"].index.file)
    s = parts["train"].to_imageset(SIZE)
    assert (s.labels == 1).all() and s.class_names == ("healthy", "covid")
    _ids_match_masks(s, ids)


def test_qata_v1_and_missing_mask(tmp_path):
    qata_tree(tmp_path, "v1", n_train=7, n_test=3)
    ds = xd.qata_cov19(tmp_path)
    assert ds.params["version"] == "v1" and len(ds) == 10
    assert len(xd.qata_cov19(tmp_path, "train")) == 7
    (tmp_path / "QaTa-COV19" / "QaTa-COV19-v1" / "Ground-truths" / "mask_covid_4.png").unlink()
    with pytest.raises(xd.MissingMaskError, match=r"covid_4\.png.*mask_covid_4\.png"):
        xd.qata_cov19(tmp_path)
    with pytest.raises(ValueError, match="split_mode"):
        xd.qata_cov19(tmp_path, split_mode="official", on_error="skip")


# ----------------------------------------------------------------------------- Brain Tumor MRI
def test_brain_counts_labels_and_paper_split(tmp_path):
    brain_tree(tmp_path)
    ds = xd.brain_tumor_mri(tmp_path)
    assert len(ds) == sum(sum(c.values()) for c in BRAIN.values())
    assert ds.class_names == xd.brain_mri(2, image_size=32).class_names
    by_folder = ds.index.groupby("class_folder")["label"].unique()
    assert by_folder["notumor"].tolist() == [ds.class_names.index("no_tumour")]
    train, val, test = (xd.brain_tumor_mri(tmp_path, s, val_fraction=0.25) for s in ("train", "val", "test"))
    assert len(test) == sum(BRAIN["Testing"].values()) and set(test.index.official_split) == {"Testing"}
    assert len(val) == sum(round(0.25 * n) for n in BRAIN["Training"].values())
    assert len(train) + len(val) == sum(BRAIN["Training"].values())
    s = test.to_imageset(SIZE)  # JPEGs of varying native size, resized
    assert s.images.shape == (len(test), 1, SIZE, SIZE) and not s.masks.any() and s.organ_masks is None
    assert s.params["has_masks"] is False and not s.meta.has_mask.any()
    assert (s.meta.orig_width >= 8).all()


def test_corrupt_image_names_the_file_or_is_skipped_and_reported(tmp_path):
    brain_tree(tmp_path)
    bad = corrupt(tmp_path / "Testing" / "glioma" / "Te-gl_9999.jpg")
    ds = xd.brain_tumor_mri(tmp_path, "test")
    with pytest.raises(xd.CorruptImageError, match=r"Te-gl_9999\.jpg.*on_error='skip'"):
        ds.to_imageset(SIZE)
    with pytest.warns(xd.DataWarning, match="skipped 1 unreadable"):
        s = ds.to_imageset(SIZE, on_error="skip")
    assert len(s) == len(ds) - 1 and any(bad.name in r for r in s.params["skipped"])
    with pytest.raises(xd.CorruptImageError, match=bad.name):
        ds[int(np.flatnonzero(ds.index.file.str.endswith(bad.name))[0])]
    assert len(ds.verify(on_error="skip")) == len(ds) - 1


def test_lazy_items_match_phantom_dataset_structure(tmp_path):
    brain_tree(tmp_path)
    ds = xd.load("brain-tumor-mri", "test", data_root=tmp_path, image_size=16, lazy=True)
    x, y, m = ds[0]
    px, py, pm = xd.PhantomDataset(xd.brain_mri(2, image_size=32))[0]
    assert (x.dtype, y.dtype, m.dtype) == (px.dtype, py.dtype, pm.dtype)
    assert x.shape == (1, 16, 16) and m.shape == (1, 16, 16)
    xb, yb, mb = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert xb.shape == (4, 1, 16, 16) and yb.shape == (4,)


# ----------------------------------------------------------------------------- IQ-OTH/NCCD
@pytest.mark.parametrize("benign", ["Bengin cases", "Benign cases"])
def test_iqoth_accepts_both_spellings(tmp_path, benign):
    iqoth_tree(tmp_path, benign, counts=(3, 2, 4))
    ds = xd.iq_oth_nccd(tmp_path)
    assert ds.class_names == xd.lung_ct(2, image_size=32).class_names == ("normal", "benign", "malignant")
    assert np.bincount(ds.labels).tolist() == [3, 2, 4]
    s = xd.load("iq-oth-nccd", data_root=tmp_path, image_size=SIZE, channels=3)
    assert s.images.shape == (9, 3, SIZE, SIZE) and s.masks.shape == (9, 1, SIZE, SIZE)


def test_iqoth_missing_class_folder(tmp_path):
    iqoth_tree(tmp_path)
    base = tmp_path / "The IQ-OTHNCCD lung cancer dataset" / "The IQ-OTHNCCD lung cancer dataset"
    shutil.rmtree(base / "Malignant cases")
    with pytest.raises(xd.LayoutError, match=r"Malignant cases.*contains: Bengin cases/, IQ-OTH_NCCD lung cancer "
                                             r"dataset.txt, Normal cases/"):
        xd.iq_oth_nccd(tmp_path)
