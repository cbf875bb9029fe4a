"""Study-2 helpers: the published table, ours-vs-paper, the QC run on a tiny model, the localisation check."""
import numpy as np
import pandas as pd
import torch

from xaikit.qc import apply_flags, qc_metrics
from xaikit.studies.informer_qc.analysis import (
    flags_vs_localisation,
    method_label,
    paper_table1,
    run_qc,
    table1_vs_paper,
)

PAPER002_TABLE1 = paper_table1()


def test_paper_table1_reaches_the_table_through_table1_vs_paper():
    """Every published number lands in the "paper" column of its method and class (none retyped or shifted)."""
    classes = ["atelectasis", "cardiomegaly", "consolidation", "edema", "pleural_effusion"]
    ours = pd.concat([qc_metrics([[1, 1, 1, 1, 1]], [[1, 1, 1, 1, 1]], class_names=classes).assign(method=m)
                      for m in PAPER002_TABLE1])
    t = table1_vs_paper(ours)
    for method, row in PAPER002_TABLE1.items():
        for c, v in row.items():
            label = {"mean": "F̄1", "pleural_effusion": "P.Effusion"}.get(c, c.capitalize())
            assert t.loc[method_label(method), (label, "paper")] == v
            assert t.loc[method_label(method), (label, "ours")] == 1.0


def test_method_labels():
    assert method_label("informer_input_x_gradient") == "INFORMER_ixg"
    assert method_label("informer_lrp") == "INFORMER_lrp"
    assert method_label("entropy") == "Pred. Entropy" and method_label("no_qc") == "No QC"


def test_table1_vs_paper_puts_ours_beside_the_paper():
    ours = pd.concat([qc_metrics([[1, 0, 1, 0, 1]], [[1, 0, 1, 0, 1]], class_names=[
        "cardiomegaly", "pleural_effusion", "edema", "consolidation", "atelectasis"]).assign(method=m)
        for m in ("no_qc", "entropy")])
    t = table1_vs_paper(ours)
    assert list(t.index) == ["No QC", "Pred. Entropy"]
    assert t.columns[0] == ("Atelectasis", "ours") and t.columns[-1] == ("F̄1", "paper")
    assert t.loc["Pred. Entropy", ("Cardiomegaly", "paper")] == 0.607
    assert np.isnan(t.loc["No QC", ("Cardiomegaly", "paper")])


def test_run_qc_on_a_tiny_model_is_consistent():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 64, 5)).eval()
    gen = torch.Generator().manual_seed(0)
    x_val, x_test = torch.rand(30, 1, 8, 8, generator=gen), torch.rand(20, 1, 8, 8, generator=gen)
    rng = np.random.default_rng(0)
    y_val, y_test = rng.integers(0, 2, (30, 5)), rng.integers(0, 2, (20, 5))
    names = ["a", "b", "c", "d", "e"]
    run = run_qc(model, x_val, y_val, x_test, y_test, np.full(5, 0.5), names, methods=["input_x_gradient"],
                 tta_copies=3, seed=0, batch_size=8)
    assert set(run.monitors) == {"informer_input_x_gradient", "entropy", "tta"}
    for name, mon in run.monitors.items():
        np.testing.assert_array_equal(run.after_test[name], apply_flags(run.pred_test, run.flags_test[name]))
        val = qc_metrics(y_val, run.after_val[name])["f1"].to_numpy()[:5]
        np.testing.assert_allclose(val, mon.val_f1_after_)
    # predictions are the model's sigmoid at the thresholds; entropy scores are eq. 2 of its logits, by hand
    with torch.no_grad():
        prob = torch.sigmoid(model(x_test)).double().numpy()
    np.testing.assert_array_equal(run.pred_test, (prob >= 0.5).astype(int))
    q = np.clip(prob, 1e-12, 1 - 1e-12)
    np.testing.assert_allclose(run.scores_test["entropy"], -(q * np.log2(q) + (1 - q) * np.log2(1 - q)), rtol=1e-4,
                               atol=1e-6)
    thr = run.thresholds()
    assert len(thr) == 15 and (thr["test_flagged"] == [int(run.flags_test[m][:, i].sum())
                                                        for m in run.monitors for i in range(5)]).all()


def test_flags_vs_localisation_counts_hits_against_the_masks_share():
    maps = torch.zeros(2, 2, 1, 4, 4)
    maps[0, 0, 0, 0, 0] = 1.0  # class 0 of image 0: all relevance inside its mask -> a hit
    maps[1, 0, 0, 3, 3] = -2.0  # class 0 of image 1: all relevance outside -> a miss
    masks = np.zeros((2, 2, 4, 4), bool)
    masks[:, 0, 0, :2] = True  # 2 of 16 pixels: chance 0.125
    y = np.array([[1, 0], [1, 0]])
    flags = np.array([[False, True], [True, False]])
    out = flags_vs_localisation(maps, masks, y, flags, np.array([[1, 0], [0, 0]]), ["x", "y"])
    assert out["class"].tolist() == ["x", "x"]  # class "y" is absent in both images
    assert out["energy"].tolist() == [1.0, 0.0] and out["chance"].tolist() == [0.125, 0.125]
    assert out["hit"].tolist() == [True, False] and out["flagged"].tolist() == [False, True]
    assert out["correct"].tolist() == [True, False]


def test_load_splits_draws_the_phantom_once_and_splits_it_as_load_does():
    from types import SimpleNamespace

    from xaikit.data import load
    from xaikit.studies.informer_qc.analysis import load_splits

    params = dict(dataset="chest_multilabel", n_images=120, difficulty="default", label_noise=0.1, data_root=None,
                  image_size=32)
    splits = load_splits(SimpleNamespace(params=params, seed=7))
    assert sum(len(d) for d in splits.values()) == 120
    for name, d in splits.items():
        ref = load("chest_multilabel", name, image_size=32, seed=7, n=120, difficulty="default", label_noise=0.1)
        np.testing.assert_array_equal(d.images, ref.images)
        np.testing.assert_array_equal(d.labels, ref.labels)
        np.testing.assert_array_equal(d.masks, ref.masks)
