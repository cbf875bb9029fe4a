"""Agreement with quantus 0.6.0 (called for real, ``model=None``) and each deliberate difference.

Inputs are float64 so that differences are semantic, not rounding. Quantus rejects a batch that
is all zero or all negative (``assert_attributions`` looks at the whole batch), so all-zero and
negative maps appear inside mixed batches.
"""
import numpy as np
import pytest
import torch

import xaikit.metrics as xm

quantus = pytest.importorskip("quantus")
pytestmark = pytest.mark.filterwarnings("ignore")
H = W = 16


def _q(cls, a, s, **kw):
    kw.setdefault("disable_warnings", True)
    kw.setdefault("display_progressbar", False)
    metric = cls(**kw)
    x = np.zeros_like(a)
    y = np.zeros(len(a), dtype=int)
    return np.asarray(metric(model=None, x_batch=x, y_batch=y, a_batch=a.copy(), s_batch=s.copy(),
                             batch_size=len(a)), dtype=np.float64)


def _ours(fn, a, s, **kw):
    return fn(torch.from_numpy(a), torch.from_numpy(s), **kw).numpy()


def _batch(seed, n=24, kind="random"):
    """Maps (n, 1, H, W) float64 and masks (n, 1, H, W) float64 0/1 of several shapes."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 1, H, W))
    if kind == "blocky":  # nearest-upsampled 4x4 maps: 16 tie groups of 16 pixels
        a = np.kron(rng.integers(-3, 4, size=(n, 1, 4, 4)).astype(float), np.ones((4, 4)))
    s = np.zeros((n, 1, H, W))
    for i in range(n):
        y0, x0 = rng.integers(0, H - 2, size=2)
        y1, x1 = y0 + rng.integers(1, H - y0), x0 + rng.integers(1, W - x0)
        s[i, 0, y0:y1, x0:x1] = 1
    s[0, 0, 3, 5] = 0
    s[1] = 0
    s[1, 0, 7, 9] = 1  # single-pixel mask
    a[2] = -np.abs(a[2]) - 0.1  # a negative map
    if kind == "random":
        s[3, 0, 0, 0] = 1  # a mask touching the corner
    return a, s


SEEDS = [0, 1, 2]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("normalise", [True, False])
def test_rra_agrees_on_random_maps(seed, normalise):
    a, s = _batch(seed)
    q = _q(quantus.RelevanceRankAccuracy, a, s, normalise=normalise)
    np.testing.assert_allclose(_ours(xm.relevance_rank_accuracy, a, s, ties="first"), q, atol=1e-6, rtol=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_rra_ties_bounded_and_first_is_stable_argsort(seed):
    a, s = _batch(seed, kind="blocky")
    q = _q(quantus.RelevanceRankAccuracy, a, s, normalise=False)
    lo = _ours(xm.relevance_rank_accuracy, a, s, ties="min")
    hi = _ours(xm.relevance_rank_accuracy, a, s, ties="max")
    assert np.all(lo - 1e-12 <= q) and np.all(q <= hi + 1e-12)
    assert np.any(hi - lo > 0.01), "the fixture should contain ties that matter"
    # Quantus's formula with a stable sort is our ties="first"
    af, sf = a.reshape(len(a), -1), s.reshape(len(a), -1).astype(bool)
    order = np.argsort(-af, axis=1, kind="stable")
    k = sf.sum(1)
    ref = np.array([sf[i, order[i, :k[i]]].mean() for i in range(len(a))])
    np.testing.assert_allclose(_ours(xm.relevance_rank_accuracy, a, s, ties="first"), ref, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("concept_influence", [False, True])
def test_top_k_intersection_agrees(seed, concept_influence):
    a, s = _batch(seed)
    q = _q(quantus.TopKIntersection, a, s, k=40, concept_influence=concept_influence)
    ours = _ours(xm.top_k_intersection, a, s, k=40, ties="first", concept_influence=concept_influence)
    np.testing.assert_allclose(ours, q, atol=1e-6, rtol=0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("abs_", [False, True])
def test_rma_agrees(seed, abs_):
    a, s = _batch(seed)
    q = _q(quantus.RelevanceMassAccuracy, a, s, abs=abs_)
    ours = _ours(xm.relevance_mass_accuracy, a, s, sign="absolute" if abs_ else "signed")
    np.testing.assert_allclose(ours, q, atol=1e-6, rtol=1e-9)


def test_rma_is_signed_and_can_leave_unit_interval():
    a, s = _batch(0)
    q = _q(quantus.RelevanceMassAccuracy, a, s)
    assert np.nanmin(q) < 0 or np.nanmax(q) > 1  # the "positive" docstring does not hold
    np.testing.assert_allclose(_ours(xm.relevance_mass_accuracy, a, s), q, rtol=1e-9)


def test_difference_rma_zero_total_is_nan_not_inf():
    a, s = _batch(0)
    a[4] = 0.0
    a[4, 0, 0, 0], a[4, 0, 0, 1] = 1.0, -1.0  # signed total exactly 0, inside != 0
    s[4] = 0
    s[4, 0, 0, 0] = 1
    q = _q(quantus.RelevanceMassAccuracy, a, s, normalise=False)
    assert np.isinf(q[4])
    res = xm.relevance_mass_accuracy(torch.from_numpy(a), torch.from_numpy(s), return_reasons=True)
    assert np.isnan(res.scores[4].item()) and "zero total" in res.reasons()[4]


@pytest.mark.parametrize("seed", SEEDS)
def test_pointing_game_agrees_on_defined_samples(seed):
    for kind in ("random", "blocky"):
        a, s = _batch(seed, kind=kind)
        q = _q(quantus.PointingGame, a, s)
        ours = _ours(xm.pointing_game, a, s, ties="any")
        np.testing.assert_array_equal(ours, q)


def test_difference_pointing_game_empty_mask_counts_as_hit_in_quantus():
    a, s = _batch(0)
    s[5] = 0
    a[5] = np.abs(a[5])
    q = _q(quantus.PointingGame, a, s)
    assert q[5] == 1.0  # quantus 0.6.0 bug: NaN written into a bool array becomes True
    res = xm.pointing_game(torch.from_numpy(a), torch.from_numpy(s), return_reasons=True)
    assert np.isnan(res.scores[5].item()) and "empty mask" in res.reasons()[5]


def test_difference_weighted_pointing_game_raises_in_quantus():
    a, s = _batch(0)
    with pytest.raises(TypeError):
        _q(quantus.PointingGame, a, s, weighted=True)
    hit = _ours(xm.pointing_game, a, s, ties="any")
    ours = _ours(xm.pointing_game, a, s, weighted=True, ties="any")
    expected = hit * (1 - s.reshape(len(s), -1).sum(1) / (H * W))
    np.testing.assert_allclose(ours, expected)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("positive", [False, True])
def test_attribution_localisation_agrees(seed, positive):
    a, s = _batch(seed)
    q = _q(quantus.AttributionLocalisation, a, s, positive_attributions=positive, abs=False)
    res = xm.attribution_localisation(torch.from_numpy(a), torch.from_numpy(s),
                                      sign="positive" if positive else "signed", return_reasons=True)
    ours = res.scores.numpy()
    zero = np.array(["zero total" in r for r in res.reasons()])
    assert zero.any() == positive  # the negative map has no positive relevance
    assert np.all(q[zero] == 0.0)  # Quantus divides by total + 1e-9: 0/0 -> 0
    np.testing.assert_allclose(ours[~zero], q[~zero], atol=1e-6, rtol=1e-6)
    q_abs = _q(quantus.AttributionLocalisation, a, s)
    np.testing.assert_allclose(_ours(xm.attribution_localisation, a, s), q_abs, atol=1e-6, rtol=1e-6)


def test_difference_weighted_attribution_localisation_uses_batch_slice():
    a, s = _batch(0)
    q = _q(quantus.AttributionLocalisation, a, s, weighted=True)
    ours = _ours(xm.attribution_localisation, a, s, weighted=True)
    # quantus: size_data = x_batch[2:].size = (N - 2) * H * W, so it depends on the batch size
    np.testing.assert_allclose(q, ours / (len(a) - 2), rtol=1e-6, atol=1e-12)


def test_difference_attribution_localisation_zero_map():
    a, s = _batch(0)
    a[6] = 0.0
    q = _q(quantus.AttributionLocalisation, a, s)
    assert q[6] == 0.0  # the 1e-9 guard turns 0/0 into 0
    res = xm.attribution_localisation(torch.from_numpy(a), torch.from_numpy(s), return_reasons=True)
    assert np.isnan(res.scores[6].item()) and "zero total" in res.reasons()[6]
