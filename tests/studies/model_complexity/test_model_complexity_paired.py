"""Study 1 beyond the paper: both targets, model-free baselines, the paired design, parity before any claim."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from xaikit.studies.model_complexity.analysis import localisation_table, paired_tests, target_table
from xaikit.studies.model_complexity.text import localisation_text, paired_text, parity_check

ARCHS = ["paper003_resnet18", "paper003_resnet34", "paper003_resnet50"]


def _scores(n=12, seed=0, shift=0.0, target="true"):
    rng = np.random.default_rng(seed)
    rows = []
    for i, arch in enumerate(ARCHS):
        for metric in ("relevance_rank_accuracy", "positive_attribution_ratio"):
            for cls in ("covid", "healthy"):
                base = rng.normal(0.3, 0.05, n)
                rows.append(pd.DataFrame({"image": np.arange(n), "class": cls, "arch": arch, "method": "saliency",
                                          "metric": metric, "score": base + shift * i + rng.normal(0, 0.01, n),
                                          "target": target, "correct": np.arange(n) % 4 != 0}))
    return pd.concat(rows, ignore_index=True)


def test_paired_tests_equal_scipy_friedman_and_wilcoxon():
    scores = _scores(shift=0.05)
    fr, post = paired_tests(scores, ARCHS)
    cell = scores[(scores.metric == "relevance_rank_accuracy") & (scores["class"] == "covid")]
    wide = cell.pivot(index="image", columns="arch", values="score")[ARCHS]
    ref = stats.friedmanchisquare(*[wide[a] for a in ARCHS])
    row = fr[(fr.metric == "relevance_rank_accuracy") & (fr["class"] == "covid")].iloc[0]
    assert row["statistic"] == pytest.approx(ref.statistic) and row["p"] == pytest.approx(ref.pvalue)
    pair = post[(post.metric == "relevance_rank_accuracy") & (post["class"] == "covid")
                & (post.group_a == ARCHS[0]) & (post.group_b == ARCHS[2])].iloc[0]
    assert pair["p"] == pytest.approx(stats.wilcoxon(wide[ARCHS[0]], wide[ARCHS[2]]).pvalue)
    assert len(post) == 4 * 3  # 4 cells × 3 pairs


def test_target_table_puts_true_predicted_and_correct_only_side_by_side():
    true, pred = _scores(), _scores(target="predicted").assign(score=lambda d: d["score"] + 0.1)
    t = target_table(pd.concat([true, pred])).set_index(["metric", "class", "arch", "method"])
    key = ("relevance_rank_accuracy", "covid", ARCHS[0], "saliency")
    sel = true[(true.metric == key[0]) & (true["class"] == key[1]) & (true.arch == key[2])]
    assert t.loc[key, "true label"] == pytest.approx(sel.score.mean())
    assert t.loc[key, "predicted label"] == pytest.approx(sel.score.mean() + 0.1)
    assert t.loc[key, "correct only"] == pytest.approx(sel[sel.correct].score.mean())
    assert t.loc[key, "share correct"] == pytest.approx(0.75)


def test_a_method_equal_to_the_mask_localises_and_a_baseline_above_it_does_not():
    scores = _scores(n=40)
    scores.loc[scores.arch == ARCHS[0], "score"] = 1.0  # a perfect map
    scores.loc[scores.arch == ARCHS[1], "score"] = 0.0  # below every baseline
    rng = np.random.default_rng(1)
    baselines = pd.concat([pd.DataFrame({"image": np.arange(40), "class": c, "arch": "model-free", "method": b,
                                         "metric": m, "score": rng.normal(mu, 0.01, 40)})
                           for m in ("relevance_rank_accuracy", "positive_attribution_ratio")
                           for c in ("covid", "healthy") for b, mu in (("random", 0.1), ("organ", 0.3))])
    t = localisation_table(scores, baselines, n_boot=200, seed=0).set_index(["metric", "class", "arch"])
    assert t.loc[("relevance_rank_accuracy", "covid", ARCHS[0]), "verdict"] == "localises"
    assert t.loc[("relevance_rank_accuracy", "covid", ARCHS[0]), "strongest_baseline"] == "organ"
    assert t.loc[("relevance_rank_accuracy", "covid", ARCHS[1]), "verdict"] == "below baseline"
    assert t.loc[("relevance_rank_accuracy", "covid", ARCHS[2]), "verdict"] == "inconclusive"
    assert t.loc[("relevance_rank_accuracy", "healthy", ARCHS[0]), "measures"].startswith("attention to the lungs")
    text = localisation_text(t.reset_index())
    assert "(PAR: organ; RRA: organ)" in text and "2 of 6 model × method cells on COVID-19 images localise" in text


def test_parity_gates_the_paired_verdict():
    fr = pd.DataFrame({"metric": "m", "class": ["covid", "healthy", "covid"], "method": "s",
                       "target": ["true", "true", "predicted"], "p": [0.01, 0.02, 0.9]})
    good = parity_check(pd.DataFrame({"arch": ARCHS, "accuracy": [0.95, 0.94, 0.93]}))
    assert good["allow_claims"] and good["eligible_archs"] == ARCHS
    out = paired_text(fr, good)
    assert out["h2_paired"] == "differ" and out["n_cells"] == 2 and "in 2 of 2" in out["text"]
    assert paired_text(fr.assign(p=0.5), good)["h2_paired"] == "no consistent difference"
    gap = parity_check(pd.DataFrame({"arch": ARCHS, "accuracy": [0.99, 0.91, 0.95]}))
    assert gap["verdict"] == "accuracy gap" and paired_text(fr, gap)["h2_paired"] == "not assessed"
    low = parity_check(pd.DataFrame({"arch": ARCHS, "accuracy": [0.95, 0.6, 0.5]}))
    assert low["verdict"] == "too few models" and low["eligible_archs"] == [ARCHS[0]]
    assert "no verdict on hypothesis 2" in paired_text(fr, low)["text"]
