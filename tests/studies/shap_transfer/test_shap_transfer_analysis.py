"""Study-3 helpers: paper 004's tables, probability tables, predicted-class distributions, regions, mass fractions."""
import numpy as np
import pandas as pd
import pytest

from xaikit.studies.shap_transfer.analysis import (
    BRAIN_CLASSES,
    LUNG_CLASSES,
    distribution_vs_paper,
    metrics_vs_paper,
    paper_table,
    per_class_vs_paper,
    predicted_distribution,
    probability_table,
    shortcut_accuracy,
)
from xaikit.studies.shap_transfer.spec import check_domains
from xaikit.train import evaluate_logits

# --------------------------------------------------------------------------- published numbers
PAPER004_TABLE1 = paper_table("table1_probabilities")
PAPER004_TABLE2 = paper_table("table2_probabilities")
PAPER004_XLSX_COUNTS = {(r["actual"], r["predicted"]): r["count"]
                        for r in paper_table("xlsx_counts").to_dict("records")}


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
    metrics = paper_table("metrics").set_index(["split", "metric"])["value"]
    assert metrics[("test", "accuracy")] == 0.99


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
