"""Issue 19 items 12-14: no default rewards an information-free map; half precision computes what float64
computes; AUPRC and the rank metrics stay within a few times the input's memory."""
import itertools

import numpy as np
import pytest
import torch

import xaikit.metrics as xm

H = W = 8
CORNERS = {"top_left": (slice(0, 3), slice(0, 3)), "bottom_right": (slice(5, 8), slice(5, 8))}


def _corner_mask(where):
    s = torch.zeros(1, 1, H, W, dtype=torch.bool)
    s[0, 0][CORNERS[where]] = True
    return s


# --------------------------------------------------------------------------- item 12
@pytest.mark.parametrize("where", sorted(CORNERS))
@pytest.mark.parametrize("metric", ["relevance_rank_accuracy", "top_k_intersection", "pointing_game"])
def test_a_constant_map_scores_the_chance_rate_wherever_the_mask_lies(metric, where):
    s = _corner_mask(where)
    chance = s.sum().item() / (H * W)  # a random map's expectation for all three
    kw = {"k": 10} if metric == "top_k_intersection" else {}
    for value in (0.0, 1.0, -3.5):
        score = getattr(xm, metric)(torch.full((1, 1, H, W), value), s, **kw)
        assert score.item() == pytest.approx(chance, abs=1e-12)


def test_the_quantus_rules_stay_available_and_are_position_dependent():
    a = torch.ones(1, 1, H, W)
    tl, br = _corner_mask("top_left"), _corner_mask("bottom_right")
    rra = [xm.relevance_rank_accuracy(a, m, ties="first").item() for m in (tl, br)]
    pg = [xm.pointing_game(a, m, ties="any").item() for m in (tl, br)]
    assert rra == [pytest.approx(4 / 9), 0.0] and pg == [1.0, 1.0]  # first 9 row-major pixels: 4 in the mask


def _expected_by_enumeration(a, s, k):
    """Mean share of mask pixels in the top k over every order of the tied pixels (exact, tiny maps)."""
    a, s = a.flatten().tolist(), s.flatten().tolist()
    tied_vals = sorted(set(a), reverse=True)
    groups = [[i for i, v in enumerate(a) if v == t] for t in tied_vals]
    shares = []
    for perms in itertools.product(*(itertools.permutations(g) for g in groups)):
        order = [i for p in perms for i in p]
        shares.append(sum(s[i] for i in order[:k]) / k)
    return float(np.mean(shares))


