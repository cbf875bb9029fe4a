"""Study 3 (SHAP debugging and transfer) executed in the smoke profile: its tables are tidy and say what they should."""
import json
import re

import nbformat
import numpy as np
import pandas as pd
import pytest

from xaikit.studies.shap_transfer.analysis import BRAIN_CLASSES, LUNG_CLASSES

pytestmark = pytest.mark.slow
STUDY = "03_shap_transfer"


@pytest.fixture(scope="module")
def out(book_src):
    return book_src / "book" / "_generated" / STUDY


def test_notebook_ran_without_errors_and_wrote_its_manifest(out):
    nb = nbformat.read(out.with_suffix(".ipynb"), as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors == []
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["study"] == STUDY and manifest["parameters"]["profile"] == "smoke"
    assert manifest["network"] == manifest["parameters"]["arch"] and manifest["domains"] == "phantom"
    assert set(manifest["model_hashes"]) == {"clean", "shortcut"}
    assert manifest["model_hashes"]["clean"] != manifest["model_hashes"]["shortcut"]
    for png in ("shap_in_domain.png", "shap_foreign.png", "mass_fractions.png", "foreign_distribution.png",
                "confusion_matrix.png", "shortcut_maps.png"):
        assert (out / png).stat().st_size > 1000, png


def test_metrics_table_sits_beside_the_papers(out):
    t = pd.read_csv(out / "metrics_vs_paper.csv")
    assert set(t["split"]) == {"train", "val", "test"}
    test = t[t["split"] == "test"].set_index("metric")
    assert test.loc["accuracy", "paper_table"] == 0.99 and test.loc["accuracy", "paper_notebook"] == 0.99237
    assert test.loc[["accuracy", "balanced_accuracy", "auc", "precision", "recall"], "ours"].between(0, 1).all()
    assert test.loc[["mcc", "cohen_kappa"], "ours"].between(-1, 1).all()
    cm = pd.read_csv(out / "confusion_matrix.csv")
    n_test = int(cm["count"].sum())
    correct = cm.loc[cm["true"] == cm["predicted"], "count"].sum()
    assert test.loc["accuracy", "ours"] == pytest.approx(correct / n_test)
    assert set(pd.read_csv(out / "per_class.csv")["class"]) == set(BRAIN_CLASSES)


def test_probability_tables_are_distributions(out):
    probs = pd.read_csv(out / "foreign_probabilities.csv")
    cols = [f"p_{c}" for c in BRAIN_CLASSES]
    np.testing.assert_allclose(probs[cols].sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(probs["p_tumour"], 1 - probs["p_no_tumour"], atol=1e-9)
    assert (probs["predicted"] == np.asarray(BRAIN_CLASSES)[probs[cols].to_numpy().argmax(1)]).all()
    assert set(probs["actual"]) <= set(LUNG_CLASSES)
    table = pd.read_csv(out / "foreign_probability_table.csv")
    assert set(table["image"]) <= set(probs["image"]) and len(table) >= len(LUNG_CLASSES)


def test_predicted_distribution_covers_the_whole_foreign_set(out):
    probs = pd.read_csv(out / "foreign_probabilities.csv")
    dist = pd.read_csv(out / "foreign_distribution.csv")
    assert len(dist) == len(LUNG_CLASSES) * len(BRAIN_CLASSES)
    assert dist.groupby("actual")["count"].sum().sum() == len(probs)
    crosstab = probs.groupby(["actual", "predicted"]).size()
    for _, row in dist.iterrows():
        assert row["count"] == crosstab.get((row["actual"], row["predicted"]), 0)
    np.testing.assert_allclose(dist.groupby("actual")["share"].sum(), 1.0)
    vs = pd.read_csv(out / "foreign_distribution_vs_paper.csv")
    np.testing.assert_allclose(vs.groupby("actual")["paper_xlsx"].sum(), 1.0)


def test_mass_fractions_are_shares_of_a_partition(out):
    mass = pd.read_csv(out / "mass_fractions.csv")
    assert set(mass["domain"]) == {"in-domain (brain)", "foreign (lung)"}
    assert {"organ", "lesion", "body_not_organ", "outside_body"} <= set(mass["region"])
    assert mass["fraction"].dropna().between(0, 1).all()
    # a NaN has a reason, and only lesions of lesion-free images (or empty positive maps) are NaN
    assert (mass.loc[mass["fraction"].isna(), "reason"].str.len() > 0).all()
    assert mass.loc[(mass["region"] != "lesion") & (mass["sign"] == "absolute"), "fraction"].notna().all()
    wide = mass[mass["sign"] == "absolute"].pivot_table(index=["domain", "image"], columns="region", values="fraction")
    assert (wide["organ"] + wide["outside_body"] <= 1 + 1e-9).all()
    np.testing.assert_allclose(wide[["organ", "body_not_organ", "outside_body"]].sum(axis=1), 1.0)
    # the lesion lies inside the organ for the lung phantom, so it cannot hold more mass than the organ
    lung = wide.loc["foreign (lung)"].dropna(subset=["lesion"])
    assert (lung["lesion"] <= lung["organ"] + 1e-9).all()
    ci = pd.read_csv(out / "mass_fractions_ci.csv")
    assert ((ci["low"] <= ci["estimate"] + 1e-12) & (ci["estimate"] <= ci["high"] + 1e-12)).all()


def test_shortcut_is_learned_seen_by_the_explanations_and_breaks_when_removed(out):
    acc = pd.read_csv(out / "shortcut_accuracy.csv").set_index(["model", "test_set"])
    kept, removed = acc.loc[("shortcut", "marker kept")], acc.loc[("shortcut", "marker removed")]
    assert kept["accuracy"] > removed["accuracy"]  # removing the marker costs accuracy
    assert kept["recall_pituitary"] > removed["recall_pituitary"]
    # the clean model never saw the marker: removing it changes little
    clean_drop = acc.loc[("clean", "marker kept"), "accuracy"] - acc.loc[("clean", "marker removed"), "accuracy"]
    assert kept["accuracy"] - removed["accuracy"] > clean_drop
    sc = pd.read_csv(out / "shortcut_mass.csv")
    on_marker = sc[sc["region"] == "shortcut"].groupby(["model", "method"])["fraction"].mean()
    for method in set(sc["method"]):
        assert on_marker[("shortcut", method)] > on_marker[("clean", method)], method
    area = sc.loc[sc["region"] == "shortcut", "area"].mean()
    assert on_marker[("shortcut", "SHAP")] > 2 * area  # far more than the marker's share of the image


def test_chapter_shows_the_network_the_caveats_and_the_glued_numbers(book_src, out):
    from xaikit.book import build_book

    page = book_src / "_build" / "html" / "book" / "_generated" / f"{STUDY}.html"
    if not page.is_file():  # the book test may not have built it yet
        build_book(execute=False, source=book_src, strict=True)
    text = re.sub(r"<[^>]+>", "", page.read_text())  # the prose, without markup
    metrics = pd.read_csv(out / "metrics_vs_paper.csv").set_index(["split", "metric"])["ours"]
    assert f"accuracy {metrics[('test', 'accuracy')]:.3f} (chance" in text  # the glued headline number
    arch = json.loads((out / "manifest.json").read_text())["parameters"]["arch"]
    assert f"Network: {arch} (" in text  # the chapter says which network ran
    for phrase in ("running averages", "procedural phantoms", "Table 1", "Table 2"):
        assert phrase in text, phrase
