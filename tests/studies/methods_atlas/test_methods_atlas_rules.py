"""Study 4's rules on synthetic frames where the answer is known, and the heat table against the tidy summary."""
import numpy as np
import pandas as pd
import pytest
import torch

from xaikit.explain import model_free_map
from xaikit.studies.methods_atlas import analysis, figures, text

SEEDS = [0, 1, 2]


def _masks(n=6, size=16, seed=0):
    rng = np.random.default_rng(seed)
    m = np.zeros((n, 1, size, size), bool)
    for i in range(n):
        r, c = rng.integers(2, size - 6, size=2)
        m[i, 0, r:r + 4, c:c + 4] = True
    return m


def _localisation_scores():
    """Per seed: the evidence mask as a 'method', a constant map as a method, and model-free baselines."""
    frames = []
    for s in SEEDS:
        masks = _masks(seed=s)
        x = torch.rand(len(masks), 1, 16, 16, generator=torch.Generator().manual_seed(s))
        organ = np.zeros_like(masks)  # an "organ" 8 x 8 around each 4 x 4 lesion: a prior that beats chance
        for i in range(len(masks)):
            r, c = np.argwhere(masks[i, 0])[0]
            organ[i, 0, max(r - 2, 0):r + 6, max(c - 2, 0):c + 6] = True
        maps = {("net", "mask_copy"): torch.as_tensor(masks).double(),
                ("net", "constant"): torch.ones(len(masks), 1, 16, 16, dtype=torch.float64),
                ("model-free", "random"): model_free_map("random", x, seed=s),
                ("model-free", "sobel"): model_free_map("sobel", x),
                ("model-free", "organ"): model_free_map("organ", x, organ_masks=organ),
                ("model-free", "evidence"): model_free_map("evidence", x, evidence_masks=masks)}
        kinds = {"mask_copy": "method", "constant": "method", "random": "baseline", "sobel": "baseline",
                 "organ": "baseline", "evidence": "baseline"}
        frames.append(analysis.score_maps(maps, masks, seed=s, kinds=kinds))
    return pd.concat(frames, ignore_index=True)


def test_a_method_equal_to_the_mask_passes_localisation_and_a_constant_map_fails():
    summary = analysis.criterion_summary(_localisation_scores())
    v = analysis.arun_verdicts(summary, agreement_threshold=0.5).set_index("method")
    assert v.loc["mask_copy", "localisation"] == "pass"
    assert v.loc["evidence", "localisation"] == "pass"  # the ceiling is judged, never used as a baseline
    assert v.loc["constant", "localisation"] == "fail"  # below the organ prior's interval
    auprc = summary[summary["metric"] == "auprc"].set_index("method")["mean"]
    assert auprc["mask_copy"] == pytest.approx(1.0)
    # a constant map ranks nothing: AP equals the mask's share of the image (16 of 256 pixels)
    assert auprc["constant"] == pytest.approx(16 / 256)
    assert v.loc["mask_copy", "randomisation"] == "not measured"


def _summary(metric, method, mean, low, high, kind="method"):
    return {"criterion": "x", "metric": metric, "kind": kind, "method": method, "mean": mean, "low": low,
            "high": high}


@pytest.mark.parametrize("rnd, floor, expected", [((0.1, 0.05, 0.15), 0.3, "pass"), ((0.8, 0.7, 0.9), 0.3, "fail"),
                                                   ((0.3, 0.2, 0.4), 0.3, "inconclusive")])
def test_randomisation_passes_only_below_the_random_pair_floor(rnd, floor, expected):
    s = pd.DataFrame([_summary("ssim_randomised", "m", *rnd), _summary("random_pair_ssim", "m", floor, floor, floor)])
    assert analysis.arun_verdicts(s, agreement_threshold=0.5).loc[0, "randomisation"] == expected


@pytest.mark.parametrize("cell, expected", [((0.8, 0.7, 0.9), "pass"), ((0.2, 0.1, 0.3), "fail"),
                                            ((0.5, 0.4, 0.6), "inconclusive"), ((0.6, np.nan, np.nan), "pass")])
def test_repeatability_and_reproducibility_against_the_stated_threshold(cell, expected):
    s = pd.DataFrame([_summary("agreement_across_seeds", "m", *cell), _summary("agreement_across_archs", "m", *cell)])
    v = analysis.arun_verdicts(s, agreement_threshold=0.5).iloc[0]
    assert v["repeatability"] == v["reproducibility"] == expected
    assert bool(v["passes_all"]) is False  # localisation and randomisation not measured


