"""Issue 17: error-detection AUROC, references (random flags at a monitor's rate), paired bootstrap, conclusion."""
import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

from xaikit.qc import (
    DECLARED_DIRECTIONS,
    apply_flags,
    beats_random,
    declared_direction,
    error_detection_auroc,
    paired_bootstrap_f1,
    qc_conclusion,
    qc_metrics,
    random_flags_f1,
    reference_predictions,
    reference_table,
)


def _f1(y, p):
    """Naive F1 of one class (abstained −1 entries left out)."""
    kept = p >= 0
    tp = ((y == 1) & (p == 1) & kept).sum()
    fp, fn = ((y == 0) & (p == 1) & kept).sum(), ((y == 1) & (p == 0) & kept).sum()
    return 0.0 if 2 * tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def _data(n=120, k=4, acc=0.75, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, (n, k))
    p = np.where(rng.random((n, k)) < acc, y, 1 - y)
    return y, p


# --- error detection ------------------------------------------------------------------------------------

@pytest.mark.parametrize("score", ["informer_lrp", "entropy", "tta"])
@pytest.mark.parametrize("direction", ["above", "learned"])
def test_score_equal_to_error_indicator_gives_auroc_one_whatever_direction(score, direction):
    y, p = _data()
    wrong = (y != p).astype(float)
    kw = dict(scores_val=wrong, y_val=y, pred_val=p) if direction == "learned" else {}
    out = error_detection_auroc(wrong, y, p, direction=direction, score=score, n_boot=50, **kw)
    assert (out["auroc"] == 1.0).all() and (out["verdict"] == "detects").all()
    # a monitor whose (F1-chosen) direction says "below" for the indicator: learned-by-AUROC still finds 1.0
    flipped = error_detection_auroc(wrong, y, p, direction="learned", scores_val=wrong, y_val=y, pred_val=p,
                                    n_boot=10)
    assert (flipped["direction"].iloc[:4] == "above").all() and (flipped["auroc"] == 1.0).all()


def test_negated_indicator_gives_zero_under_declared_direction_and_the_opposite_is_reported():
    y, p = _data()
    wrong = (y != p).astype(float)
    ent = error_detection_auroc(-wrong, y, p, score="entropy", n_boot=50)  # entropy: high = suspect
    assert (ent["auroc"] == 0.0).all() and (ent["auroc_opposite"] == 1.0).all()
    assert (ent["verdict"] == "opposite").all()
    # distinctiveness is declared "below": the indicator itself is the wrong way round for it
    inf = error_detection_auroc(wrong, y, p, score="informer_input_x_gradient", n_boot=50)
    assert (inf["direction"] == "below").all() and (inf["auroc"] == 0.0).all()


def test_per_class_mean_and_pooled_auroc_equal_independent_sklearn_computation():
    y, p = _data(n=150, k=5, acc=0.7, seed=3)
    rng = np.random.default_rng(1)
    wrong = y != p
    s = wrong * 0.6 + rng.normal(size=y.shape)  # a noisy detector
    out = error_detection_auroc(s, y, p, score="tta", n_boot=100, class_names=list("abcde")).set_index("class")
    per = [roc_auc_score(wrong[:, c], s[:, c]) for c in range(5)]
    np.testing.assert_allclose(out.loc[list("abcde"), "auroc"], per, rtol=0, atol=1e-12)
    assert out.loc["mean", "auroc"] == pytest.approx(np.mean(per), abs=1e-12)
    # pooled: per-class percentile ranks (any within-class monotone map), then one sklearn AUROC over all pairs
    ranks = np.column_stack([rankdata(s[:, c]) / len(s) for c in range(5)])
    assert out.loc["pooled", "auroc"] == pytest.approx(roc_auc_score(wrong.ravel(), ranks.ravel()), abs=1e-12)
    assert out.loc["pooled", "n"] == 750 and out.loc["mean", "n_wrong"] == wrong.sum()
    for cls in out.index:
        assert out.loc[cls, "low"] <= out.loc[cls, "auroc"] <= out.loc[cls, "high"]


def test_bootstrap_ci_is_seeded_and_covers_chance_for_a_random_score():
    y, p = _data(n=200, k=3, seed=5)
    s = np.random.default_rng(9).normal(size=y.shape)
    a = error_detection_auroc(s, y, p, direction="above", n_boot=300, seed=4)
    b = error_detection_auroc(s, y, p, direction="above", n_boot=300, seed=4)
    pd.testing.assert_frame_equal(a, b)
    c = error_detection_auroc(s, y, p, direction="above", n_boot=300, seed=5)
    assert not np.allclose(a["low"], c["low"])
    # interval width of a mean AUROC over 3 classes of ~50 errors: about 2 * 1.96 * 0.04 / sqrt(3)
    mean = a.set_index("class").loc["mean"]
    assert mean["low"] < 0.5 < mean["high"] and 0.03 < mean["high"] - mean["low"] < 0.2


