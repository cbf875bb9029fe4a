"""Study-1 helpers: paper 003's tables, the random baseline, ours-vs-paper tables, the verdicts."""
import numpy as np
import pandas as pd
import pytest
import torch

from xaikit.metrics import random_attribution_scores, random_baseline
from xaikit.studies import load_published
from xaikit.studies.model_complexity.analysis import (
    arch_depth,
    arch_label,
    classification_scores,
    collect_scores,
    format_mean_sd,
    kruskal_vs_paper,
    paper_scores,
    parameters_vs_paper,
    performance_vs_paper,
    posthoc_tests,
    score_summary,
    scores_vs_paper,
)
from xaikit.studies.model_complexity.text import beyond_paper_text, headline, hypothesis_verdicts


def test_published_tables_are_complete_and_consistent():
    rra, par = paper_scores("relevance_rank_accuracy"), paper_scores("positive_attribution_ratio")
    for table in (rra, par):
        assert len(table) == 2 * 4 * 3
        assert all(0 < m < 1 and 0 < sd < 1 for m, sd in table.values())
    t5 = load_published("01_model_complexity", "table5_kruskal")
    assert len(t5) == 12 and set(t5["source"]) == {"Table 5"} and set(t5["bibkey"]) == {"cedro2024beyond"}
    # the paper's p-values are the chi-square(3) tail of its H (seed-studies §1.8): the rounding of p allows 0.011
    from scipy.stats import chi2

    assert np.abs(chi2.sf(t5["H"], 3) - t5["p"]).max() < 0.011
    assert rra[("covid", 18, "saliency")] == (0.199, 0.10)
    assert par[("healthy", 101, "gradient_shap")] == (0.263, 0.09)
    assert paper_scores("sparseness") == {}


@pytest.mark.parametrize("arch,depth,label", [("paper003_resnet18", 18, "ResNet-18"),
                                              ("resnet101", 101, "ResNet-101 (torchvision)"),
                                              ("smallcnn", None, "smallcnn")])
def test_arch_names(arch, depth, label):
    assert arch_depth(arch) == depth and arch_label(arch) == label


def test_format_mean_sd():
    assert format_mean_sd(0.19949, 0.1049) == "0.199 (0.10)"
    assert format_mean_sd(np.nan, np.nan) == "–"


def test_random_baseline_is_the_mask_share_and_matches_random_maps_within_monte_carlo_error():
    masks = torch.zeros(3, 1, 16, 16, dtype=torch.bool)
    masks[0, 0, :4, :4] = True  # 1/16
    masks[1, 0, :8] = True  # 1/2
    base = random_baseline(masks)
    assert base[:2].tolist() == [1 / 16, 0.5] and np.isnan(base[2])
    n_draws = 200
    emp = random_attribution_scores(masks[:2], n_draws=n_draws, seed=0)
    means = emp.groupby(["metric", "image"])["score"].mean()
    share, k, p = base[:2], masks[:2].flatten(1).sum(1).numpy(), 16 * 16
    # The Monte-Carlo standard error of each per-image mean over n_draws maps.
    # RRA = X / K with X ~ Hypergeometric(P, K, K) mask pixels among the top K (exact):
    sd_rra = np.sqrt(share * (1 - share) * (p - k) / ((p - 1) * k))
    # PAR = S_in / (S_in + S_out), sums of max(Z, 0) over K and P - K pixels; by the delta method
    # Var = v p (1 - p) / (P m^2), with m = E max(Z, 0) = 1 / sqrt(2 pi), v = Var max(Z, 0) = 1/2 - m^2:
    m = 1 / np.sqrt(2 * np.pi)
    sd_par = np.sqrt((0.5 - m * m) * share * (1 - share) / (p * m * m))
    for metric, sd in (("relevance_rank_accuracy", sd_rra), ("positive_attribution_ratio", sd_par)):
        draws = emp[emp.metric == metric].groupby("image")["score"]
        # the stated per-draw SD is the one observed (within 25 %: the SD of 200 draws varies ~5 %) ...
        assert draws.std().to_numpy() == pytest.approx(sd, rel=0.25)
        # ... and each mean lies within 4 standard errors of the analytic baseline (false alarm ~6e-5)
        assert (np.abs(means[metric].to_numpy() - share) < 4 * sd / np.sqrt(n_draws)).all()


