"""INFORMER kernels against oracles: naive loops, a threshold example worked by hand, scipy."""
import numpy as np
import pytest
import torch
from scipy.stats import ttest_rel

from xaikit.qc import (
    EntropyMonitor,
    Informer,
    TTAMonitor,
    apply_flags,
    bootstrap_indices,
    bootstrap_qc,
    class_distinctiveness,
    error_detection,
    f1_after_action,
    predictive_entropy,
    qc_metrics,
    qc_ttests,
    search_threshold,
    tta_logits,
    tta_uncertainty,
)


def naive_distinctiveness(maps):
    """d_i = sum_{j != i} (1 - cos(S_i, S_j)), one image and one pair at a time (paper 002, eq. 1)."""
    n, k = maps.shape[:2]
    d = np.zeros((n, k))
    for a in range(n):
        for i in range(k):
            for j in range(k):
                if i == j:
                    continue
                si, sj = maps[a, i].ravel(), maps[a, j].ravel()
                d[a, i] += 1 - float(si @ sj) / (np.linalg.norm(si) * np.linalg.norm(sj))
    return d


def naive_f1(y, p):
    tp = int(((y == 1) & (p == 1)).sum())
    fp = int(((y == 0) & (p == 1)).sum())
    fn = int(((y == 1) & (p == 0)).sum())
    return 0.0 if 2 * tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


# --- class distinctiveness -------------------------------------------------------------------------------

def test_batched_distinctiveness_equals_naive_loop():
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(7, 5, 1, 6, 6))
    d, pair = class_distinctiveness(maps, return_pairwise=True)
    np.testing.assert_allclose(d, naive_distinctiveness(maps[:, :, 0]), rtol=1e-12, atol=1e-12)
    assert d.shape == (7, 5) and (d >= 0).all() and (d <= 8).all()
    np.testing.assert_allclose(pair, pair.transpose(0, 2, 1))  # d_ij = d_ji
    # torch input on the same numbers, float32: same result to float32 precision
    np.testing.assert_allclose(class_distinctiveness(torch.from_numpy(maps).float()), d, rtol=1e-5)


def test_distinctiveness_channels_and_sign():
    rng = np.random.default_rng(1)
    maps = rng.normal(size=(3, 4, 3, 5, 5))
    np.testing.assert_allclose(class_distinctiveness(maps), naive_distinctiveness(maps.sum(2)), rtol=1e-12)
    np.testing.assert_allclose(class_distinctiveness(maps, channels="none"), naive_distinctiveness(maps), rtol=1e-12)
    np.testing.assert_allclose(class_distinctiveness(maps, sign="absolute"),
                               naive_distinctiveness(np.abs(maps.sum(2))), rtol=1e-12)
    # cosine is scale-invariant: dividing each map by its max |S| changes nothing
    scaled = maps / np.abs(maps).max(axis=(2, 3, 4), keepdims=True)
    np.testing.assert_allclose(class_distinctiveness(scaled), class_distinctiveness(maps), rtol=1e-10)


def test_distinctiveness_analytic_cases():
    e = np.eye(5)[None]  # five orthogonal maps: every d_ij = 1, d_i = 4
    np.testing.assert_allclose(class_distinctiveness(e), np.full((1, 5), 4.0))
    same = np.ones((1, 5, 8))  # identical maps: d = 0
    np.testing.assert_allclose(class_distinctiveness(same), np.zeros((1, 5)), atol=1e-12)
    opposite = np.array([[[1.0, 2.0], [-1.0, -2.0]]])  # antiparallel: d = 2 (the maximum per pair)
    np.testing.assert_allclose(class_distinctiveness(opposite), [[2.0, 2.0]])