def test_learned_direction_is_chosen_by_validation_auroc_not_test():
    y, p = _data(n=100, k=2, seed=2)
    wrong = (y != p).astype(float)
    val_scores = np.column_stack([wrong[:, 0], -wrong[:, 1]])  # class 1's score points the other way on val
    out = error_detection_auroc(wrong, y, p, direction="learned", scores_val=val_scores, y_val=y, pred_val=p,
                                n_boot=10)
    assert out["direction"].tolist()[:2] == ["above", "below"] and out["direction"].iloc[2] == "mixed"
    assert out["auroc"].tolist()[:2] == [1.0, 0.0]


def test_declared_directions_and_bad_input():
    assert declared_direction("informer_lrp") == DECLARED_DIRECTIONS["distinctiveness"] == "below"
    y, p = _data(n=20, k=2)
    s = np.zeros((20, 2))
    with pytest.raises(ValueError, match="direction"):
        error_detection_auroc(s, y, p, direction="auto")
    with pytest.raises(ValueError, match="score="):
        error_detection_auroc(s, y, p)
    with pytest.raises(ValueError, match="scores_val"):
        error_detection_auroc(s, y, p, direction="learned")
    with pytest.raises(ValueError, match="score"):
        error_detection_auroc(s, y, p, score="gradcam")
    with pytest.raises(ValueError, match="NaN"):
        error_detection_auroc(np.full((20, 2), np.nan), y, p, direction="above")
    with pytest.raises(ValueError, match="y_pred"):
        error_detection_auroc(s, y, p[:, :1], direction="above")


# --- references -------------------------------------------------------------------------------------------

def test_reference_predictions_hit_their_known_f1():
    y, p = _data(n=80, k=3, acc=0.6)
    refs = reference_predictions(y, p)
    f1 = {m: qc_metrics(y, pred)["f1"].to_numpy()[:3] for m, pred in refs.items()}
    assert (f1["oracle"] == 1.0).all()
    np.testing.assert_array_equal(refs["flip_all"], apply_flags(p, np.ones_like(p, bool)))
    np.testing.assert_allclose(f1["no_qc"], qc_metrics(y, p)["f1"].to_numpy()[:3])


@pytest.mark.parametrize("action", ["flip", "defer", "abstain"])
def test_random_flags_expected_f1_matches_monte_carlo(action):
    y, p = _data(n=40, k=2, acc=0.7, seed=1)
    m = np.array([7, 15])
    exact = random_flags_f1(y, p, m, action=action)
    rng = np.random.default_rng(0)
    sims = np.empty((4000, 2))
    for i in range(len(sims)):
        flags = np.zeros_like(p, bool)
        for c in range(2):
            flags[rng.choice(40, m[c], replace=False), c] = True
        after = apply_flags(p, flags, action=action, y_true=y)
        sims[i] = [_f1(y[:, c], after[:, c]) for c in range(2)]
    np.testing.assert_allclose(sims[-1], qc_metrics(y, after)["f1"].to_numpy()[:2])  # the naive F1 is qc_metrics'
    se = sims.std(0) / np.sqrt(len(sims))
    assert (np.abs(sims.mean(0) - exact) < 4 * se + 1e-12).all()


def test_random_flags_edge_cases_are_exact():
    y, p = _data(n=30, k=2)
    np.testing.assert_allclose(random_flags_f1(y, p, 0), qc_metrics(y, p)["f1"].to_numpy()[:2])
    np.testing.assert_allclose(random_flags_f1(y, p, 30), qc_metrics(y, 1 - p)["f1"].to_numpy()[:2])
    np.testing.assert_allclose(random_flags_f1(y, p, 30, action="defer"), 1.0, rtol=0, atol=1e-12)
    # all predictions negative (no predicted positive): one of a FN and a TN flagged -> F1 1 or 0, expectation 0.5
    assert random_flags_f1([[1], [0]], [[0], [0]], 1).tolist() == [0.5]
    with pytest.raises(ValueError, match="n_flagged"):
        random_flags_f1(y, p, 31)
    with pytest.raises(ValueError, match="action"):
        random_flags_f1(y, p, 1, action="swap")


