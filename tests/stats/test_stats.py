"""xaikit.stats equals scipy.stats (and statsmodels, when installed) on the same data."""
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as ss

import xaikit.stats as xs

ARCHS = ["resnet18", "resnet34", "resnet50", "resnet101"]


@pytest.fixture
def table5():
    """Paper 003's layout: metric x class x method cells, 4 archs, per-image scores, some NaN."""
    rng = np.random.default_rng(0)
    rows = []
    for metric in ("rra", "par"):
        for cls, n in (("covid", 29), ("healthy", 14)):
            for method in ("saliency", "gradshap", "ig"):
                for j, arch in enumerate(ARCHS):
                    for img in range(n):
                        shift = 0.02 * j * (method == "saliency")
                        rows.append((metric, cls, method, arch, img, rng.beta(2, 8) + shift))
    df = pd.DataFrame(rows, columns=["metric", "cls", "method", "arch", "image", "score"])
    df.loc[[3, 500], "score"] = np.nan
    return df


def test_kruskal_twelve_cells_equal_scipy(table5):
    out = xs.kruskal(table5, value="score", group="arch", by=["metric", "cls", "method"])
    assert len(out) == 12
    for _, row in out.iterrows():
        sub = table5[(table5.metric == row.metric) & (table5.cls == row.cls) & (table5.method == row.method)]
        groups = [sub.loc[sub.arch == a, "score"].dropna().to_numpy() for a in sorted(ARCHS)]
        h, p = ss.kruskal(*groups)
        assert row.statistic == pytest.approx(h, rel=1e-12) and row.p == pytest.approx(p, rel=1e-12)
        assert row.n == sum(map(len, groups)) and row.dof == 3
        assert row.epsilon_squared == pytest.approx(h / (row.n - 1))
    assert out.n_nan.sum() == 2


def test_pairwise_mannwhitney_bonferroni_equals_scipy(table5):
    out = xs.pairwise_mannwhitney(table5, value="score", group="arch", by=["metric", "cls", "method"],
                                  correction="bonferroni")
    assert len(out) == 12 * 6
    cell = out[(out.metric == "rra") & (out.cls == "covid") & (out.method == "saliency")]
    sub = table5[(table5.metric == "rra") & (table5.cls == "covid") & (table5.method == "saliency")]
    for _, row in cell.iterrows():
        x = sub.loc[sub.arch == row.group_a, "score"].dropna().to_numpy()
        y = sub.loc[sub.arch == row.group_b, "score"].dropna().to_numpy()
        u, p = ss.mannwhitneyu(x, y, alternative="two-sided")
        assert row.statistic == u and row.p == pytest.approx(p, rel=1e-12)
        assert row.p_adj == pytest.approx(min(1.0, 6 * p), rel=1e-12)
        assert row.cliffs_delta == pytest.approx(2 * u / (len(x) * len(y)) - 1)
        assert (row.n_a, row.n_b) == (len(x), len(y))


def _naive_holm(p):
    m, order = len(p), np.argsort(p)
    adj, running = np.empty(m), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj


def _naive_bh(p):
    m = len(p)
    return np.array([min(1.0, min(m * p[j] / (np.sum(p <= p[j])) for j in range(m) if p[j] >= p[i]))
                     for i in range(m)])


def test_corrections_equal_naive_formulas_and_statsmodels():
    rng = np.random.default_rng(1)
    p = rng.random(20) ** 3
    np.testing.assert_allclose(xs.adjust_pvalues(p, "holm"), _naive_holm(p))
    np.testing.assert_allclose(xs.adjust_pvalues(p, "bh"), _naive_bh(p))
    np.testing.assert_allclose(xs.adjust_pvalues(p, "bonferroni"), np.minimum(1, 20 * p))
    q = p.copy()
    q[[2, 7]] = np.nan  # NaN stays NaN and leaves the family
    np.testing.assert_allclose(xs.adjust_pvalues(q, "holm")[~np.isnan(q)], _naive_holm(q[~np.isnan(q)]))
    try:
        from statsmodels.stats.multitest import multipletests
    except ImportError:
        pytest.skip("statsmodels not installed; compared with naive formulas only")
    for ours, theirs in (("bonferroni", "bonferroni"), ("holm", "holm"), ("bh", "fdr_bh")):
        np.testing.assert_allclose(xs.adjust_pvalues(p, ours), multipletests(p, method=theirs)[1], rtol=1e-12)