def test_zero_norm_maps():
    maps = np.array([[[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]])
    d = class_distinctiveness(maps)  # the zero map is orthogonal to everything
    c = 1 - 1 / np.sqrt(2)
    np.testing.assert_allclose(d, [[1 + c, 2.0, 1 + c]])
    assert np.isnan(class_distinctiveness(maps, zero_norm="nan")).all()
    with pytest.raises(ValueError, match=r"all-zero maps .*\[\[0, 1\]\]"):
        class_distinctiveness(maps, zero_norm="raise")


@pytest.mark.parametrize("bad,match", [(np.ones((2, 1, 4)), "K >= 2"), (np.full((1, 2, 3), np.nan), "NaN"),
                                       (np.ones(4), "shape")])
def test_distinctiveness_rejects_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        class_distinctiveness(bad)


def test_distinctiveness_bad_option_suggests():
    with pytest.raises(ValueError, match="Did you mean 'absolute'"):
        class_distinctiveness(np.ones((1, 2, 3)), sign="absolut")


# --- acting on flags -----------------------------------------------------------------------------------

def test_flip_defer_abstain_semantics():
    truth = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    pred = np.array([[1, 1], [0, 0], [0, 1], [1, 0]])
    flags = np.array([[True, True], [True, False], [True, False], [False, True]])
    flipped = apply_flags(pred, flags)
    np.testing.assert_array_equal(flipped, [[0, 0], [1, 0], [1, 1], [1, 1]])
    deferred = apply_flags(pred, flags, action="defer", y_true=truth)
    np.testing.assert_array_equal(deferred, [[1, 0], [0, 0], [1, 1], [1, 0]])
    abstained = apply_flags(pred, flags, action="abstain")
    np.testing.assert_array_equal(abstained, [[-1, -1], [-1, 0], [-1, 1], [1, -1]])
    # unflagged predictions never change; deferring never makes a flagged one wrong
    for out in (flipped, deferred, abstained):
        np.testing.assert_array_equal(out[~flags], pred[~flags])
    assert (deferred[flags] == truth[flags]).all()
    # abstained entries leave the counts: class 0 keeps only image 3 (a false positive)
    m = qc_metrics(truth, abstained).set_index("class")
    assert (m.loc["0", ["tp", "fp", "fn", "tn"]].tolist() == [0, 1, 0, 0]) and m.loc["0", "coverage"] == 0.25
    with pytest.raises(ValueError, match="needs y_true"):
        apply_flags(pred, flags, action="defer")
    with pytest.raises(ValueError, match="Did you mean 'flip'"):
        apply_flags(pred, flags, action="flp")
    with pytest.raises(ValueError, match="shape"):
        apply_flags(pred, flags[:2])


@pytest.mark.parametrize("action", ["flip", "defer", "abstain"])
def test_cumulative_f1_equals_acting_then_counting(action):
    rng = np.random.default_rng(3)
    y, p = rng.integers(0, 2, 30), rng.integers(0, 2, 30)
    order = rng.permutation(30)
    curve = f1_after_action(y, p, order, action)
    for m in range(31):
        flags = np.zeros(30, bool)
        flags[order[:m]] = True
        after = apply_flags(p, flags, action=action, y_true=y).ravel()
        kept = after >= 0
        assert curve[m] == pytest.approx(naive_f1(y[kept], after[kept]))


# --- threshold search ----------------------------------------------------------------------------------

def test_threshold_search_worked_example():
    """Six validation predictions of one class, scores d, flag d < tau, flip; worked by hand.

    i   d     y  pred  outcome
    0  0.30   1   0    FN
    1  0.80   0   1    FP
    2  1.50   1   1    TP
    3  2.20   0   0    TN
    4  0.95   1   0    FN
    5  2.60   1   1    TP
    No QC: TP 2, FP 1, FN 2 -> F1 = 4 / 7 = 0.5714.
    Ascending d: 0 (FN), 1 (FP), 4 (FN), 2 (TP), 3 (TN), 5 (TP). Flipping the first m:
    m=1: FN->TP: TP 3 FP 1 FN 1 -> 6/8 = 0.75
    m=2: FP->TN: TP 3 FP 0 FN 1 -> 6/7 = 0.857
    m=3: FN->TP: TP 4 FP 0 FN 0 -> 1.0      <- best: tau in (0.95, 1.50], smallest grid point 0.951
    m=4: TP->FN: TP 3 FP 0 FN 1 -> 0.857
    """
    d = [0.30, 0.80, 1.50, 2.20, 0.95, 2.60]
    y = [1, 0, 1, 0, 1, 1]
    p = [0, 1, 1, 0, 0, 1]
    r = search_threshold(d, y, p, direction="below", step=0.001)
    assert r.threshold == pytest.approx(0.951)
    assert r.n_flagged == 3
    assert r.f1_before == pytest.approx(4 / 7) and r.f1_after == 1.0
    # the grid: 0 to past max d in steps of 0.001, and the F1 curve at hand-checked points
    assert r.grid[0] == 0 and r.grid[-1] >= 2.6 and np.allclose(np.diff(r.grid), 0.001)
    at = dict(zip(np.round(r.grid, 3), r.f1_grid, strict=True))
    assert at[0.3] == pytest.approx(4 / 7) and at[0.5] == pytest.approx(0.75) and at[0.9] == pytest.approx(6 / 7)
    # "above" on the same data: flagging the top of d only hurts, so the best is to flag nothing
    r_above = search_threshold(d, y, p, direction="above", step=0.001)
    assert r_above.n_flagged == 0 and r_above.f1_after == pytest.approx(4 / 7)
    auto = search_threshold(d, y, p, direction="auto", prefer="above")
    assert auto.direction == "below" and auto.threshold == pytest.approx(0.951)


def test_threshold_search_never_lowers_validation_f1_and_matches_brute_force():
    rng = np.random.default_rng(5)
    for _ in range(20):
        n = int(rng.integers(5, 40))
        s = np.round(rng.random(n) * 3, 2)  # ties on purpose
        y, p = rng.integers(0, 2, n), rng.integers(0, 2, n)
        for direction in ("below", "above"):
            r = search_threshold(s, y, p, direction=direction, step=0.01)
            assert r.f1_after >= r.f1_before - 1e-12
            brute = max(naive_f1(y, apply_flags(p, (s < t) if direction == "below" else (s > t)).ravel())
                        for t in r.grid)
            assert r.f1_after == pytest.approx(brute)
            flags = (s < r.threshold) if direction == "below" else (s > r.threshold)
            assert flags.sum() == r.n_flagged
            assert naive_f1(y, apply_flags(p, flags).ravel()) == pytest.approx(r.f1_after)


@pytest.mark.parametrize("kwargs,match", [(dict(scores=[np.nan, 1.0]), "NaN"), (dict(y_pred=[0, 2]), "0/1"),
                                          (dict(direction="up"), "direction"), (dict(step=0.0), "step")])
def test_threshold_search_rejects_bad_input(kwargs, match):
    args = dict(scores=[0.5, 1.0], y_true=[0, 1], y_pred=[1, 1])
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        search_threshold(args.pop("scores"), args.pop("y_true"), args.pop("y_pred"), **args)


# --- monitors ------------------------------------------------------------------------------------------

def _toy(seed=0, n=60, k=5):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, (n, k))
    pred = np.where(rng.random((n, k)) < 0.75, y, 1 - y)
    return rng, y, pred


