"""Paired post-hoc tests, seed-level summaries and the study verdicts, against scipy and by branch."""
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as ss

import xaikit.stats as xs


@pytest.fixture
def paired():
    """Two cells, four models scored on the same 25 images; model d is shifted up in cell 'covid'."""
    rng = np.random.default_rng(1)
    rows = []
    for cls, shift in (("covid", 0.15), ("healthy", 0.0)):
        base = rng.beta(2, 5, 25)
        for j, arch in enumerate("abcd"):
            s = base + rng.normal(0, 0.05, 25) + shift * (j == 3)
            rows += [(cls, arch, i, v) for i, v in enumerate(s)]
    return pd.DataFrame(rows, columns=["cls", "arch", "image", "score"])


def _holm(p):
    p = np.asarray(p)
    order = np.argsort(p)
    m = len(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj


def test_paired_posthoc_equals_scipy_wilcoxon_holm_and_friedman(paired):
    out = xs.paired_posthoc(paired, "score", "arch", "image", cells="cls")
    assert len(out) == 2 * 6
    for cls, cell in out.groupby("cls"):
        sub = paired[paired.cls == cls]
        wide = sub.pivot(index="image", columns="arch", values="score")
        ps = []
        for (a, b), row in zip(combinations("abcd", 2), cell.itertuples(), strict=True):
            assert (row.group_a, row.group_b) == (a, b)
            w, p = ss.wilcoxon(wide[a], wide[b])
            d = (wide[a] - wide[b]).to_numpy()
            r = ss.rankdata(np.abs(d))
            rb = (r[d > 0].sum() - r[d < 0].sum()) / r.sum()  # Kerby's matched-pairs rank-biserial
            assert row.statistic == w and row.p == pytest.approx(p, rel=1e-12)
            assert row.rank_biserial == pytest.approx(rb, rel=1e-12)
            ps.append(p)
        assert cell.p_adj.to_numpy() == pytest.approx(_holm(ps), rel=1e-12)
        chi2, pf = ss.friedmanchisquare(*(wide[a] for a in "abcd"))
        assert cell.friedman_chi2.to_numpy() == pytest.approx(np.full(6, chi2), rel=1e-12)
        assert cell.friedman_p.to_numpy() == pytest.approx(np.full(6, pf), rel=1e-12)
        assert cell.kendalls_w.to_numpy() == pytest.approx(np.full(6, chi2 / (25 * 3)), rel=1e-12)
        assert (cell.significant == ((pf < 0.05) & (cell.p_adj < 0.05))).all()
    # the shifted model differs from every other one in 'covid', all pairs with it significant
    covid = out[(out.cls == "covid") & (out.group_b == "d")]
    assert covid.significant.all() and (covid.rank_biserial < -0.9).all()


def test_paired_posthoc_rank_biserial_is_one_for_a_uniform_shift_and_rejects_bad_input(paired):
    sub = paired[(paired.cls == "healthy") & paired.arch.isin(["a", "b"])].copy()
    # b above a on every image, by distinct amounts (no ties, so scipy uses the exact distribution)
    sub.loc[sub.arch == "b", "score"] = sub.loc[sub.arch == "a", "score"].to_numpy() + 0.1 + 0.01 * np.arange(25)
    out = xs.paired_posthoc(sub, "score", "arch", "image")
    assert out.rank_biserial.tolist() == [-1.0]
    # W = 0 (no positive difference): scipy's exact p for n = 25 is 2 / 2^25
    assert out.p.iloc[0] == pytest.approx(2 / 2 ** 25, rel=1e-9)
    with pytest.raises(ValueError, match="block of paired_posthoc must name a column"):
        xs.paired_posthoc(paired, "score", "arch", "img")
    with pytest.raises(ValueError, match="correction of paired_posthoc"):
        xs.paired_posthoc(paired, "score", "arch", "image", correction="holmes")


def test_seed_summary_averages_within_seed_then_t_interval_over_seeds():
    rng = np.random.default_rng(0)
    rows = []
    for arch in ("r18", "r50"):
        for seed in range(4):
            n = 10 + 5 * seed  # unequal image counts: a pooled mean would weight seeds unequally
            rows += [(arch, seed, v) for v in rng.normal(0.3 + 0.1 * (arch == "r50"), 0.1, n)]
    df = pd.DataFrame(rows, columns=["arch", "seed", "score"])
    df.loc[0, "score"] = np.nan
    out = xs.seed_summary(df, "score", "arch")
    for row in out.itertuples():
        means = df[df.arch == row.arch].dropna().groupby("seed")["score"].mean().to_numpy()
        low, high = ss.t.interval(0.95, len(means) - 1, loc=means.mean(), scale=ss.sem(means))
        assert row.n_seeds == 4 and row.mean == pytest.approx(means.mean(), rel=1e-12)
        assert row.sd == pytest.approx(means.std(ddof=1), rel=1e-12)
        assert (row.low, row.high) == pytest.approx((low, high), rel=1e-12)
    assert out.n_nan.tolist() == [1, 0] and out.n_obs.tolist() == [4 * 10 + 30 - 1, 4 * 10 + 30]
    one = xs.seed_summary(df[df.seed == 0], "score", "arch")
    assert one.n_seeds.tolist() == [1, 1] and one.low.isna().all() and one.sd.isna().all()
    with pytest.raises(ValueError, match="seed of seed_summary must name a column"):
        xs.seed_summary(df, "score", "arch", seed="run")


@pytest.mark.parametrize("verdicts,status,verdict", [
    ({0: "differs", 1: "differs", 2: "differs"}, "replicated", "differs"),
    (pd.Series([False, False, False], index=[3, 4, 5]), "replicated", False),
    ({0: True, 1: False, 2: True}, "flips", None),
    ({0: True, 1: True, 2: None}, "too few seeds", None),
])
def test_replicated_every_status(verdicts, status, verdict):
    out = xs.replicated(verdicts)
    assert out["status"] == status and out["verdict"] == verdict
    assert sum(out["counts"].values()) == out["n_seeds"] == len(verdicts) - out["n_missing"]


def test_replicated_rejects_a_list():
    with pytest.raises(ValueError, match="verdicts_by_seed of replicated must be a mapping"):
        xs.replicated([True, True, True])


def _interval(name_col, names, means, halfwidth, cls="covid"):
    return pd.DataFrame({"class": cls, name_col: names, "mean": means, "low": np.subtract(means, halfwidth),
                         "high": np.add(means, halfwidth)})


def test_localisation_verdicts_reach_every_branch_against_the_strongest_baseline():
    methods = pd.concat([
        _interval("method", ["mask_copy", "ig", "saliency", "constant"], [0.9, 0.42, 0.2, 0.0], 0.05),
        _interval("method", ["ig"], [0.5], 0.05, cls="unseen"),
    ])
    # sobel is the strongest (0.4); random's wide interval must not be the one compared with
    baselines = _interval("baseline", ["random", "sobel", "intensity", "evidence"], [0.17, 0.4, 0.3, 1.0],
                          [0.3, 0.02, 0.02, 0.0])  # the evidence mask is the ceiling, never the baseline
    out = xs.localisation_verdicts(methods, baselines, by="class")
    assert out.verdict.tolist() == ["localises", "inconclusive", "below baseline", "below baseline", "no baseline"]
    assert out.strongest_baseline.tolist()[:4] == ["sobel"] * 4 and pd.isna(out.strongest_baseline.iloc[4])
    assert out.margin.iloc[0] == pytest.approx(0.85 - 0.42)
    assert set(out.verdict) <= set(xs.LOCALISATION_VERDICTS)


@pytest.mark.parametrize("accs,verdict,eligible,flagged", [
    ({"r18": [0.95, 0.96, 0.97], "r101": [0.93, 0.94, 0.95]}, "parity", ["r18", "r101"], []),
    ({"r18": [0.99, 0.99, 0.99], "r101": [0.91, 0.92, 0.91]}, "accuracy gap", ["r18", "r101"], []),
    ({"r18": [0.95, 0.96, 0.97], "r34": [0.95, 0.95, 0.95], "r101": [0.95, 0.89, 0.97]}, "parity",
     ["r18", "r34"], ["r101"]),
    ({"r18": [0.95, 0.96, 0.97], "r101": [0.95, 0.89, 0.97]}, "too few models", ["r18"], ["r101"]),
])
def test_accuracy_parity_every_branch(accs, verdict, eligible, flagged):
    perf = pd.DataFrame([(a, s, v) for a, vals in accs.items() for s, v in enumerate(vals)],
                        columns=["arch", "seed", "accuracy"])
    out = xs.accuracy_parity(perf)
    assert out["verdict"] == verdict and out["allow_claims"] == (verdict == "parity")
    assert out["eligible"] == eligible and out["flagged"] == flagged
    means = {a: np.mean(v) for a, v in accs.items() if a in eligible}
    if len(means) > 1:
        assert out["gap"] == pytest.approx(max(means.values()) - min(means.values()))


def test_accuracy_parity_needs_a_seed_column_for_repeated_models():
    perf = pd.DataFrame({"arch": ["r18", "r18"], "accuracy": [0.9, 0.95]})
    with pytest.raises(ValueError, match="name the seed column"):
        xs.accuracy_parity(perf, seed=None)


def test_depth_effect_verdicts_from_friedman_per_seed_reach_every_branch():
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(3):
        for depth_i, depth in enumerate((18, 34, 50, 101)):
            for image in range(20):
                # cell 'shifted': deeper is lower in every seed; cell 'null': no depth effect;
                # cell 'weak': an effect only in seed 0
                rows.append(("shifted", seed, depth, image, rng.normal(-0.5 * depth_i, 0.2)))
                rows.append(("null", seed, depth, image, rng.normal(0.0, 1.0)))
                rows.append(("weak", seed, depth, image, rng.normal(-0.5 * depth_i * (seed == 0), 0.2)))
    df = pd.DataFrame(rows, columns=["cell", "seed", "depth", "image", "score"])
    fr = xs.friedman(df, "score", "depth", "image", by=["cell", "seed"])
    out = xs.depth_effect_verdicts(fr, by="cell").set_index("cell")
    expected_null = "no difference in any seed" if (fr[fr.cell == "null"].p >= 0.05).all() else "flips between seeds"
    assert out.loc["shifted", "verdict"] == "differs in every seed" and out.loc["shifted", "n_significant"] == 3
    assert out.loc["null", "verdict"] == expected_null == "no difference in any seed"
    assert out.loc["weak", "verdict"] == "flips between seeds" and out.loc["weak", "seeds_significant"] == [0]
    few = xs.depth_effect_verdicts(fr[fr.seed < 2], by="cell")
    assert (few.verdict == "too few seeds").all()
    blocked = xs.depth_effect_verdicts(fr, by="cell", parity={"allow_claims": False})
    assert (blocked.verdict == "not assessed").all()
    assert set(out.verdict) | set(few.verdict) | set(blocked.verdict) <= set(xs.DEPTH_VERDICTS)
    with pytest.raises(ValueError, match="repeats a seed"):
        xs.depth_effect_verdicts(pd.concat([fr, fr]), by="cell")