def _paired_frame(rng, n=25, groups=("a", "b", "c")):
    base = rng.normal(size=n)
    rows = [(g, i, base[i] + 0.3 * j + rng.normal(scale=0.5)) for j, g in enumerate(groups) for i in range(n)]
    return pd.DataFrame(rows, columns=["model", "rep", "f1"])


def test_paired_ttest_wilcoxon_friedman_equal_scipy():
    rng = np.random.default_rng(2)
    df = _paired_frame(rng)
    df.loc[5, "f1"] = np.nan  # pair 5 of group a is incomplete
    wide = df.pivot(index="rep", columns="model", values="f1")
    t = xs.paired_ttest(df, "f1", "model", pair="rep")
    w = xs.wilcoxon(df, "f1", "model", pair="rep", correction="holm")
    for (_, rt), (_, rw), (ga, gb) in zip(t.iterrows(), w.iterrows(), combinations("abc", 2), strict=True):
        ok = wide[[ga, gb]].dropna()
        st = ss.ttest_rel(ok[ga], ok[gb])
        sw = ss.wilcoxon(ok[ga], ok[gb])
        assert rt.statistic == pytest.approx(st.statistic) and rt.p == pytest.approx(st.pvalue)
        assert rw.statistic == pytest.approx(sw.statistic) and rw.p == pytest.approx(sw.pvalue)
        assert rt.n == len(ok) and rt.n_nan == (1 if ga == "a" else 0)
    np.testing.assert_allclose(w.p_adj, xs.adjust_pvalues(w.p, "holm"))
    f = xs.friedman(df, "f1", "model", pair="rep")
    chi2, p = ss.friedmanchisquare(*wide.dropna().to_numpy().T)
    assert f.statistic[0] == pytest.approx(chi2) and f.p[0] == pytest.approx(p) and f.n[0] == 24


def test_cliffs_delta_matches_pair_count():
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 5, 30), rng.integers(0, 5, 20)
    naive = np.mean([np.sign(a - b) for a in x for b in y])
    assert xs.cliffs_delta(x, y) == pytest.approx(naive)


def test_bootstrap_patient_level_and_reproducible():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"score": rng.random(60), "patient": np.repeat(np.arange(12), 5),
                       "arch": np.tile(["r18", "r50"], 30)})
    a = xs.bootstrap_ci(df, "score", by="arch", cluster="patient", n_boot=300, seed=7)
    b = xs.bootstrap_ci(df, "score", by="arch", cluster="patient", n_boot=300, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.arch) == ["r18", "r50"] and (a.low < a.estimate).all() and (a.estimate < a.high).all()
    assert (a.n_clusters == 12).all()
    # image-level: the percentile interval of a mean agrees with scipy's percentile bootstrap
    x = df.score.to_numpy()
    ours = xs.bootstrap_ci(df, "score", n_boot=4000, seed=1)
    ref = ss.bootstrap((x,), np.mean, n_resamples=4000, method="percentile", rng=np.random.default_rng(1))
    assert ours.low[0] == pytest.approx(ref.confidence_interval.low, abs=0.01)
    assert ours.high[0] == pytest.approx(ref.confidence_interval.high, abs=0.01)


def test_nan_policy_and_bad_arguments(table5):
    with pytest.raises(ValueError, match="nan_policy='raise'"):
        xs.kruskal(table5, "score", "arch", nan_policy="raise")
    out = xs.kruskal(table5, "score", "arch", by="metric", nan_policy="propagate")
    assert out.statistic.isna().any()
    with pytest.raises(ValueError, match="group of kruskal must name a column.*'arch'"):
        xs.kruskal(table5, "score", "archs")
    with pytest.raises(ValueError, match="correction.*Did you mean 'holm'"):
        xs.pairwise_mannwhitney(table5, "score", "arch", correction="holms")
    with pytest.raises(ValueError, match="value of kruskal must name a numeric column"):
        xs.kruskal(table5, "arch", "metric")
