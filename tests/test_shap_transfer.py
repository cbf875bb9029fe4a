"""Study-3 helpers: paper 004's tables, probability tables, predicted-class distributions, regions, mass fractions."""
import numpy as np
import pandas as pd
import pytest
import torch

from xaikit.studies.shap_transfer import (
    BRAIN_CLASSES,
    LUNG_CLASSES,
    PAPER004_METRICS,
    PAPER004_TABLE1,
    PAPER004_TABLE2,
    PAPER004_XLSX_COUNTS,
    body_mask,
    check_domains,
    distribution_vs_paper,
    image_regions,
    mass_fractions,
    metrics_vs_paper,
    per_class_vs_paper,
    pick_per_class,
    predicted_distribution,
    probability_table,
    shortcut_accuracy,
)
from xaikit.train import evaluate_logits


# --------------------------------------------------------------------------- published numbers
def test_paper_tables_are_consistent():
    for table in (PAPER004_TABLE1, PAPER004_TABLE2):
        p = table[[f"p_{c}" for c in BRAIN_CLASSES]].to_numpy()
        # the four probabilities sum to 1 and the tumour total is 1 - p(no tumour), up to the paper's rounding
        assert np.allclose(p.sum(1), 1.0, atol=2e-6)
        assert np.allclose(table["p_tumour"], 1 - table["p_no_tumour"], atol=2e-6)
        assert (table["predicted"] == np.asarray(BRAIN_CLASSES)[p.argmax(1)]).all()
    assert len(PAPER004_TABLE1) == 15 and (PAPER004_TABLE1["actual"].value_counts() == 5).all()
    assert len(PAPER004_TABLE2) == 10
    # the xlsx counts add up to IQ-OTH/NCCD's 1,097 images: 416 normal, 120 benign, 561 malignant
    per_class = {a: sum(v for (aa, _), v in PAPER004_XLSX_COUNTS.items() if aa == a) for a in LUNG_CLASSES}
    assert per_class == {"normal": 416, "benign": 120, "malignant": 561}
    assert PAPER004_METRICS["test"]["accuracy"] == 0.99


# --------------------------------------------------------------------------- domains
def test_check_domains():
    assert check_domains("brain_mri", "lung_ct", None) == "phantom"
    assert check_domains("brain-tumor-mri", "iq-oth-nccd", "/data") == "real"
    with pytest.raises(ValueError, match="is real but foreign_dataset 'lung_ct' is a phantom"):
        check_domains("brain-tumor-mri", "lung_ct", "/data")
    with pytest.raises(ValueError, match="need data_root"):
        check_domains("brain-tumor-mri", "iq-oth-nccd", None)
    with pytest.raises(ValueError, match="data_root is set"):
        check_domains("brain_mri", "lung_ct", "/data")
    with pytest.raises(ValueError, match="Did you mean 'lung_ct'"):
        check_domains("brain_mri", "lung_cts", None)


# --------------------------------------------------------------------------- probability tables
def _softmax(z):
    z = np.asarray(z, float)
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_probability_table_matches_hand_built_rows():
    probs = np.array([[0.001618, 0.000207, 0.998106, 0.000069],
                      [0.029764, 0.669881, 0.179649, 0.120706],
                      [0.25, 0.25, 0.25, 0.25]])
    t = probability_table(probs, [0, 1, 2], index=[10, 11, 12])
    assert list(t.columns) == ["image", "actual", "p_glioma", "p_meningioma", "p_no_tumour", "p_pituitary",
                               "p_tumour", "predicted"]
    assert t["image"].tolist() == [10, 11, 12]
    assert t["actual"].tolist() == ["normal", "benign", "malignant"]
    assert t["predicted"].tolist() == ["no_tumour", "meningioma", "glioma"]  # a tie goes to the first class
    assert t.loc[1, "p_meningioma"] == 0.669881
    np.testing.assert_allclose(t["p_tumour"], [1 - 0.998106, 1 - 0.179649, 0.75])


