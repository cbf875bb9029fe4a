"""Study 2 (INFORMER): the notebook executed in the smoke profile writes honest, complete tables."""
import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ttest_rel

pytestmark = pytest.mark.slow

STUDY = "02_informer_qc"


@pytest.fixture(scope="module")
def out(book_src):
    return book_src / "book" / "_generated" / STUDY


def test_notebook_writes_every_table_figure_and_manifest(out):
    for name in ("qc_test_metrics.csv", "qc_validation_metrics.csv", "thresholds.csv", "bootstrap_f1.csv",
                 "ttests.csv", "table1_vs_paper.csv", "classifier_performance.csv", "flags_vs_localisation.csv",
                 "error_detection_auroc.csv", "reliability.csv", "figure3_bootstrap.png", "reliability.png",
                 "class_maps.png", "manifest.json"):
        assert (out / name).exists(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["study"] == STUDY and manifest["parameters"]["profile"] == "smoke"
    assert manifest["validation_f1_never_drops"] is True


def test_comparison_has_every_method_and_class(out):
    f1 = pd.read_csv(out / "qc_test_metrics.csv")
    methods = set(f1["method"])
    assert {"no_qc", "entropy", "tta"} <= methods
    assert any(m.startswith("informer_") for m in methods)
    classes = set(f1["class"]) - {"mean"}
    assert len(classes) == 5
    for _, sub in f1.groupby("method"):
        per_class = sub[sub["class"] != "mean"]["f1"]
        assert sub.loc[sub["class"] == "mean", "f1"].iloc[0] == pytest.approx(per_class.mean())
        assert ((sub["f1"] >= 0) & (sub["f1"] <= 1)).all()


def test_validation_f1_after_qc_never_below_no_qc(out):
    val = pd.read_csv(out / "qc_validation_metrics.csv")
    val = val[val["class"] != "mean"].pivot(index="class", columns="method", values="f1")
    for m in val.columns.drop("no_qc"):
        assert (val[m] >= val["no_qc"] - 1e-12).all(), m
    thr = pd.read_csv(out / "thresholds.csv")
    assert (thr["val_f1_after"] >= thr["val_f1_no_qc"] - 1e-12).all()
    assert set(thr["direction"]) <= {"below", "above"}


def test_bootstrap_sets_and_ttests_agree_with_scipy(out):
    manifest = json.loads((out / "manifest.json").read_text())
    n_boot = manifest["parameters"]["n_boot"]
    boot = pd.read_csv(out / "bootstrap_f1.csv")
    assert boot["set"].nunique() == n_boot
    wide = boot[boot["class"] == "mean"].pivot(index="set", columns="method", values="f1")
    tests = pd.read_csv(out / "ttests.csv")
    assert set(tests["baseline"]) >= {"entropy", "tta"}
    for _, row in tests.iterrows():
        a, b = wide[row["method"]].to_numpy(), wide[row["baseline"]].to_numpy()
        if np.allclose(a, b):
            assert np.isnan(row["p"])
        else:
            assert row["p"] == pytest.approx(ttest_rel(a, b).pvalue)


def test_table1_holds_the_papers_numbers(out):
    t1 = pd.read_csv(out / "table1_vs_paper.csv")
    paper = t1[t1["source"] == "paper"].set_index(["method", "class"])["f1"]
    assert paper[("INFORMER_lrp", "Cardiomegaly")] == pytest.approx(0.655)
    assert paper[("Pred. Entropy", "F̄1")] == pytest.approx(0.563)


def test_chapter_says_which_model_ran_and_that_data_are_phantoms(book_src):
    text = (book_src / "book" / "_generated" / f"{STUDY}.ipynb").read_text()
    assert "procedural phantoms" in text and "from scratch" in text