def _scores(seed=0, archs=("paper003_resnet18", "paper003_resnet101"), shift=0.0, n=30):
    rng = np.random.default_rng(seed)
    rows = []
    for i, arch in enumerate(archs):
        for metric in ("relevance_rank_accuracy", "positive_attribution_ratio"):
            for cls in ("healthy", "covid"):
                for method in ("saliency", "gradient_shap", "integrated_gradients"):
                    s = np.clip(rng.normal(0.3 - shift * i, 0.05, n), 0, 1)
                    rows.append(pd.DataFrame({"image": np.arange(n), "class": cls, "arch": arch, "method": method,
                                              "metric": metric, "score": s, "random_baseline": 0.2}))
    return pd.concat(rows, ignore_index=True)


def test_summary_and_tables_put_the_paper_beside_ours():
    summary = score_summary(_scores())
    row = summary[(summary.metric == "relevance_rank_accuracy") & (summary["class"] == "covid")
                  & (summary.arch == "paper003_resnet18") & (summary.method == "saliency")].iloc[0]
    assert (row.paper_mean, row.paper_sd, row.n) == (0.199, 0.10, 30) and row.random == pytest.approx(0.2)
    wide = scores_vs_paper(summary, "relevance_rank_accuracy")
    assert wide.loc[("covid", "ResNet-18"), ("saliency", "paper")] == "0.199 (0.10)"
    assert wide.loc[("healthy", "ResNet-101"), ("gradient_shap", "paper")] == "0.248 (0.08)"
    assert wide.loc[("covid", "ResNet-18"), ("random map", "ours")] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="metric"):
        scores_vs_paper(summary, "rra")


def test_tables_1_and_2_side_by_side():
    t1 = parameters_vs_paper(["paper003_resnet34", "resnet34", "smallcnn"])
    assert t1["difference"].tolist()[:2] == [0, 21_279_426 - 12_329_218]
    assert t1["paper"].iloc[0] == load_published("01_model_complexity", "table1_parameters").set_index("depth").loc[
        34, "trainable"]
    assert pd.isna(t1["paper"].iloc[2])
    perf = pd.DataFrame([{"arch": "paper003_resnet50", "accuracy": 0.9, "auc": 0.95, "cross_entropy": 0.2}])
    t2 = performance_vs_paper(perf).iloc[0]
    assert (t2.accuracy_paper, t2.auc_paper, t2.cross_entropy_paper) == (0.961, 0.995, 0.168)
    r = classification_scores("x", torch.tensor([0, 1, 0, 1]), torch.tensor([[1.0, 0], [0, 1], [0, 1], [0, 2]]))
    assert r["accuracy"] == 0.75 and r["auc"] == 0.875 and r["n_test"] == 4  # a tie between classes counts half


def test_kruskal_and_posthoc_match_scipy_and_carry_table5():
    from scipy import stats

    scores = _scores(shift=0.05)
    kw = kruskal_vs_paper(scores)
    assert len(kw) == 12
    cell = kw[(kw.metric == "relevance_rank_accuracy") & (kw["class"] == "covid") & (kw.method == "saliency")].iloc[0]
    assert (cell.paper_H, cell.paper_p) == (9.79, 0.02)
    sel = scores[(scores.metric == "relevance_rank_accuracy") & (scores["class"] == "covid")
                 & (scores.method == "saliency")]
    ref = stats.kruskal(*[g.score for _, g in sel.groupby("arch")])
    assert cell.H == pytest.approx(ref.statistic) and cell.p == pytest.approx(ref.pvalue)
    pairs = posthoc_tests(scores)
    assert len(pairs) == 12 and (pairs["correction"] == "bonferroni").all()
    with pytest.raises(ValueError, match="two models"):
        kruskal_vs_paper(scores[scores.arch == "paper003_resnet18"])


def test_hypothesis_verdicts_follow_the_numbers():
    n_params = {"paper003_resnet18": 6_139_842, "paper003_resnet101": 42_550_658}
    worse = _scores(shift=0.1)  # the bigger model scores lower everywhere
    summary = score_summary(worse)
    better_acc = pd.DataFrame({"arch": list(n_params), "accuracy": [0.8, 0.9]})
    v = hypothesis_verdicts(better_acc, summary, kruskal_vs_paper(worse), n_params)
    assert v["h1"] == "supported" and v["h2"] == "supported"
    assert v["n_significant"] == 12 and v["n_significant_decreasing"] == 12
    assert "12 of 12" in v["h2_text"] and "cannot tell complexity" not in v["h2_text"]
    v = hypothesis_verdicts(better_acc.assign(accuracy=[0.9, 0.8]), summary, kruskal_vs_paper(worse), n_params)
    assert v["h2"] == "supported" and "cannot tell complexity from convergence" in v["h2_text"]
    same = _scores(shift=0.0)
    v = hypothesis_verdicts(better_acc.assign(accuracy=[0.9, 0.8]), score_summary(same), kruskal_vs_paper(same),
                            n_params)
    assert v["h1"] == "rejected" and v["h2"] == "rejected" and "rejected" in v["h1_text"]
    v = hypothesis_verdicts(better_acc.assign(accuracy=[0.5, 0.5]), score_summary(same), kruskal_vs_paper(same),
                            n_params)
    assert v["h1"] == "undecided" and "undefined" in v["h1_text"]