def test_probability_table_reproduces_the_paper_rows():
    cols = [f"p_{c}" for c in BRAIN_CLASSES]
    p = PAPER004_TABLE1[cols].to_numpy()
    p = p / p.sum(1, keepdims=True)
    labels = [LUNG_CLASSES.index(a) for a in PAPER004_TABLE1["actual"]]
    t = probability_table(p, labels)
    assert (t["predicted"] == PAPER004_TABLE1["predicted"]).all()
    np.testing.assert_allclose(t["p_tumour"], PAPER004_TABLE1["p_tumour"], atol=3e-6)


def test_probability_table_options_and_errors():
    p = _softmax(np.random.default_rng(0).normal(size=(5, 3)))
    t = probability_table(p, [0, 1, 2, 0, 1], class_names=("a", "b", "c"), label_names=("a", "b", "c"),
                          no_finding=None)
    assert "p_tumour" not in t.columns and np.allclose(t[["p_a", "p_b", "p_c"]].sum(axis=1), 1)
    with pytest.raises(ValueError, match="non-negative rows summing to 1"):
        probability_table(np.array([[0.5, 0.6, 0.0, 0.0]]), [0])
    with pytest.raises(ValueError, match="must be finite"):
        probability_table(np.array([[np.nan, 0.5, 0.5, 0.0]]), [0])
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        probability_table(np.zeros(4), [0])
    with pytest.raises(ValueError, match="class_names has 4 names for 3"):
        probability_table(p, [0] * 5)
    with pytest.raises(ValueError, match=r"must lie in \[0, 2\]"):
        probability_table(_softmax(np.zeros((1, 4))), [3])
    with pytest.raises(ValueError, match="integer class indices"):
        probability_table(_softmax(np.zeros((2, 4))), [0.0, 1.0])
    with pytest.raises(ValueError, match="Did you mean 'no_tumour'"):
        probability_table(_softmax(np.zeros((1, 4))), [0], no_finding="no_tumor")


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


# --------------------------------------------------------------------------- distribution
def test_predicted_distribution_against_a_crosstab():
    rng = np.random.default_rng(3)
    probs = _softmax(rng.normal(size=(200, 4)) * 2)
    labels = rng.integers(0, 3, 200)
    d = predicted_distribution(probs, labels)
    assert len(d) == 3 * 4
    oracle = pd.crosstab(np.asarray(LUNG_CLASSES)[labels], np.asarray(BRAIN_CLASSES)[probs.argmax(1)])
    for _, row in d.iterrows():
        expected = oracle.loc[row["actual"], row["predicted"]] if row["predicted"] in oracle.columns else 0
        assert row["count"] == expected
        assert row["n"] == (labels == LUNG_CLASSES.index(row["actual"])).sum()
        np.testing.assert_allclose(row["mean_prob"],
                                   probs[labels == LUNG_CLASSES.index(row["actual"]),
                                         BRAIN_CLASSES.index(row["predicted"])].mean())
    np.testing.assert_allclose(d.groupby("actual")["share"].sum(), 1.0)


def test_predicted_distribution_empty_class_and_paper_shares():
    d = predicted_distribution(_softmax(np.eye(4)[[2, 1]] * 5), [0, 2])
    benign = d[d["actual"] == "benign"]
    assert (benign["n"] == 0).all() and benign["share"].isna().all()
    v = distribution_vs_paper(d).set_index(["actual", "predicted"])
    assert v.loc[("normal", "no_tumour"), "ours"] == 1.0
    np.testing.assert_allclose(v.loc[("malignant", "meningioma"), "paper_xlsx"], 216 / 561)
    assert v.loc[("malignant", "glioma"), "paper_xlsx"] == 0.0
    assert v.loc[("benign", "meningioma"), "n_paper"] == 120


