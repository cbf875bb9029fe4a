"""Atlas metrics: map agreement, random-pair floor, ROAD and max-sensitivity, against oracles and Quantus."""
import warnings

import numpy as np
import pytest
import torch
from scipy import stats as ss

import xaikit.metrics as xm


def _naive_top_k_iou(a, b, k):
    ta = set(np.argsort(-a.ravel(), kind="stable")[:k])
    tb = set(np.argsort(-b.ravel(), kind="stable")[:k])
    return len(ta & tb) / len(ta | tb)


def test_top_k_iou_equals_a_set_oracle_and_the_independent_expectation():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 1, 10, 10))
    b = 0.5 * a + rng.normal(size=a.shape)
    got = xm.top_k_iou(torch.from_numpy(a), torch.from_numpy(b), k=20).numpy()
    assert got.tolist() == [_naive_top_k_iou(x, y, 20) for x, y in zip(a, b, strict=True)]
    assert xm.top_k_iou(torch.from_numpy(a), torch.from_numpy(b), k=0.2).tolist() == got.tolist()  # 0.2 * 100
    # independent maps: the shared count is hypergeometric, E[i] = k^2 / P = 4 of k = 20, P = 100;
    # the mean IoU of 400 pairs must lie within 4 Monte-Carlo standard errors of E[i / (2k - i)]
    c = rng.normal(size=a.shape)
    indep = xm.top_k_iou(torch.from_numpy(a), torch.from_numpy(c), k=20).numpy()
    i = np.arange(0, 21)
    pmf = ss.hypergeom(100, 20, 20).pmf(i)
    iou = i / (40 - i)
    mean, sd = (pmf * iou).sum(), np.sqrt((pmf * (iou - (pmf * iou).sum()) ** 2).sum())
    assert abs(indep.mean() - mean) < 4 * sd / np.sqrt(len(indep))


def test_top_k_iou_edge_cases_and_errors():
    a = torch.arange(16.0).view(1, 1, 4, 4)
    assert xm.top_k_iou(a, a, k=16).item() == 1.0 and xm.top_k_iou(a, -a, k=8).item() == 0.0
    ties = torch.zeros(1, 1, 4, 4)  # all tied: ascending flat index, the same set for both
    assert xm.top_k_iou(ties, ties, k=3).item() == 1.0
    for k in (0, 17, 0.0, 1.5, True):
        with pytest.raises(ValueError, match="k of top_k_iou"):
            xm.top_k_iou(a, a, k=k)
    with pytest.raises(ValueError, match="other of top_k_iou must have the shape"):
        xm.top_k_iou(a, a[..., :2], k=1)


def test_map_agreement_dispatch_and_agreement_table():
    rng = np.random.default_rng(1)
    maps = {f"seed{s}": torch.from_numpy(rng.normal(size=(3, 1, 8, 8))) for s in range(3)}
    table = xm.agreement_table(maps, k=10, sign="absolute")
    assert len(table) == 3 * 3 * 3 and table[["map_a", "map_b"]].drop_duplicates().values.tolist() == [
        ["seed0", "seed1"], ["seed0", "seed2"], ["seed1", "seed2"]]
    row = table[(table.map_a == "seed0") & (table.map_b == "seed2") & (table.measure == "spearman")]
    a, b = maps["seed0"].abs().numpy().reshape(3, -1), maps["seed2"].abs().numpy().reshape(3, -1)
    assert row.score.to_numpy() == pytest.approx([ss.spearmanr(x, y)[0] for x, y in zip(a, b, strict=True)],
                                                 rel=1e-12)
    iou = table[(table.map_a == "seed1") & (table.map_b == "seed2") & (table.measure == "top_k_iou")]
    assert iou.score.tolist() == [_naive_top_k_iou(x, y, 10) for x, y in
                                  zip(maps["seed1"].abs().numpy(), maps["seed2"].abs().numpy(), strict=True)]
    with pytest.raises(ValueError, match="measure of map_agreement"):
        xm.map_agreement(a, b, measure="iou")
    with pytest.raises(ValueError, match="maps of agreement_table"):
        xm.agreement_table({"one": maps["seed0"]})


def test_random_pair_similarity_draws_distinct_pairs_as_documented():
    rng = np.random.default_rng(2)
    a = torch.from_numpy(rng.normal(size=(5, 1, 9, 9)))
    got = xm.random_pair_similarity(a, n_pairs=30, measure="ssim", seed=7)
    r = np.random.default_rng(7)
    i = r.integers(0, 5, size=30)
    j = (i + r.integers(1, 5, size=30)) % 5
    assert (i != j).all()
    assert got.tolist() == xm.ssim(a[i], a[j]).tolist()
    # identical maps: every pair scores 1, so nothing passes "below random-pair similarity"
    same = a[:1].expand(5, -1, -1, -1)
    assert xm.random_pair_similarity(same, measure="spearman").tolist() == [1.0] * 50
    with pytest.raises(ValueError, match="N >= 2"):
        xm.random_pair_similarity(a[:1])


