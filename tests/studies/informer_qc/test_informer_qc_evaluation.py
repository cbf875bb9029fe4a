"""Study 2's evaluation stage: declared/learned directions, references, random flags, paired CIs, per seed."""
import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from xaikit.studies.informer_qc.analysis import QCRun, evaluate_monitors, method_label
from xaikit.studies.informer_qc.text import replication_verdicts

NAMES = ["a", "b", "c"]


def _run(seed=0, n=120):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, (n, 3))
    p = np.where(rng.random((n, 3)) < 0.3, 1 - y, y)  # 30 % wrong
    wrong = (p != y).astype(float)
    run = QCRun(NAMES, y, y, p, p)
    run.y_val, run.pred_val = y, p
    # entropy: high where wrong (declared "above"); an INFORMER score: low where wrong (declared "below")
    run.scores_test = {"entropy": wrong + rng.normal(0, 0.5, (n, 3)),
                       "informer_lrp": -wrong + rng.normal(0, 0.5, (n, 3)), "tta": rng.normal(0, 1, (n, 3))}
    run.scores_val = {k: v.copy() for k, v in run.scores_test.items()}
    run.flags_test = {k: np.zeros((n, 3), bool) for k in run.scores_test}
    run.flags_test["entropy"][:, 0] = wrong[:, 0] > 0  # perfect flags in class a
    run.after_test = {"no_qc": p, **{k: np.where(f, 1 - p, p) for k, f in run.flags_test.items()}}
    return run


def test_declared_direction_auroc_equals_sklearn_and_the_mean_is_the_mean_of_classes():
    run = _run()
    ev = evaluate_monitors(run, ["no_qc", "informer_lrp", "entropy", "tta"], action="flip", n_boot=50, seed=0)
    d = ev.detection.set_index(["method", "direction_source", "class"])
    wrong = run.pred_test != run.y_test
    for m, sign in (("entropy", 1), ("informer_lrp", -1)):
        ref = [roc_auc_score(wrong[:, k], sign * run.scores_test[m][:, k]) for k in range(3)]
        got = [d.loc[(m, "declared", c), "auroc"] for c in NAMES]
        assert got == pytest.approx(ref)
        assert d.loc[(m, "declared", "mean"), "auroc"] == pytest.approx(np.mean(ref))
    # the learned direction of a score oriented the declared way agrees with it
    assert d.loc[("informer_lrp", "learned", "mean"), "auroc"] == pytest.approx(
        d.loc[("informer_lrp", "declared", "mean"), "auroc"])
    refs = ev.references.set_index(["method", "class"])["f1"]
    assert refs[("oracle", "mean")] == pytest.approx(1.0)
    rnd = ev.vs_random.set_index(["method", "class"])
    assert bool(rnd.loc[("entropy", "a"), "beats"]) and not bool(rnd.loc[("tta", "a"), "beats"])
    assert set(ev.paired["baseline"]) == {"entropy", "tta", "no_qc"}
    assert len(ev.per_image) == 3 * 120 * 3 and set(ev.per_image["wrong"]) == {0, 1}
    assert method_label("random@entropy") == "Random flags at Pred. Entropy's rate"


def test_replication_verdicts_read_a_finished_runs_tables(tmp_path):
    run = _run()
    ev = evaluate_monitors(run, ["no_qc", "informer_lrp", "entropy", "tta"], action="flip", n_boot=50, seed=0)
    ev.detection.to_csv(tmp_path / "error_detection_auroc.csv", index=False)
    ev.vs_random.to_csv(tmp_path / "beats_random.csv", index=False)
    ev.paired.to_csv(tmp_path / "paired_bootstrap_f1.csv", index=False)
    (tmp_path / "manifest.json").write_text(json.dumps({"mean_f1": {"no_qc": 0.5, "entropy": 0.6, "tta": 0.4,
                                                                    "informer_lrp": 0.55}}))
    v = replication_verdicts(tmp_path)
    assert v["Pred. Entropy detects wrong predictions"] == "detects"
    assert v["TTA detects wrong predictions"] in ("chance", "detects", "opposite")
    assert v["monitor with the highest mean F1"] == "Pred. Entropy"
    assert v["INFORMER_lrp against Pred. Entropy (paired CI)"] in ("higher", "lower", "no difference")