def test_passes_all_needs_all_four():
    rows = [_summary("auprc", "m", 0.9, 0.85, 0.95), _summary("auprc", "random", 0.1, 0.05, 0.15, "baseline"),
            _summary("ssim_randomised", "m", 0.1, 0.05, 0.15), _summary("random_pair_ssim", "m", 0.3, 0.3, 0.3),
            _summary("agreement_across_seeds", "m", 0.8, 0.7, 0.9),
            _summary("agreement_across_archs", "m", 0.8, 0.7, 0.9)]
    v = analysis.arun_verdicts(pd.DataFrame(rows), agreement_threshold=0.5)
    assert v.loc[0, "n_pass"] == 4 and bool(v.loc[0, "passes_all"])
    assert "1 of 1 methods pass all four" in text.arun_text(v)


def test_arun_verdicts_refuses_a_frame_without_intervals():
    with pytest.raises(ValueError, match="summary of arun_verdicts"):
        analysis.arun_verdicts(pd.DataFrame({"method": ["m"]}), agreement_threshold=0.5)


def test_best_methods_keeps_overlapping_intervals_and_respects_direction():
    s = pd.DataFrame([_summary("deletion_auc", "a", 0.2, 0.15, 0.25), _summary("deletion_auc", "b", 0.3, 0.24, 0.36),
                      _summary("deletion_auc", "c", 0.6, 0.5, 0.7), _summary("auprc", "a", 0.4, 0.3, 0.5),
                      _summary("auprc", "c", 0.9, 0.85, 0.95)])
    best = analysis.best_methods(s)
    assert best["faithfulness"] == ["a", "b"]  # lower is better; c's interval lies above a's
    assert best["localisation"] == ["c"]
    assert best["runtime"] == []
    lines = text.which_method_text(best).splitlines()
    assert len(lines) == len(analysis.HEADLINE)
    assert any("a and b" in ln and "faithfulness" in ln for ln in lines)
    assert any("localisation" in ln and "separated from every other" in ln for ln in lines)
    assert any("runtime" in ln and "not measured" in ln for ln in lines)


def test_heat_table_numbers_equal_the_tidy_summary_and_the_figure_shows_them():
    import matplotlib

    matplotlib.use("Agg")
    summary = analysis.criterion_summary(_localisation_scores())
    heat = analysis.heat_table(summary)
    merged = heat.merge(summary, on=["kind", "method", "metric"], suffixes=("", "_csv"))
    assert len(merged) == len(heat) > 0
    np.testing.assert_array_equal(merged["mean"], merged["mean_csv"])
    np.testing.assert_array_equal(merged["low"], merged["low_csv"])
    q = heat[heat["metric"] == "auprc"].set_index("method")["quality"]
    assert q.max() == 1.0 and q.min() == 0.0 and q.idxmax() in ("mask_copy", "evidence")
    fig = figures.heat_figure(heat)
    shown = sorted(t.get_text() for t in fig.axes[0].texts)
    cells = zip(heat["mean"], heat["low"], heat["high"], strict=True)
    assert shown == sorted(figures.cell_text(m, lo, hi) for m, lo, hi in cells)
    ranks = analysis.rank_table(heat)
    assert ranks[ranks["metric"] == "auprc"].set_index("method").loc["constant", "rank"] == ranks["rank"].max()


def test_interval_verdict_with_one_seed_uses_the_mean_and_nan_is_not_measured():
    assert analysis.interval_verdict(np.nan, np.nan, 0.7, 0.5, below=False) == "pass"
    assert analysis.interval_verdict(np.nan, np.nan, 0.4, 0.5, below=False) == "fail"
    assert analysis.interval_verdict(0.1, 0.2, np.nan, 0.5, below=True) == "not measured"


def test_shortcut_gap_and_agreement_on_known_maps():
    marker = np.zeros((2, 1, 8, 8), bool)
    marker[:, 0, :2, :2] = True
    on_marker = torch.as_tensor(marker).double()
    elsewhere = 1.0 - on_marker
    gap = analysis.score_shortcut(elsewhere, on_marker, marker, seed=0, arch="a", method="m")
    np.testing.assert_allclose(gap["score"], [1.0, 1.0])  # all mass on the marker vs none
    same = analysis.score_agreement(on_marker, on_marker, measure="spearman", seed=0, arch="a", method="m",
                                    metric="agreement_across_seeds", criterion="repeatability")
    np.testing.assert_allclose(same["score"], 1.0)


def test_pass_counter_counts_forward_and_backward_images():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    with analysis.PassCounter(net) as c:
        with torch.no_grad():
            net(torch.rand(3, 1, 2, 2))
        x = torch.rand(5, 1, 2, 2, requires_grad=True)
        torch.autograd.grad(net(x)[:, 0].sum(), x)
    assert (c.forward, c.backward) == (8, 5)
    assert c.units(5) == pytest.approx(13 / 5)
    import copy

    with analysis.PassCounter(net) as c2:
        copy.deepcopy(net)(torch.rand(2, 1, 2, 2))  # randomisation explains a deep copy: still counted
    assert c2.forward == 2