# --------------------------------------------------------------------------- ROAD
def test_noisy_linear_imputation_equals_quantus_without_noise():
    from quantus.functions.perturb_func import noisy_linear_imputation as quantus_nli

    rng = np.random.default_rng(3)
    img = rng.random((2, 9, 11))
    for removed in (np.array([0, 5, 12, 13, 14, 98]), rng.choice(99, size=60, replace=False)):
        ours = xm.noisy_linear_imputation(img, removed, noise=0.0)
        theirs = quantus_nli(img.copy(), np.sort(removed), noise=0.0)
        assert ours == pytest.approx(theirs, abs=1e-12)
        keep = np.setdiff1d(np.arange(99), removed)
        assert ours.reshape(2, -1)[:, keep].tolist() == img.reshape(2, -1)[:, keep].tolist()


def test_noisy_linear_imputation_reproduces_a_linear_image_and_adds_the_stated_noise():
    yy, xx = np.mgrid[:12, :12].astype(float)
    ramp = (0.3 * yy + 0.1 * xx)[None]
    inner = (np.arange(2, 10)[:, None] * 12 + np.arange(2, 10)).ravel()  # away from the border
    assert xm.noisy_linear_imputation(ramp, inner, noise=0.0) == pytest.approx(ramp, abs=1e-10)
    noisy = xm.noisy_linear_imputation(ramp, inner, noise=0.5, rng=np.random.default_rng(0))
    resid = (noisy - ramp).ravel()[inner]
    # 64 draws of N(0, 0.5^2): the sample SD lies within 4 standard errors (0.5 / sqrt(2 * 63)) of 0.5
    assert abs(resid.std(ddof=1) - 0.5) < 4 * 0.5 / np.sqrt(2 * 63)
    with pytest.raises(ValueError, match="at least one pixel"):
        xm.noisy_linear_imputation(ramp, np.arange(144), noise=0.0)


class _Region(torch.nn.Module):
    """Logit of class 1 = mean brightness of a fixed region minus 0.5: a known evidence region."""

    def __init__(self, region):
        super().__init__()
        self.register_buffer("region", region)

    def forward(self, x):
        s = (x * self.region).sum(dim=(1, 2, 3)) / self.region.sum() - 0.5
        return torch.stack([-s, s], dim=1) * 20


def test_road_on_an_analytic_model_orders_the_evidence_map_above_its_inverse():
    region = torch.zeros(1, 1, 12, 12)
    region[..., 3:7, 3:7] = 1
    x = torch.full((4, 1, 12, 12), 0.2)
    x[..., 3:7, 3:7] = 0.9  # bright evidence: class 1
    model = _Region(region)
    good = region.expand(4, 1, 12, 12) + 0.01 * torch.rand(4, 1, 12, 12, generator=torch.Generator().manual_seed(0))
    fr = [0.0, 0.05, 0.2, 0.5]
    morf_good = xm.road(model, x, good, 1, fractions=fr, noise=0.0)
    morf_bad = xm.road(model, x, -good, 1, fractions=fr, noise=0.0)
    assert morf_good.scores[:, 0].tolist() == [1.0] * 4
    # removing the 16 evidence pixels (first 11 %) fills them from the 0.2 background: class 1 is lost
    assert morf_good.scores[:, 2:].eq(0).all() and morf_bad.scores.eq(1).all()
    assert (xm.curve_auc(*morf_good) < xm.curve_auc(*morf_bad)).all()
    lerf = xm.road(model, x, good, 1, fractions=fr, noise=0.0, order="lerf")
    assert lerf.scores.eq(1).all()
    prob = xm.road(model, x, good, 1, fractions=fr, noise=0.0, output="probability")
    assert prob.scores[:, 0] == pytest.approx(torch.sigmoid(torch.tensor(2 * 20 * 0.4)).double().expand(4))
    with pytest.raises(ValueError, match="fractions of road"):
        xm.road(model, x, good, 1, fractions=[0.5, 1.0])
    with pytest.raises(ValueError, match="order of road"):
        xm.road(model, x, good, 1, order="mif")