# --------------------------------------------------------------------------- regions
def test_body_mask_fills_holes_and_drops_a_corner_marker():
    x = np.zeros((1, 1, 32, 32), np.float32)
    yy, xx = np.mgrid[:32, :32]
    ring = ((yy - 16) ** 2 + (xx - 16) ** 2 < 12 ** 2)
    x[0, 0][ring] = 0.8
    x[0, 0][(yy - 16) ** 2 + (xx - 16) ** 2 < 5 ** 2] = 0.02  # dark inside (lungs, ventricles)
    x[0, 0, 1:4, 28:31] = 0.97  # a corner marker, outside the body
    body = body_mask(x, smooth=1)
    assert np.array_equal(body[0, 0], ring)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        body_mask(np.zeros((4, 4)))


def test_image_regions_partition_the_image():
    from xaikit.data import load

    ds = load("lung_ct", "all", n=6, image_size=32, seed=0, shortcut=1.0, shortcut_class="malignant")
    reg = image_regions(ds.images, organ=ds.organ_masks, lesion=ds.masks, shortcut=ds.shortcut_masks)
    assert list(reg) == ["organ", "lesion", "body_not_organ", "outside_body", "shortcut"]
    total = reg["organ"].astype(int) + reg["body_not_organ"] + reg["outside_body"]
    assert (total == 1).all()
    assert not (reg["organ"] & reg["outside_body"]).any()
    assert not (reg["shortcut"] & ~reg["outside_body"]).any()  # the marker sits outside the body
    with pytest.raises(ValueError, match="organ masks must have shape"):
        image_regions(ds.images, organ=ds.organ_masks[:, :, :8])


# --------------------------------------------------------------------------- mass fractions
def _naive_fractions(a, mask, sign):
    """Per-pixel loops: sum of |a| (or a+) inside the mask over the total, NaN for 0/0 or an empty mask."""
    n, c, h, w = a.shape
    out = []
    for i in range(n):
        inside = total = 0.0
        for y in range(h):
            for x in range(w):
                v = sum(a[i, ch, y, x] for ch in range(c))
                v = abs(v) if sign == "absolute" else max(v, 0.0)
                total += v
                if mask[i, 0, y, x]:
                    inside += v
        out.append(inside / total if total > 0 and mask[i].any() else np.nan)
    return np.array(out)


