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
                 "error_detection_auroc.csv", "error_detection_per_image.csv",
                 "references.csv", "beats_random.csv", "paired_bootstrap_f1.csv", "conclusion.md", "reliability.csv",
                 "figure3_bootstrap.png", "reliability.png", "class_maps.png", "manifest.json"):
        assert (out / name).exists(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["study"] == STUDY and manifest["parameters"]["profile"] == "smoke"


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


def test_error_detection_auroc_equals_sklearn_from_the_per_image_csv(out):
    """Per-class, mean and pooled AUROC recomputed by scikit-learn from the saved per-image scores."""
    from scipy.stats import rankdata
    from sklearn.metrics import roc_auc_score

    from xaikit.qc import declared_direction

    per_image = pd.read_csv(out / "error_detection_per_image.csv")  # method, image, class, score, wrong
    table = pd.read_csv(out / "error_detection_auroc.csv")
    declared = table[table["direction_source"] == "declared"] if "direction_source" in table else table
    for method, sub in per_image.groupby("method"):
        sign = -1.0 if declared_direction(method) == "below" else 1.0
        rows = declared[declared["method"] == method].set_index("class")["auroc"]
        aucs, ranks, wrong = [], [], []
        for cls, c in sub.groupby("class", sort=False):
            c = c.sort_values("image")
            w, s = c["wrong"].to_numpy().astype(bool), sign * c["score"].to_numpy()
            if w.all() or not w.any():
                continue
            aucs.append(roc_auc_score(w, s))
            assert rows[cls] == pytest.approx(aucs[-1], abs=1e-9), (method, cls)
            ranks.append(rankdata(s) / len(s))
            wrong.append(w)
        assert rows["mean"] == pytest.approx(np.mean(aucs), abs=1e-9), method
        pooled = roc_auc_score(np.concatenate(wrong), np.concatenate(ranks))
        assert rows["pooled"] == pytest.approx(pooled, abs=1e-9), method


def test_references_are_what_their_definitions_give(out):
    """flip_all and the oracle from the confusion counts; random flags' expected F1 at each monitor's count."""
    from xaikit.qc import random_flags_f1

    f1 = pd.read_csv(out / "qc_test_metrics.csv")
    no_qc = f1[(f1["method"] == "no_qc") & (f1["class"] != "mean")].set_index("class")
    refs = pd.read_csv(out / "references.csv").set_index(["method", "class"])["f1"]
    thr = pd.read_csv(out / "thresholds.csv")
    for cls, r in no_qc.iterrows():
        tp, fp, fn, tn = (int(r[c]) for c in ("tp", "fp", "fn", "tn"))
        assert refs[("oracle", cls)] == (1.0 if tp + fn else 0.0)
        assert refs[("flip_all", cls)] == pytest.approx(2 * fn / (2 * fn + tn + tp) if 2 * fn + tn + tp else 0.0)
        # the expected F1 of random flags depends on the counts only: rebuild any labelling with them
        y = np.array([1] * tp + [0] * fp + [1] * fn + [0] * tn)[:, None]
        p = np.array([1] * (tp + fp) + [0] * (fn + tn))[:, None]
        for _, row in thr[thr["class"] == cls].iterrows():
            expected = random_flags_f1(y, p, int(row["test_flagged"]))[0]
            assert refs[(f"random@{row['method']}", cls)] == pytest.approx(expected, abs=1e-9)


def test_paired_bootstrap_differences_match_the_f1_table(out):
    f1 = pd.read_csv(out / "qc_test_metrics.csv").set_index(["method", "class"])["f1"]
    paired = pd.read_csv(out / "paired_bootstrap_f1.csv")
    assert len(paired)
    for _, r in paired.iterrows():
        assert r["diff"] == pytest.approx(f1[(r["method"], r["class"])] - f1[(r["baseline"], r["class"])], abs=1e-9)
        assert r["low"] <= r["high"]
        assert r["verdict"] == ("higher" if r["low"] > 0 else "lower" if r["high"] < 0 else "no difference")


def test_conclusion_is_generated_from_the_saved_numbers(out):
    """The chapter's verdict text is qc_conclusion of the saved tables, word for word."""
    from xaikit.qc import qc_conclusion
    from xaikit.studies.informer_qc.analysis import method_label

    det = pd.read_csv(out / "error_detection_auroc.csv")
    if "direction_source" in det:
        det = det[det["direction_source"] == "declared"]
    perf = pd.read_csv(out / "classifier_performance.csv")
    auc = perf[(perf["split"] == "test") & (perf["metric"] == "roc_auc") & (perf["class"] != "macro")]
    text = qc_conclusion(det, pd.read_csv(out / "beats_random.csv"), pd.read_csv(out / "paired_bootstrap_f1.csv"),
                         classifier_auc=dict(zip(auc["class"], auc["value"], strict=True)), label=method_label)
    assert text in (out / "conclusion.md").read_text()


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