@pytest.mark.parametrize("seed", range(4))
def test_default_rank_tie_rule_is_the_exact_expectation_over_tie_orders(seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.randint(0, 3, (1, 1, 2, 4), generator=g).double()  # 8 pixels, heavy ties
    s = torch.rand(1, 1, 2, 4, generator=g) < 0.4
    s[0, 0, 0, 0] = True
    k = int(s.sum())
    assert xm.relevance_rank_accuracy(a, s).item() == pytest.approx(_expected_by_enumeration(a, s, k), abs=1e-12)
    assert xm.top_k_intersection(a, s, k=3).item() == pytest.approx(_expected_by_enumeration(a, s, 3), abs=1e-12)
    at_max = a.flatten() == a.max()
    assert xm.pointing_game(a, s).item() == pytest.approx(s.flatten()[at_max].double().mean().item(), abs=1e-12)


# --------------------------------------------------------------------------- item 13
MASK_METRICS = ["relevance_rank_accuracy", "top_k_intersection", "relevance_mass_accuracy",
                "positive_attribution_ratio", "energy_pointing_game", "attribution_localisation", "pointing_game",
                "auroc", "auprc", "iou"]
MAP_METRICS = ["sparseness", "entropy"]


def _half_cases():
    g = torch.Generator().manual_seed(0)
    base = torch.randn(4, 3, H, W, generator=g)
    return {
        "unit": base,
        "large_channel_sum": 30000 + 5000 * base.abs(),  # each channel fits float16, their sum does not
        "near_max": 65000 - 100 * base.abs(),
        "tiny": base * 1e-4,  # float16 subnormals
        "blocky": torch.round(base * 2) / 2,
        "negative_large": -(30000 + 5000 * base.abs()),
        "mixed_scale": base * torch.logspace(-3, 4, W)[None, None, None, :],
        "one_channel_big": torch.cat([base[:, :1] * 6e4 / base.abs().max(), base[:, 1:]], dim=1),
    }


CASES = _half_cases()


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("metric", MASK_METRICS + MAP_METRICS)
def test_float16_maps_score_exactly_as_the_same_values_in_float64(metric, case):
    a16 = CASES[case].to(torch.float16)
    assert torch.isfinite(a16).all()
    s = torch.zeros(4, 1, H, W, dtype=torch.bool)
    s[:, :, 2:6, 1:5] = True
    fn = getattr(xm, metric)
    kw = {"k": 12} if metric == "top_k_intersection" else {}
    args = (a16,) if metric in MAP_METRICS else (a16, s)
    args64 = (a16.double(),) + args[1:]
    got, ref = fn(*args, return_reasons=True, **kw), fn(*args64, return_reasons=True, **kw)
    torch.testing.assert_close(got.scores, ref.scores, rtol=0, atol=0, equal_nan=True)
    assert got.reasons() == ref.reasons()
    assert got.scores.dtype == torch.float64
    # a NaN always comes with its reason
    assert all(r for v, r in zip(got.scores.tolist(), got.reasons(), strict=True) if v != v)


# --------------------------------------------------------------------------- item 14
def test_blocked_auroc_and_auprc_equal_sklearn_row_by_row():
    from sklearn.metrics import average_precision_score, roc_auc_score

    from xaikit.metrics._ranking import row_blocks

    g = torch.Generator().manual_seed(3)
    a = torch.round(torch.randn(40, 1, 12, 12, generator=g) * 2) / 2  # float32, ties
    s = torch.rand(40, 1, 12, 12, generator=g) < 0.3
    assert len(row_blocks(a.flatten(1))) > 3  # several blocks are exercised
    got_roc, got_ap = xm.auroc(a, s).numpy(), xm.auprc(a, s).numpy()
    for i in range(len(a)):
        y, score = s[i].flatten().numpy(), a[i].flatten().double().numpy()
        assert got_roc[i] == pytest.approx(roc_auc_score(y, score), abs=1e-12)
        assert got_ap[i] == pytest.approx(average_precision_score(y, score), abs=1e-12)


def test_chunked_device_sort_gives_the_exact_kth_value_and_hits():
    from xaikit.metrics._select import _CHUNK, _kth_torch, _topk_hits_numpy, _topk_hits_torch

    g = torch.Generator().manual_seed(4)
    n = 2 * _CHUNK + 5
    a = torch.round(torch.randn(n, 50, generator=g) * 3)
    s = torch.rand(n, 50, generator=g) < 0.3
    k = torch.randint(1, 51, (n,), generator=g)
    ref = np.array([np.sort(row)[::-1][kk - 1] for row, kk in zip(a.numpy(), k.tolist(), strict=True)])
    np.testing.assert_array_equal(_kth_torch(a, k).numpy(), ref)
    for ties in ("average", "first", "min", "max"):
        np.testing.assert_allclose(_topk_hits_torch(a, s, k, ties).numpy(),
                                   _topk_hits_numpy(a.numpy(), s.numpy(), k.numpy(), ties), rtol=0, atol=1e-12)


_MEMORY_PROBE = """
import resource, sys, torch
import xaikit.metrics as xm
torch.set_num_threads(1)
g = torch.Generator().manual_seed(0)
a = torch.randn(64, 1, 224, 224, generator=g)
s = torch.rand(64, 1, 224, 224, generator=g) < 0.1
fn = getattr(xm, sys.argv[1])
fn(a[:2, :, :16, :16], s[:2, :, :16, :16])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
fn(a, s)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024 / a.nbytes)
"""


@pytest.mark.slow  # a fresh interpreter per metric (peak RSS is per process): ~3 s each on an idle machine
@pytest.mark.parametrize("metric", ["auprc", "auroc"])
def test_ranking_metrics_peak_extra_memory_is_at_most_four_times_the_input(metric):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(xm.__file__).parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, metric], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    ratio = float(out.stdout.split()[-1])  # peak resident growth / input bytes (12.8 MB of float32)
    assert ratio <= 4.0, f"{metric}: extra memory {ratio:.1f}x the input"
