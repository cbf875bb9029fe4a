"""Issue 19 items 6-8: loaders refuse what they cannot read right, and name the files and folders."""
import os
import warnings

import numpy as np
import pytest
from _loader_trees import SIZE, brain_tree, covidqu_tree, iqoth_tree, qata_tree
from PIL import Image

import xaikit.data as xd

BASE = ("Infection Segmentation Data",) * 2


# --------------------------------------------------------------------------- item 6
@pytest.mark.parametrize("mask_size", [SIZE // 2, SIZE * 2, (SIZE, SIZE + 3)])
@pytest.mark.parametrize("which", ["infection", "lung"])
@pytest.mark.parametrize("image_size", [None, 16])
def test_a_mask_of_another_size_is_refused_naming_both_files_and_sizes(tmp_path, mask_size, which, image_size):
    covidqu_tree(tmp_path)
    ds = xd.covid_qu_ex(tmp_path, "test", split_mode="official", masks=which)
    i = int(np.flatnonzero(ds.index.mask_file.notna())[0])
    bad = ds.root / ds.index.at[i, "mask_file"]
    w, h = (mask_size, mask_size) if isinstance(mask_size, int) else mask_size
    Image.fromarray(np.full((h, w), 255, np.uint8)).save(bad)
    with pytest.raises(xd.CorruptImageError) as info:
        ds.subset([i]).to_imageset(image_size or SIZE)
    msg = str(info.value)
    assert bad.name in msg and os.path.basename(ds.index.at[i, "file"]) in msg
    assert f"{w}x{h}" in msg and f"{SIZE}x{SIZE}" in msg
    with pytest.warns(xd.DataWarning, match="skipped 1"):  # on_error="skip" drops it and reports it
        assert len(ds.to_imageset(image_size or SIZE, on_error="skip")) == len(ds) - 1


def test_masks_of_the_right_size_still_pair_exactly(tmp_path):
    ids = covidqu_tree(tmp_path)
    s = xd.covid_qu_ex(tmp_path, "test", split_mode="official").to_imageset(SIZE)
    for f, m in zip(s.meta.file, s.masks, strict=True):  # the tree's mask k has k + 1 foreground pixels
        assert int(m.sum()) == ids[os.path.basename(f)] + 1


# --------------------------------------------------------------------------- item 7
def _png16(path, values):
    Image.fromarray(np.asarray(values, np.uint16)).save(path)
    return path


def test_16_bit_pngs_are_scaled_by_the_bit_depth_not_the_image_maximum(tmp_path):
    from xaikit.data._files import read_image

    raw = 200
    dim = _png16(tmp_path / "dim.png", np.full((4, 4), raw))
    bright = _png16(tmp_path / "bright.png", np.r_[[[raw] * 4], np.full((3, 4), 60000)])
    a, _ = read_image(dim, None, 1)
    b, _ = read_image(bright, None, 1)
    assert a[0, 0, 0] == pytest.approx(raw / 65535, rel=1e-6) == pytest.approx(b[0, 0, 0], rel=1e-6)
    assert b[0, -1, 0] == pytest.approx(60000 / 65535, rel=1e-6)


def test_medmnist_uint16_arrays_are_scaled_by_the_bit_depth(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {}
    for s, k in zip(("train", "val", "test"), (3, 2, 2), strict=True):
        arrays[f"{s}_images"] = rng.integers(0, 65536, (k, 28, 28), dtype=np.uint16)
        arrays[f"{s}_labels"] = rng.integers(0, 2, (k, 1), dtype=np.uint8)
    np.savez(tmp_path / "pneumoniamnist.npz", **arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", xd.DatasetCountWarning)
        s = xd.medmnist(tmp_path, "train", flag="pneumoniamnist").to_imageset()
    np.testing.assert_allclose(s.images[:, 0], arrays["train_images"] / 65535.0, rtol=1e-6, atol=1e-7)


# --------------------------------------------------------------------------- item 8
def _empty_class_folders(tmp_path, kind):
    if kind == "brain":
        brain_tree(tmp_path)
        for f in (tmp_path / "Testing").rglob("*.jpg"):
            f.unlink()
        return lambda: xd.brain_tumor_mri(tmp_path, "test"), "Testing"
    if kind == "iqoth":
        iqoth_tree(tmp_path)
        for f in tmp_path.rglob("*.jpg"):
            f.unlink()
        return lambda: xd.iq_oth_nccd(tmp_path), "Normal cases"
    if kind == "covidqu":
        covidqu_tree(tmp_path)
        for f in tmp_path.rglob("images/*.png"):
            f.unlink()
        return lambda: xd.covid_qu_ex(tmp_path, "train"), "COVID-19"
    qata_tree(tmp_path)
    for f in tmp_path.rglob("Images/*.png"):
        f.unlink()
    return lambda: xd.qata_cov19(tmp_path, "train"), "Images"


@pytest.mark.parametrize("kind", ["brain", "iqoth", "covidqu", "qata"])
def test_a_right_layout_without_any_image_names_the_folders(tmp_path, kind):
    call, folder = _empty_class_folders(tmp_path, kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", xd.DatasetCountWarning)
        with pytest.raises(xd.LayoutError, match="no folder holds an image file") as info:
            call()
    assert folder in str(info.value) and "concatenate" not in str(info.value)


@pytest.mark.parametrize("link", ["self", "dangling"])
def test_an_unresolvable_symlink_is_named_or_skipped(tmp_path, link):
    brain_tree(tmp_path)
    bad = tmp_path / "Testing" / "glioma" / "Te-gl_loop.jpg"
    os.symlink(bad.name if link == "self" else "missing.jpg", bad)
    ds = xd.brain_tumor_mri(tmp_path, "test")  # listing never raises
    assert bad.name in set(ds.index.file.map(os.path.basename))
    with pytest.raises(xd.CorruptImageError, match=bad.name):
        ds.to_imageset(SIZE)
    with pytest.warns(xd.DataWarning, match="skipped 1"):
        s = ds.to_imageset(SIZE, on_error="skip")
    assert len(s) == len(ds) - 1 and any(bad.name in r for r in s.params["skipped"])
