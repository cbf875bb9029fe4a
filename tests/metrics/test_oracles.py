"""Oracle tests (naive loops, scikit-learn, scikit-image, Quantus) and the input contract."""
import numpy as np
import pytest
import torch

import xaikit.metrics as xm

H = W = 12


def _data(seed, n=12, blocky=False):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, 1, H, W, generator=g, dtype=torch.float64)
    if blocky:
        a = torch.nn.functional.interpolate(torch.randint(-2, 3, (n, 1, 3, 3), generator=g).double(),
                                            size=(H, W), mode="nearest")
    s = torch.rand(n, 1, H, W, generator=g) < 0.3
    s[0] = False
    s[1] = False
    s[1, 0, 4, 4] = True
    return a, s


@pytest.mark.parametrize("blocky", [False, True])
def test_auroc_auprc_equal_sklearn(blocky):
    from sklearn.metrics import average_precision_score, roc_auc_score

    a, s = _data(0, blocky=blocky)
    s[2] = True  # full mask: AUROC undefined
    roc, ap = xm.auroc(a, s, return_reasons=True), xm.auprc(a, s)
    for i in range(len(a)):
        y, x = s[i].flatten().numpy(), a[i].flatten().numpy()
        if y.all() or not y.any():
            assert np.isnan(roc.scores[i].item())
        else:
            assert roc.scores[i].item() == pytest.approx(roc_auc_score(y, x), abs=1e-12)
        if y.any():
            assert ap[i].item() == pytest.approx(average_precision_score(y, x), abs=1e-12)
    assert "full mask" in roc.reasons()[2] and "empty mask" in roc.reasons()[0]


@pytest.mark.filterwarnings("ignore")
def test_auroc_agrees_with_quantus_auc():
    quantus = pytest.importorskip("quantus")
    a, s = _data(1, blocky=True)
    q = quantus.AUC(disable_warnings=True, display_progressbar=False)(
        model=None, x_batch=np.zeros_like(a.numpy()), y_batch=np.zeros(len(a), int),
        a_batch=a.numpy().copy(), s_batch=s.numpy().astype(float))
    np.testing.assert_allclose(xm.auroc(a, s).numpy(), np.asarray(q, float), atol=1e-6)


@pytest.mark.filterwarnings("ignore")
def test_complexity_agrees_with_quantus():
    quantus = pytest.importorskip("quantus")
    a, _ = _data(2)
    a[3] = 0.0  # all-zero map inside a mixed batch
    kw = dict(model=None, x_batch=np.zeros_like(a.numpy()), y_batch=np.zeros(len(a), int))
    q_sp = np.asarray(quantus.Sparseness(disable_warnings=True)(a_batch=a.numpy().copy(), **kw), float)
    q_en = np.asarray(quantus.Complexity(disable_warnings=True)(a_batch=a.numpy().copy(), **kw), float)
    # Quantus normalises by the batch-wide max |a| before adding its 1e-7; do the same
    an = a.abs() / a.abs().max()
    sp, en = xm.sparseness(an, return_reasons=True), xm.entropy(an)
    ok = np.arange(len(a)) != 3
    np.testing.assert_allclose(sp.scores.numpy()[ok], q_sp[ok], atol=1e-6)
    np.testing.assert_allclose(en.numpy()[ok], q_en[ok], atol=1e-6)
    # difference: an all-zero map is NaN here, 0 in Quantus (its +1e-7 makes it uniform)
    assert q_sp[3] == pytest.approx(0.0) and np.isnan(sp.scores[3].item())
    assert "zero total" in sp.reasons()[3]


def test_sparseness_entropy_equal_naive_formulas():
    a, _ = _data(3)
    for i, row in enumerate(a.abs().flatten(1).numpy()):
        v, p = np.sort(row), row.size
        gini = sum((2 * (k + 1) - p - 1) * v[k] for k in range(p)) / (p * v.sum())
        q = row / row.sum()
        assert xm.sparseness(a)[i].item() == pytest.approx(gini, abs=1e-12)
        assert xm.entropy(a)[i].item() == pytest.approx(-(q * np.log(q)).sum(), abs=1e-12)