def _verdicts(**rows):
    return pd.DataFrame([{"method": m, **dict(zip(analysis.ARUN_CRITERIA, v, strict=True)),
                          "n_pass": sum(x == "pass" for x in v), "passes_all": all(x == "pass" for x in v)}
                         for m, v in rows.items()])


def test_arun_text_branches():
    every_fails = _verdicts(saliency=("pass", "fail", "pass", "pass"), grad_cam=("fail", "pass", "pass", "pass"))
    assert "Every one of the 2 methods fails at least one criterion" in text.arun_text(every_fails)
    undecided = _verdicts(saliency=("pass", "inconclusive", "pass", "pass"))
    assert "No method passes all four criteria, but 1 of 1 fail none" in text.arun_text(undecided)
    assert text.arun_text(every_fails.iloc[:0]) == "No method was scored on Arun et al.'s criteria."


def test_anchor_comparison_branches():
    summary = pd.DataFrame([_summary("iou_otsu", "grad_cam", 0.3, 0.2, 0.4),
                            _summary("iou_otsu", "integrated_gradients", 0.5, 0.4, 0.6)])
    adebayo = analysis.published_table("adebayo_randomisation")
    chex = analysis.published_table("chexlocalize_localisation")
    v = _verdicts(guided_backprop=("pass", "fail", "pass", "pass"), grad_cam=("pass", "pass", "pass", "pass"))
    t = text.anchor_comparison(v, summary, adebayo, chex)
    assert "not every method fails one (disagrees" in t
    assert ("Guided Backprop barely changes under model randomisation; here its randomisation verdict is fail "
            "(agrees)") in t
    assert "Guided Grad-CAM barely changes under model randomisation; not measured here" in t
    assert "here integrated gradients does (disagrees)" in t
    v2 = _verdicts(guided_backprop=("pass", "pass", "pass", "fail"))
    t2 = text.anchor_comparison(v2, summary.iloc[:1], adebayo, chex)
    assert "so does every method (agrees)" in t2 and "verdict is pass (disagrees)" in t2
    assert "fewer than two of its methods ran here" in t2


def test_explainer_defaults_follow_the_registered_classes():
    t = analysis.explainer_defaults(["integrated_gradients", "saliency"]).set_index("method")
    assert "n_steps=50" in t.loc["integrated_gradients", "defaults"]
    with pytest.raises(ValueError, match="method"):
        analysis.explainer_defaults(["saliancy"])


def test_remaining_text_branches():
    best = {"localisation": ["saliency"]}
    out = text.which_method_text(best, {"localisation": ["organ", "sobel"]})
    assert "Strongest model-free map: organ." in out
    assert "Strongest model-free map" not in text.which_method_text(best, {"localisation": []})
    v = _verdicts(evidence=("pass", "not measured", "not measured", "not measured"),
                  guided_backprop=("pass", "inconclusive", "fail", "pass"))
    assert text.arun_text(v).startswith("the evidence mask (ceiling): passes localisation")
    assert "Every one of the 1 methods" in text.arun_text(v)  # the ceiling is not counted
    t = text.anchor_comparison(v, pd.DataFrame(columns=["metric", "kind", "method", "mean"]),
                               analysis.published_table("adebayo_randomisation"),
                               analysis.published_table("chexlocalize_localisation"))
    assert "verdict is inconclusive (undecided)" in t


def test_score_costly_on_a_tiny_net_reports_the_last_cascade_step_and_keeps_every_layer():
    import matplotlib

    matplotlib.use("Agg")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(2 * 8 * 8, 2)).eval()

    def grad(m, x, t):
        x = x.clone().requires_grad_(True)
        return torch.autograd.grad(m(x).gather(1, t[:, None]).sum(), x)[0]

    x = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 1])
    curves = []
    out = analysis.score_costly(net, x, y, grad(net, x, y), explain=grad, seed=0, arch="tiny", method="grad",
                                kind="method", faith_steps=4, sens_samples=2, layers=["0", "3"],
                                random_floor_maps=grad(net, x, y), curves=curves)
    steps = curves[0]
    assert sorted(steps["step"].unique()) == [0, 1, 2]  # original, then layer 3, then layers 3 and 0
    last = steps[steps["step"] == 2].sort_values("sample")["ssim"].to_numpy()
    np.testing.assert_allclose(out.loc[out["metric"] == "ssim_randomised", "score"], last)
    np.testing.assert_allclose(steps.loc[steps["step"] == 0, "spearman"], 1.0)  # a deterministic method
    assert set(out["metric"]) == {"deletion_auc", "insertion_auc", "road_morf_auc", "ssim_randomised",
                                  "spearman_randomised", "random_pair_ssim", "max_sensitivity"}
    fig = figures.randomisation_layers(steps, out[out["metric"] == "random_pair_ssim"].assign(mean=0.1))
    assert len(fig.axes[0].lines) == 2  # the method's curve and its random-pair floor