@pytest.mark.parametrize("sign", ["absolute", "positive"])
def test_mass_fractions_equal_a_naive_loop(sign):
    rng = np.random.default_rng(7)
    a = rng.normal(size=(5, 2, 9, 7))
    masks = {"left": rng.random((5, 1, 9, 7)) < 0.3}
    masks["right"] = ~masks["left"]
    masks["left"][4] = False  # an empty region
    f = mass_fractions(a, masks, sign=sign, index=np.arange(5) + 100)
    assert list(f.columns) == ["image", "region", "fraction", "area", "reason"]
    for name, m in masks.items():
        got = f[f["region"] == name].sort_values("image")
        np.testing.assert_allclose(got["fraction"], _naive_fractions(a, m, sign), rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(got["area"], m.reshape(5, -1).mean(1))
    assert f[(f["region"] == "left") & (f["image"] == 104)]["reason"].iloc[0].startswith("empty mask")
    # complementary regions hold all of the mass
    both = f.pivot(index="image", columns="region", values="fraction").loc[100:103]
    np.testing.assert_allclose(both.sum(axis=1), 1.0)


def test_mass_fractions_analytic_cases():
    m = np.zeros((2, 1, 4, 4), bool)
    m[:, 0, 1:3, 1:3] = True
    a = np.zeros((2, 1, 4, 4))
    a[0][m[0]] = 2.0  # all mass in the lesion
    a[1] = -1.0  # uniform negative map: absolute mass spreads with the area, no positive mass
    f = mass_fractions(a, {"lesion": m}).set_index("image")
    assert f.loc[0, "fraction"] == 1.0
    assert f.loc[1, "fraction"] == pytest.approx(4 / 16)
    pos = mass_fractions(a, {"lesion": m}, sign="positive").set_index("image")
    assert pos.loc[0, "fraction"] == 1.0
    assert np.isnan(pos.loc[1, "fraction"]) and pos.loc[1, "reason"].startswith("zero total relevance")
    # torch input and (N, H, W) maps give the same numbers
    t = mass_fractions(torch.from_numpy(a[:, 0]), {"lesion": torch.from_numpy(m)})
    np.testing.assert_array_equal(t["fraction"].to_numpy(), f["fraction"].to_numpy())


def test_mass_fractions_zero_map_and_bad_input():
    m = np.ones((1, 1, 3, 3), bool)
    f = mass_fractions(np.zeros((1, 1, 3, 3)), {"all": m})
    assert np.isnan(f["fraction"].iloc[0]) and "zero total" in f["reason"].iloc[0]
    with pytest.raises(ValueError, match="finite"):
        mass_fractions(np.full((1, 1, 3, 3), np.nan), {"all": m})
    with pytest.raises(ValueError, match="must have shape"):
        mass_fractions(np.zeros((1, 1, 3, 3)), {"all": np.ones((1, 1, 2, 2), bool)})
    with pytest.raises(ValueError, match="binary"):
        mass_fractions(np.ones((1, 1, 3, 3)), {"all": np.full((1, 1, 3, 3), 0.5)})
    with pytest.raises(ValueError, match="Did you mean 'absolute'"):
        mass_fractions(np.ones((1, 1, 3, 3)), {"all": m}, sign="absolut")
    with pytest.raises(ValueError, match="at least one mask"):
        mass_fractions(np.ones((1, 1, 3, 3)), {})
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        mass_fractions(np.ones((3, 3)), {"all": m})


# --------------------------------------------------------------------------- ours vs paper
def test_metrics_vs_paper_reads_the_evaluation_table():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 60)
    logits = rng.normal(size=(60, 4)) + 2 * np.eye(4)[y]
    t = evaluate_logits(y, logits, class_names=BRAIN_CLASSES)
    v = metrics_vs_paper(t, "val").set_index("metric")
    assert v.loc["accuracy", "ours"] == pytest.approx((logits.argmax(1) == y).mean())
    assert v.loc["loss", "paper_table"] == 0.0699 and np.isnan(v.loc["loss", "paper_notebook"])
    assert metrics_vs_paper(t, "test").set_index("metric").loc["mcc", "paper_notebook"] == 0.98977
    pc = per_class_vs_paper(t).set_index("class")
    pred = logits.argmax(1)
    for k, c in enumerate(BRAIN_CLASSES):
        assert pc.loc[c, "recall"] == pytest.approx(((pred == k) & (y == k)).sum() / (y == k).sum())
        assert pc.loc[c, "precision"] == pytest.approx(((pred == k) & (y == k)).sum() / (pred == k).sum())
    with pytest.raises(ValueError, match="Did you mean 'test'"):
        metrics_vs_paper(t, "tset")


def test_shortcut_accuracy():
    y = np.array([0, 1, 2, 3, 3])
    good = np.eye(4)[y] * 4
    bad = good.copy()
    bad[3:] = np.eye(4)[[2, 2]] * 4  # the pituitary images lose their marker and their recall
    acc = shortcut_accuracy({("shortcut", "kept"): (y, good), ("shortcut", "removed"): (y, bad)}).set_index("test_set")
    assert acc.loc["kept", "accuracy"] == 1.0 and acc.loc["removed", "accuracy"] == pytest.approx(0.6)
    assert acc.loc["kept", "recall_pituitary"] == 1.0 and acc.loc["removed", "recall_pituitary"] == 0.0
    with pytest.raises(ValueError, match="shortcut_class"):
        shortcut_accuracy({}, shortcut_class="pituitry")