def test_iou_with_otsu_equals_skimage_loop():
    from skimage.filters import threshold_otsu

    a, s = _data(4)
    a = (a - a.amin(dim=(1, 2, 3), keepdim=True)) * 40  # spread values
    ours = xm.iou(a, s, normalise="none", return_reasons=True)
    for i in range(len(a)):
        x, y = a[i, 0].numpy(), s[i, 0].numpy()
        pred = x > threshold_otsu(x, nbins=256)
        if not y.any():
            assert np.isnan(ours.scores[i].item())
            continue
        assert ours.scores[i].item() == pytest.approx((pred & y).sum() / (pred | y).sum(), abs=1e-12)
    fixed = xm.iou(a, s, threshold=0.5)  # after the default min-max normalisation
    an = a.flatten(1)
    an = (an - an.amin(1, keepdim=True)) / (an.amax(1, keepdim=True) - an.amin(1, keepdim=True))
    pred, y = an > 0.5, s.flatten(1)
    ref = (pred & y).sum(1) / (pred | y).sum(1)
    np.testing.assert_allclose(fixed.numpy()[2:], ref.double().numpy()[2:])


def test_rank_metrics_equal_naive_loops_for_every_tie_rule():
    a, s = _data(5, n=16, blocky=True)
    af, sf = a.flatten(1).numpy(), s.flatten(1).numpy()
    rng = np.random.default_rng(0)
    for i in range(len(a)):
        k = sf[i].sum()
        if k == 0:
            continue
        order = np.argsort(-af[i], kind="stable")
        first = sf[i, order[:k]].mean()
        # average over random tie orders, by simulation
        sims = [sf[i, np.lexsort((rng.random(af.shape[1]), -af[i]))[:k]].mean() for _ in range(400)]
        assert xm.relevance_rank_accuracy(a[i:i + 1], s[i:i + 1], ties="first")[0].item() == pytest.approx(first)
        avg = xm.relevance_rank_accuracy(a[i:i + 1], s[i:i + 1], ties="average")[0].item()
        assert avg == pytest.approx(np.mean(sims), abs=0.03)
        assert xm.relevance_rank_accuracy(a[i:i + 1], s[i:i + 1], ties="min")[0].item() <= min(sims) + 1e-12
        assert xm.relevance_rank_accuracy(a[i:i + 1], s[i:i + 1], ties="max")[0].item() >= max(sims) - 1e-12


def test_pointing_game_tie_rules_and_par_oracle():
    a, s = _data(6, blocky=True)
    af, sf = a.flatten(1).numpy(), s.flatten(1).numpy()
    pg_first = xm.pointing_game(a, s, ties="first").numpy()
    pg_avg = xm.pointing_game(a, s, ties="average").numpy()
    par = xm.positive_attribution_ratio(a, s, return_reasons=True)
    for i in range(2, len(a)):
        at_max = af[i] == af[i].max()
        assert pg_first[i] == sf[i, np.argmax(af[i])]
        assert pg_avg[i] == pytest.approx(sf[i, at_max].mean())
        pos = np.clip(af[i], 0, None)
        if pos.sum() > 0:
            assert par.scores[i].item() == pytest.approx((pos * sf[i]).sum() / pos.sum())
        else:
            assert "no positive" in par.reasons()[i]


def test_torch_branch_equals_numpy_branch():
    from xaikit.metrics._select import _topk_hits_torch, topk_hits

    a, s = _data(7, n=20, blocky=True)
    af, sf = a.flatten(1), s.flatten(1)
    k = sf.sum(1).clamp(min=1)
    for ties in ("first", "average", "min", "max"):
        torch.testing.assert_close(topk_hits(af, sf, k, ties), _topk_hits_torch(af, sf, k, ties))


