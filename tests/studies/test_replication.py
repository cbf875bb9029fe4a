"""Replication over seeds: which folders count, the summary over seeds, and verdicts that hold or flip."""
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from xaikit.studies import Replication, replicate, replication_text
from xaikit.studies._replication import replication_folders


def _sweep(tmp_path, study, cells):
    folder = tmp_path / "sweep"
    folder.mkdir()
    record = {"study": study, "cells": {f"seed={s}": {"params": {"seed": s}, "status": st, "output_dir": str(d)}
                                        for s, st, d in cells}}
    (folder / "sweep.json").write_text(json.dumps(record))
    return folder


def test_replication_folders_take_completed_cells_and_the_chapters_own_seed(tmp_path):
    sweep = _sweep(tmp_path, "03_shap_transfer", [(42, "done", "/x42"), (43, "done", "/x43"), (44, "failed", "/x44"),
                                                   (45, "skipped", "/x45")])
    folders = replication_folders("03_shap_transfer", tmp_path / "chapter", 42, sweep)
    assert {s: str(p) for s, p in folders.items()} == {42: str(tmp_path / "chapter"), 43: "/x43", 45: "/x45"}
    assert list(replication_folders("03_shap_transfer", "/c", 42, None)) == [42]
    with pytest.raises(ValueError, match="not of '02_informer_qc'"):
        replication_folders("02_informer_qc", "/c", 42, sweep)
    with pytest.raises(ValueError, match="holds no sweep.json"):
        replication_folders("02_informer_qc", "/c", 42, tmp_path)


def test_replication_text_says_replicated_flips_or_too_few():
    values = pd.DataFrame({"seed": [1, 2, 3], "quantity": "q", "value": [0.1, 0.2, 0.3]})
    consistency = pd.DataFrame([
        {"verdict": "h1", "status": "replicated", "value": "supported", "n_seeds": 3, "counts": "supported: 3"},
        {"verdict": "h2", "status": "flips", "value": None, "n_seeds": 3, "counts": "yes: 2; no: 1"},
        {"verdict": "h3", "status": "too few seeds", "value": None, "n_seeds": 2, "counts": "yes: 2"}])
    text = replication_text(Replication(values, pd.DataFrame(), pd.DataFrame(), consistency))
    assert "Over 3 seeds" in text and "h1: holds in all 3 seeds (supported)" in text
    assert "h2: **not replicated** — it flips between seeds (yes: 2; no: 1)" in text
    assert "h3: too few seeds to tell" in text
    one = Replication(values.iloc[:1], pd.DataFrame(), pd.DataFrame(), consistency)
    assert "one seed" in replication_text(one)


@pytest.mark.slow
def test_replicate_summarises_seeds_and_finds_a_flipped_verdict(book_src, tmp_path):
    """Three copies of the smoke chapter's outputs as three 'seeds': one quantity perturbed, one verdict flipped."""
    src = book_src / "book" / "_generated" / "03_shap_transfer"
    folders = {}
    for seed, drop in ((1, 0.9), (2, 0.1), (3, 0.5)):
        d = tmp_path / f"s{seed}"
        shutil.copytree(src, d)
        acc = pd.read_csv(d / "shortcut_accuracy.csv")
        acc.loc[(acc.model == "shortcut") & (acc.test_set == "marker kept"), ["accuracy", "recall_pituitary"]] = 1.0
        acc.loc[(acc.model == "shortcut") & (acc.test_set == "marker removed"),
                ["accuracy", "recall_pituitary"]] = 1.0 - drop
        acc.to_csv(d / "shortcut_accuracy.csv", index=False)
        folders[seed] = d
    rep = replicate("03_shap_transfer", folders)
    row = rep.summary.set_index("quantity").loc["shortcut model: accuracy drop without the marker"]
    drops = np.array([0.9, 0.1, 0.5])
    half = stats.t.ppf(0.975, 2) * drops.std(ddof=1) / np.sqrt(3)
    assert row["n_seeds"] == 3 and row["mean"] == pytest.approx(0.5) and row["sd"] == pytest.approx(drops.std(ddof=1))
    assert (row["low"], row["high"]) == pytest.approx((0.5 - half, 0.5 + half))
    c = rep.consistency.set_index("verdict")
    assert c.loc["the shortcut model relies on the marker", "status"] == "flips"
    assert c.loc["outside-body SHAP mass separates the domains", "status"] == "replicated"
    assert "**not replicated**" in replication_text(rep)