def test_oracle_flags_beat_random_and_random_flags_do_not():
    y, p = _data(n=150, k=3, acc=0.75, seed=4)
    oracle = beats_random(y, p, p != y, class_names=["a", "b", "c"])
    assert oracle["beats"].all() and (oracle["f1"] == 1.0).all() and (oracle["p"].iloc[:3] < 1e-6).all()
    assert oracle["p"].iloc[3] == pytest.approx(1 / 20001)  # Monte Carlo p of the mean: none of 20000 draws reach 1
    rng = np.random.default_rng(3)
    rand = beats_random(y, p, rng.random(p.shape) < 0.2, seed=1)
    assert not rand["beats"].any() and (rand["p"] > 0.05).all()
    # same counts as the oracle's per class, as the expected F1 reference says
    np.testing.assert_array_equal(oracle["n_flagged"].to_numpy()[:3], (p != y).sum(0))
    np.testing.assert_allclose(oracle["f1_random"].to_numpy()[:3], random_flags_f1(y, p, (p != y).sum(0)))


def test_flipping_everything_at_a_high_rate_is_matched_by_random_flags():
    """The issue's trap: flipping most of a weak class's predictions raises F1 without detecting errors."""
    rng = np.random.default_rng(7)
    y = (rng.random((100, 1)) < 0.4).astype(int)
    p = (rng.random((100, 1)) < 0.15).astype(int)  # a weak classifier that rarely says positive
    flags = rng.random((100, 1)) < 0.8  # flags unrelated to errors
    out = beats_random(y, p, flags).iloc[0]
    assert out["f1"] > qc_metrics(y, p)["f1"].iloc[0]  # F1 rises after flipping...
    assert not out["beats"]  # ...but random flags at the same rate do as well


def test_reference_table_has_every_reference_beside_each_monitor():
    y, p = _data(n=50, k=2)
    flags = {"entropy": np.zeros_like(p, bool), "tta": np.ones_like(p, bool)}
    t = reference_table(y, p, flags, class_names=["a", "b"]).set_index(["method", "class"])["f1"]
    assert t[("random@entropy", "a")] == pytest.approx(t[("no_qc", "a")])  # zero flags: no change
    assert t[("random@tta", "mean")] == pytest.approx(t[("flip_all", "mean")])  # every flag: flip all
    assert t[("oracle", "mean")] == 1.0


# --- paired bootstrap -------------------------------------------------------------------------------------

def test_paired_bootstrap_matches_a_naive_loop_and_is_seeded():
    y, p = _data(n=60, k=2, seed=8)
    q = np.where(np.random.default_rng(1).random(p.shape) < 0.9, y, p)  # a better set of predictions
    preds = {"better": q, "no_qc": p}
    out = paired_bootstrap_f1(y, preds, ["better"], ["no_qc"], n_boot=300, seed=3, class_names=["a", "b"])
    again = paired_bootstrap_f1(y, preds, ["better"], ["no_qc"], n_boot=300, seed=3, class_names=["a", "b"])
    pd.testing.assert_frame_equal(out, again)
    idx = np.random.default_rng(3).integers(0, 60, size=(300, 60))
    per = np.array([[_f1(y[i, c], q[i, c]) - _f1(y[i, c], p[i, c]) for c in range(2)] for i in idx])
    diffs = np.column_stack([per, per.mean(1)])  # columns a, b, mean (the mean of the differences)
    for j, cls in enumerate(["a", "b", "mean"]):
        row = out[out["class"] == cls].iloc[0]
        lo, hi = np.quantile(diffs[:, j], [0.025, 0.975])
        assert (row["low"], row["high"]) == pytest.approx((lo, hi), abs=1e-12)
    full = qc_metrics(y, q)["f1"].to_numpy() - qc_metrics(y, p)["f1"].to_numpy()
    np.testing.assert_allclose(out["diff"], full, atol=1e-12)
    assert out.set_index("class").loc["mean", "verdict"] == "higher"


def test_paired_bootstrap_of_identical_predictions_is_no_difference():
    y, p = _data(n=40, k=2)
    out = paired_bootstrap_f1(y, {"a": p, "b": p.copy()}, ["a"], ["b"], n_boot=100)
    assert (out["diff"] == 0).all() and (out["verdict"] == "no difference").all() and (out["p"] == 1.0).all()
    with pytest.raises(ValueError, match="not in predictions"):
        paired_bootstrap_f1(y, {"a": p}, ["a"], ["c"])


# --- conclusion -------------------------------------------------------------------------------------------

def _det(verdicts):
    return pd.DataFrame([{"method": m, "class": "mean", "auroc": a, "low": a - 0.05, "high": a + 0.05,
                          "verdict": v} for m, (a, v) in verdicts.items()])


def _paired(rows):
    return pd.DataFrame([{"method": m, "baseline": b, "class": "mean", "diff": d, "low": lo, "high": hi,
                          "verdict": "higher" if lo > 0 else "lower" if hi < 0 else "no difference"}
                         for m, b, d, lo, hi in rows], columns=["method", "baseline", "class", "diff", "low", "high",
                                                                "verdict"])