def test_informer_monitor_fit_flag_apply_on_precomputed_maps():
    rng, y, pred = _toy()
    maps = rng.normal(size=(60, 5, 1, 4, 4))
    mon = Informer(direction="below")
    with pytest.raises(ValueError, match="not fitted"):
        mon.flag(maps=maps)
    mon.fit(y, pred, maps=maps)
    d = class_distinctiveness(maps)
    np.testing.assert_array_equal(mon.score(maps=maps), d)
    flags = mon.flag(maps=maps)
    np.testing.assert_array_equal(flags, d < mon.thresholds_)
    after = mon.apply(pred, flags)
    for c in range(5):
        assert naive_f1(y[:, c], after[:, c]) == pytest.approx(mon.val_f1_after_[c])
        assert mon.val_f1_after_[c] >= naive_f1(y[:, c], pred[:, c])
    # precomputed scores give the same thresholds as maps
    same = Informer(direction="below").fit(y, pred, scores=d)
    np.testing.assert_array_equal(same.thresholds_, mon.thresholds_)
    assert "Informer(" in repr(mon) and "thresholds_" not in repr(mon)


def test_informer_monitor_from_model_equals_class_maps_pipeline():
    from xaikit.explain import class_maps

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 36, 5))
    x = torch.rand(12, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    mon = Informer("input_x_gradient", batch_size=5)
    expected = class_distinctiveness(class_maps(model, x, method="input_x_gradient"))
    np.testing.assert_allclose(mon.score(model, x), expected, rtol=1e-6)
    # a naive per-class Input x Gradient loop gives the same maps
    naive = []
    for c in range(5):
        xi = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(model(xi)[:, c].sum(), xi)
        naive.append((g * x).detach())
    np.testing.assert_allclose(mon.score(maps=torch.stack(naive, 1)), expected, rtol=1e-5, atol=1e-6)


def test_entropy_equals_eq2_and_monitor_flags_high_entropy():
    z = np.array([[-3.0, 0.0, 0.4, 8.0, -40.0]])
    p = 1 / (1 + np.exp(-z))
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.nan_to_num(-p * np.log2(p) - (1 - p) * np.log2(1 - p))
    np.testing.assert_allclose(predictive_entropy(z), h, atol=1e-12)
    _, y, pred = _toy(1, 80, 2)
    logits = np.random.default_rng(2).normal(size=(80, 2))
    mon = EntropyMonitor(direction="above").fit(y, pred, logits=logits)
    np.testing.assert_array_equal(mon.flag(logits=logits), predictive_entropy(logits) > mon.thresholds_)


def test_tta_is_batched_seeded_and_equals_a_per_copy_loop():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 3))
    x = torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    z = tta_logits(model, x, n_copies=4, seed=3, batch_size=8)  # 2 images x 4 copies per pass
    assert z.shape == (5, 4, 3)
    torch.testing.assert_close(z, tta_logits(model, x, n_copies=4, seed=3, batch_size=8))
    assert not torch.equal(z, tta_logits(model, x, n_copies=4, seed=4, batch_size=8))
    s = tta_uncertainty(logits=z)
    np.testing.assert_allclose(s, z.double().numpy().std(axis=1), rtol=1e-12)
    # identity augmentation: every copy equals the plain forward pass, so the spread is 0
    from xaikit.train import Augment

    flat = tta_uncertainty(model, x, n_copies=3, augment=Augment())
    np.testing.assert_allclose(flat, 0.0, atol=1e-6)
    mon = TTAMonitor(n_copies=4, seed=3, batch_size=8)
    np.testing.assert_allclose(mon.score(model, x), s, rtol=1e-6)