def test_collect_scores_is_tidy_and_keeps_maps():
    from xaikit.explain import get_explainer
    from xaikit.models import create_model

    torch.manual_seed(0)
    x = torch.rand(5, 1, 16, 16)
    y = torch.tensor([0, 1, 0, 1, 1])
    masks = torch.zeros(5, 1, 16, 16, dtype=torch.bool)
    masks[:, :, 4:8, 4:8] = True
    models = {"tinycnn": create_model("tinycnn", 1, 2), "smallcnn": create_model("smallcnn", 1, 2)}
    explainers = {"saliency": get_explainer("saliency", sign="signed")}
    scores, maps = collect_scores(models, explainers, x, y, masks, ["healthy", "covid"], batch_size=2, keep=[0, 3])
    assert len(scores) == 2 * 1 * 2 * 5
    assert set(scores.columns) >= {"image", "class", "arch", "method", "metric", "score", "random_baseline"}
    assert scores["score"].between(0, 1).all() and (scores["random_baseline"] == 16 / 256).all()
    assert scores.loc[scores.image == 1, "class"].eq("covid").all()
    assert maps[("tinycnn", "saliency")].shape == (2, 1, 16, 16)
    with pytest.raises(ValueError, match="at least one model"):
        collect_scores({}, explainers, x, y, masks, ["a", "b"])


def test_beyond_paper_text_counts_from_the_numbers():
    cells = pd.DataFrame({"metric": "relevance_rank_accuracy", "class": ["covid", "covid", "healthy", "healthy"],
                          "arch": ["a", "b", "a", "b"], "method": "saliency"})
    margin = cells.assign(low=[0.1, -0.1, -0.2, -0.1], high=[0.3, 0.2, 0.1, 0.1])
    ci = cells.assign(low=[0.1, 0.5, 0.2, 0.25], high=[0.2, 0.6, 0.3, 0.35])
    text = beyond_paper_text(margin, ci, {"saliency": 0.1, "gradient_shap": 0.8})
    assert "1 of 2 covid cells beat" in text and "0 of 2 healthy cells beat" in text
    assert "in 1 of 2 metric × class × method cells" in text
    assert "saliency changes" in text and "gradient shap keeps" in text
    assert "no method changes" in beyond_paper_text(margin, ci, {"saliency": 0.9})


def test_headline_numbers_are_the_cell_means():
    scores = _scores()
    summary = score_summary(scores)
    margin = summary[["metric", "class", "arch", "method"]].assign(
        **{"beats random": [True, False] * (len(summary) // 2)})
    h = headline(scores, summary, margin, "saliency")
    sel = scores[(scores.metric == "relevance_rank_accuracy") & (scores.method == "saliency")
                 & (scores["class"] == "covid")]
    assert h["rra_covid_mean"] == pytest.approx(sel["score"].mean()) and h["rra_covid_random"] == pytest.approx(0.2)
    rra = margin[(margin.metric == "relevance_rank_accuracy") & (margin.method == "saliency")]
    assert h["n_beats_random"] == f"{int(rra['beats random'].sum())} of {len(rra)}"


def test_training_table_counts_the_epochs_run_not_the_cap():
    from types import SimpleNamespace

    from xaikit.studies.model_complexity.analysis import training_table

    fits = {"paper003_resnet18_w8": SimpleNamespace(best_epoch=2, history=pd.DataFrame({"epoch": range(1, 8)}),
                                                    from_cache=False, seconds=3.21),
            "paper003_resnet34_w8": SimpleNamespace(best_epoch=15, history=pd.DataFrame({"epoch": range(1, 16)}),
                                                    from_cache=True, seconds=0.04)}
    t = training_table(fits, 15, "cpu")
    assert t["epochs run"].tolist() == [7, 15] and t["at most"].tolist() == [15, 15]
    assert t["source"].tolist() == ["trained on cpu", "cache"] and t["best epoch"].tolist() == [2, 15]