def test_road_equals_quantus_road_without_noise():
    import quantus

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(16, 3)).eval()
    x = torch.rand(6, 1, 10, 10, generator=torch.Generator().manual_seed(1))
    a = torch.randn(6, 1, 10, 10, generator=torch.Generator().manual_seed(2))  # continuous: no ties
    with torch.no_grad():
        y = model(x).argmax(1)
    pct = [0, 10, 30, 50, 70, 90]
    ours = xm.road(model, x, a, y, fractions=[p / 100 for p in pct], noise=0.0, batch_size=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric = quantus.ROAD(percentages=pct, noise=0.0, abs=False, normalise=False, disable_warnings=True,
                              display_progressbar=False)
        theirs = metric(model=model, x_batch=x.numpy(), y_batch=y.numpy(), a_batch=a.numpy(), device="cpu")
    assert ours.scores.mean(dim=0).tolist() == pytest.approx([theirs[p] for p in pct], abs=1e-12)


# --------------------------------------------------------------------------- max-sensitivity
def _gradient(model, x, t):
    x = x.clone().requires_grad_(True)
    return torch.autograd.grad(model(x).gather(1, t[:, None]).sum(), x)[0]


class _Quadratic(torch.nn.Module):
    """Logit_k = sum(w_k * x^2): the gradient 2 w_k x changes by exactly 2 w_k delta under noise."""

    def __init__(self, w):
        super().__init__()
        self.w = torch.nn.Parameter(w)

    def forward(self, x):
        return (self.w[None] * x[:, None] ** 2).flatten(2).sum(-1)


def test_max_sensitivity_of_a_quadratic_model_equals_its_closed_form():
    w = torch.randn(2, 1, 6, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    model = _Quadratic(w)
    x = torch.rand(5, 1, 6, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    t = torch.tensor([0, 1, 0, 1, 1])
    got = xm.max_sensitivity(model, x, t, _gradient, radius=0.05, n_samples=7, seed=3, batch_size=4)
    delta = np.random.default_rng(3).uniform(-0.05, 0.05, size=(5, 7, 1, 6, 6))
    wt = w.numpy()[t.numpy()]  # (5, 1, 6, 6)
    change = np.linalg.norm((2 * wt[:, None] * delta).reshape(5, 7, -1), axis=2).max(axis=1)
    ref = np.linalg.norm((2 * wt * x.numpy()).reshape(5, -1), axis=1)
    assert got.numpy() == pytest.approx(change / ref, rel=1e-10)
    raw = xm.max_sensitivity(model, x, t, _gradient, radius=0.05, n_samples=7, seed=3, normalise=False)
    assert raw.numpy() == pytest.approx(change, rel=1e-10)
    linear = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(36, 2)).double()
    assert xm.max_sensitivity(linear, x, t, _gradient).eq(0).all()  # a constant gradient never moves


def test_max_sensitivity_equals_quantus_on_the_same_perturbations():
    import quantus

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.Softplus(), torch.nn.Flatten(),
                                torch.nn.Linear(3 * 64, 2)).eval()
    x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 1, 0])
    radius, n_samples, seed = 0.1, 5, 11
    delta = np.random.default_rng(seed).uniform(-radius, radius, size=(4, n_samples, 1, 8, 8)).astype(np.float32)
    step = iter(range(n_samples))

    def replay(arr, indices, **kwargs):  # Quantus's perturbation, fed with our draws
        return arr + delta[:, next(step)].reshape(arr.shape)

    def explain(model, inputs, targets, **kwargs):
        xt = torch.as_tensor(np.asarray(inputs)).float()
        return _gradient(model, xt, torch.as_tensor(np.asarray(targets)).long()).numpy()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric = quantus.MaxSensitivity(nr_samples=n_samples, perturb_func=replay, normalise=False, abs=False,
                                        disable_warnings=True, display_progressbar=False)
        theirs = metric(model=model, x_batch=x.numpy(), y_batch=y.numpy(), a_batch=explain(model, x.numpy(), y),
                        explain_func=explain, device="cpu", batch_size=4)
    ours = xm.max_sensitivity(model, x, y, _gradient, radius=radius, n_samples=n_samples, seed=seed)
    assert ours.numpy() == pytest.approx(np.asarray(theirs), rel=1e-5)


def test_max_sensitivity_rejects_bad_arguments():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    x = torch.rand(2, 1, 2, 2)
    with pytest.raises(ValueError, match="explain of max_sensitivity"):
        xm.max_sensitivity(model, x, 0, "saliency")
    with pytest.raises(ValueError, match="n_samples of max_sensitivity"):
        xm.max_sensitivity(model, x, 0, _gradient, n_samples=0)
    with pytest.raises(ValueError, match="radius of max_sensitivity"):
        xm.max_sensitivity(model, x, 0, _gradient, radius=-1.0)