def test_monitor_rejects_bad_settings_and_shapes():
    _, y, pred = _toy()
    with pytest.raises(ValueError, match="Did you mean 'below'"):
        Informer(direction="belo").fit(y, pred, scores=np.ones((60, 5)))
    with pytest.raises(ValueError, match=r"shape \(60, 5\)"):
        Informer().fit(y[:, :3], pred, scores=np.ones((60, 5)))
    with pytest.raises(ValueError, match="needs precomputed maps"):
        Informer().score()
    mon = EntropyMonitor().fit(y, pred, scores=np.random.default_rng(0).random((60, 5)))
    with pytest.raises(ValueError, match="5"):
        mon.flag(scores=np.ones((3, 2)))


# --- evaluation ----------------------------------------------------------------------------------------

def test_bootstrap_equals_a_naive_resampling_loop():
    rng, y, pred = _toy(7, 40, 3)
    other = np.where(rng.random((40, 3)) < 0.9, y, 1 - y)
    boot = bootstrap_qc(y, {"a": pred, "b": other}, n_sets=30, seed=11)
    assert boot["set"].nunique() == 30 and len(boot) == 30 * 2 * 4
    idx = np.random.default_rng(11).integers(0, 40, size=(30, 40))  # the same draws, by hand
    np.testing.assert_array_equal(bootstrap_indices(40, 30, seed=11), idx)
    for b in (0, 17, 29):
        for name, p in (("a", pred), ("b", other)):
            f1 = [naive_f1(y[idx[b], c], p[idx[b], c]) for c in range(3)]
            got = boot[(boot["set"] == b) & (boot["method"] == name)].set_index("class")["f1"]
            np.testing.assert_allclose(got[["0", "1", "2"]], f1)
            assert got["mean"] == pytest.approx(np.mean(f1))


def test_f1_table_equals_sklearn():
    from sklearn.metrics import f1_score, recall_score

    _, y, pred = _toy(9, 50, 4)
    m = qc_metrics(y, pred)
    np.testing.assert_allclose(m["f1"][:4], f1_score(y, pred, average=None, zero_division=0))
    np.testing.assert_allclose(m["sensitivity"][:4], recall_score(y, pred, average=None, zero_division=0))
    np.testing.assert_allclose(m["specificity"][:4], recall_score(1 - y, 1 - pred, average=None, zero_division=0))
    assert m["f1"].iloc[-1] == pytest.approx(f1_score(y, pred, average="macro", zero_division=0))


def test_ttests_equal_scipy_ttest_rel():
    rng, y, pred = _toy(13, 60, 5)
    preds = {"informer": pred, "entropy": np.where(rng.random((60, 5)) < 0.85, pred, 1 - pred),
             "tta": np.where(rng.random((60, 5)) < 0.85, pred, 1 - pred)}
    boot = bootstrap_qc(y, preds, n_sets=30, seed=0)
    tests = qc_ttests(boot, ["informer"], ["entropy", "tta"])
    wide = boot[boot["class"] == "mean"].pivot(index="set", columns="method", values="f1")
    for _, row in tests.iterrows():
        t, p = ttest_rel(wide["informer"], wide[row["baseline"]])
        assert row["t"] == pytest.approx(t) and row["p"] == pytest.approx(p) and row["n"] == 30
    same = qc_ttests(bootstrap_qc(y, {"a": pred, "b": pred}, n_sets=5), ["a"], ["b"])
    assert np.isnan(same["p"].iloc[0]) and same["stars"].iloc[0] == "n/a"
    with pytest.raises(ValueError, match="not in the bootstrap table"):
        qc_ttests(boot, ["lrp"], ["entropy"])


def test_error_detection_auroc_and_bins():
    s = np.array([[0.1], [0.2], [0.3], [0.9]])
    y = np.array([[0], [0], [1], [1]])
    p = np.array([[0], [0], [0], [0]])  # wrong where y == 1: the two highest scores
    auc, bins = error_detection(s, y, p, n_bins=2)
    assert auc["auroc"].iloc[0] == 1.0 and bins["error_rate"].tolist() == [0.0, 1.0]
    auc_b, _ = error_detection(s, y, p, direction="below", n_bins=2)
    assert auc_b["auroc"].iloc[0] == 0.0