def test_conclusion_reports_each_detection_verdict_with_its_numbers():
    det = _det({"entropy": (0.65, "detects"), "tta": (0.40, "opposite"), "informer_lrp": (0.5, "chance")})
    rnd = pd.DataFrame({"method": ["entropy", "tta", "informer_lrp"], "class": "mean", "beats": [True, False, False]})
    text = qc_conclusion(det, rnd, _paired([]))
    assert "Entropy detects wrong predictions" in text and "0.65 [0.60, 0.70]" in text
    assert "Tta ranks wrong predictions opposite" in text and "0.40 [0.35, 0.45]" in text
    assert "Informer_lrp cannot be told from chance" in text
    assert "Only entropy beats random flags" in text
    assert "none is claimed to replicate" in text


def test_conclusion_random_flag_branches():
    det = _det({"a": (0.6, "detects"), "b": (0.6, "detects")})
    every = qc_conclusion(det, pd.DataFrame({"method": ["a", "b"], "class": "mean", "beats": [True, True]}),
                          _paired([]))
    none = qc_conclusion(det, pd.DataFrame({"method": ["a", "b"], "class": "mean", "beats": [False, False]}),
                         _paired([]))
    assert "Every monitor beats random flags" in every and "A and b detect" in every
    assert "No monitor beats random flags" in none


def test_conclusion_paired_and_replication_branches():
    det = _det({"a": (0.7, "detects")})
    rnd = pd.DataFrame({"method": ["a"], "class": "mean", "beats": [True]})
    paired = _paired([("a", "b", 0.05, 0.02, 0.08), ("a", "c", -0.04, -0.07, -0.01), ("a", "d", 0.0, -0.02, 0.02)])
    seeds = pd.DataFrame({"seed": [0, 1, 2] * 3, "method": "a", "baseline": ["b"] * 3 + ["c"] * 3 + ["d"] * 3,
                          "diff": [0.04, 0.05, 0.01, -0.03, 0.02, -0.05, 0.01, -0.01, 0.02]})
    text = qc_conclusion(det, rnd, paired, seeds=seeds, label=str.upper)
    assert "A's mean F1 is higher than B's (difference +0.050 [+0.020, +0.080]" in text
    assert "A's mean F1 is lower than C's" in text and "A and D do not differ" in text
    assert "A vs B: the verdict replicates in every seed" in text
    assert "A vs C: the verdict holds in 2 of 3 seeds only" in text
    assert "A vs D: no verdict to replicate (2 of 3 seeds favour A)" in text
    two_seeds = qc_conclusion(det, rnd, paired, seeds=seeds[seeds["seed"] < 2])
    assert "2 seeds run; at least 3 are needed" in two_seeds


def test_conclusion_regime_branches():
    det, rnd = _det({"a": (0.6, "detects")}), pd.DataFrame({"method": ["a"], "class": "mean", "beats": [True]})
    ok = qc_conclusion(det, rnd, _paired([]), classifier_auc={"x": 0.9, "y": 0.82})
    weak = qc_conclusion(det, rnd, _paired([]), classifier_auc={"x": 0.95, "atelectasis": 0.59})
    macro = qc_conclusion(det, rnd, _paired([]), classifier_auc={"x": 0.84, "y": 0.84})
    assert "macro test AUC is 0.860 (per finding 0.820–0.900), within the paper's regime" in ok
    assert "below the paper's regime" in weak and "with atelectasis under 0.80" in weak
    assert "below the paper's regime" in macro and "under" not in macro.split(";")[0]
    undefined = qc_conclusion(_det({"a": (np.nan, "undefined")}), rnd, _paired([]))
    assert "Error detection is undefined for a" in undefined
    with pytest.raises(ValueError, match="detection"):
        qc_conclusion(det.drop(columns="verdict"), rnd, _paired([]))


def test_random_flags_when_a_class_has_no_predicted_positive():
    """A class the classifier never predicts positive (an empty hypergeometric population) is still scored."""
    from xaikit.qc import beats_random

    y = np.array([[1, 0], [0, 0], [1, 0], [0, 0]])
    p = np.zeros((4, 2), int)
    flags = np.array([[1, 0], [0, 1], [0, 0], [0, 0]], bool)
    out = beats_random(y, p, flags).set_index("class")
    # class 0: one random flag among 4 predictions hits one of the 2 false negatives with probability 1/2,
    # giving F1 2/3 (flipping it), else F1 0: expected 1/3
    assert out.loc["0", "f1_random"] == pytest.approx(1 / 3)
    assert np.isfinite(out["p"]).all()