def test_contract_dtype_device_no_mutation_and_channels():
    a, s = _data(8)
    a3 = torch.cat([a, a, -a], dim=1)  # float64: a + a - a == a exactly
    before = a3.clone()
    for fn in (xm.relevance_rank_accuracy, xm.relevance_mass_accuracy, xm.positive_attribution_ratio,
               xm.pointing_game, xm.auroc, xm.auprc, xm.iou, xm.energy_pointing_game,
               xm.attribution_localisation, xm.top_k_intersection):
        kw = {"k": 10} if fn is xm.top_k_intersection else {}
        out = fn(a3, s, **kw)
        assert out.dtype == torch.float64 and out.shape == (len(a),) and out.device == a3.device
        # channel sum of (a, a, -a) is a
        torch.testing.assert_close(out, fn(a, s, **kw), equal_nan=True)
    assert torch.equal(a3, before)
    torch.testing.assert_close(xm.relevance_rank_accuracy(a[:, 0], s[:, 0]), xm.relevance_rank_accuracy(a, s),
                               equal_nan=True)


@pytest.mark.parametrize("fn", [xm.relevance_rank_accuracy, xm.relevance_mass_accuracy,
                                xm.positive_attribution_ratio, xm.pointing_game, xm.auroc, xm.iou])
def test_bad_inputs_raise_value_error_naming_the_argument(fn):
    a, s = _data(9)
    with pytest.raises(ValueError, match="^masks.*shape"):
        fn(a, s[:, :, :-1])
    with pytest.raises(ValueError, match="^masks.*shape"):
        fn(a, s[:-1])
    with pytest.raises(ValueError, match="^masks.*binary.*0.5"):
        fn(a, s.double() * 0.5)
    bad = a.clone()
    bad[3, 0, 1, 1] = float("nan")
    with pytest.raises(ValueError, match="^attributions.*NaN.*index 3"):
        fn(bad, s)
    with pytest.raises(ValueError, match="^attributions.*shape"):
        fn(a[0, 0], s)
    with pytest.raises(ValueError, match="^normalise.*Did you mean 'max'"):
        fn(a, s, normalise="mx")
    if fn is not xm.positive_attribution_ratio:  # PAR is positive by definition: no sign
        with pytest.raises(ValueError, match="^sign.*Did you mean 'absolute'"):
            fn(a, s, sign="absolut")


def test_bad_options():
    a, s = _data(10)
    with pytest.raises(ValueError, match="ties.*Did you mean 'average'"):
        xm.relevance_rank_accuracy(a, s, ties="averge")
    with pytest.raises(ValueError, match="^k of top_k_intersection"):
        xm.top_k_intersection(a, s, k=H * W + 1)
    with pytest.raises(ValueError, match="^threshold of iou"):
        xm.iou(a, s, threshold="otsus")
    with pytest.raises(ValueError, match="^sign of sparseness"):
        xm.sparseness(a, sign="signed")


def test_random_map_anchors():
    g = torch.Generator().manual_seed(11)
    a = torch.randn(400, 1, 16, 16, generator=g)
    s = torch.zeros(400, 1, 16, 16, dtype=torch.bool)
    s[:, :, :4, :4] = True  # |GT|/N = 1/16
    assert xm.relevance_rank_accuracy(a, s).mean().item() == pytest.approx(1 / 16, abs=0.01)
    assert xm.pointing_game(a, s).mean().item() == pytest.approx(1 / 16, abs=0.03)
    assert xm.auroc(a, s).mean().item() == pytest.approx(0.5, abs=0.02)


def test_quantus_interop_par_in_evaluate_and_numpy_helper():
    quantus = pytest.importorskip("quantus")
    a, s = _data(12)
    an, sn = a.numpy().copy(), s.numpy().astype(float)
    expected = xm.positive_attribution_ratio(a, s).numpy()
    res = quantus.evaluate(metrics={"PAR": xm.PositiveAttributionRatio(disable_warnings=True)},
                           xai_methods={"given": an}, model=None, x_batch=np.zeros_like(an),
                           y_batch=np.zeros(len(an), int), s_batch=sn, agg_func=np.asarray)
    np.testing.assert_allclose(np.asarray(res["given"]["PAR"], float), expected, equal_nan=True)
    np.testing.assert_allclose(xm.run_on_quantus_inputs("positive_attribution_ratio", an[:, 0], sn),
                               expected, equal_nan=True)
    with pytest.raises(ValueError, match="metric.*Did you mean 'pointing_game'"):
        xm.run_on_quantus_inputs("pointing_gam", an, sn)


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, xaikit.metrics, xaikit.stats; print('quantus' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "PYTHONPATH": "."})
    assert out.stdout.split() == ["False", "False"]
