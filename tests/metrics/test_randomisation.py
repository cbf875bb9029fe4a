"""Model-parameter randomisation: similarity oracles (scipy, scikit-image) and the sanity check itself."""
import numpy as np
import pytest
import torch
from torch import nn

import xaikit.metrics as xm

H = W = 16


def _maps(seed, n=6, h=H, w=W, blocky=False):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, 1, h, w, generator=g, dtype=torch.float64)
    b = a + torch.randn(n, 1, h, w, generator=g, dtype=torch.float64)
    if blocky:  # many ties
        a, b = a.round(), (b * 0.5).round()
    return a, b


def test_average_ranks_and_spearman_equal_scipy_with_ties():
    from scipy.stats import rankdata, spearmanr

    from xaikit.metrics._randomisation import average_ranks

    a, b = _maps(0, blocky=True)
    b[2] = 3.0  # constant map: undefined correlation
    np.testing.assert_array_equal(average_ranks(a.flatten(1)).numpy(), rankdata(a.flatten(1).numpy(), axis=1))
    res = xm.spearman_correlation(a, b, return_reasons=True)
    for i in range(len(a)):
        if i == 2:
            assert np.isnan(res.scores[i].item()) and "constant" in res.reasons()[i]
            continue
        ref = spearmanr(a[i].flatten().numpy(), b[i].flatten().numpy()).statistic
        assert res.scores[i].item() == pytest.approx(ref, abs=1e-12)
    # sign handling happens before ranking
    ref = spearmanr(a[0].abs().flatten().numpy(), b[0].abs().flatten().numpy()).statistic
    assert xm.spearman_correlation(a, b, sign="absolute")[0].item() == pytest.approx(ref, abs=1e-12)


@pytest.mark.parametrize("shape", [(16, 16), (7, 9), (12, 7)])
def test_ssim_equals_skimage_with_range_from_the_pair(shape):
    from skimage.metrics import structural_similarity

    a, b = _maps(1, n=4, h=shape[0], w=shape[1])
    b[1] = b[1] * 10 + 3  # different ranges
    b[2] = a[2]  # identical: exactly 1
    ours = xm.ssim(a, b)
    for i in range(len(a)):
        x, y = a[i, 0].numpy(), b[i, 0].numpy()
        rng = max(x.max(), y.max()) - min(x.min(), y.min())
        assert ours[i].item() == pytest.approx(structural_similarity(x, y, data_range=rng), abs=1e-10)
    assert ours[2].item() == pytest.approx(1.0, abs=1e-12)
    flat = torch.zeros(1, 1, 8, 8)
    assert "constant" in xm.ssim(flat, flat, return_reasons=True).reasons()[0]
    with pytest.raises(ValueError, match="^attributions of ssim must be at least 7 x 7"):
        xm.ssim(a[:, :, :6], b[:, :, :6])
    with pytest.raises(ValueError, match="^other of ssim.*shape"):
        xm.ssim(a, b[:-1])


def _cnn():
    """A small CNN with fixed weights whose class-0 logit reads the top-left quadrant only."""
    g = torch.Generator().manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * H * W, 2))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
        quadrant = torch.zeros(4, H, W)
        quadrant[:, : H // 2, : W // 2] = 1.0
        net[6].weight.copy_(torch.stack([quadrant.flatten(), -quadrant.flatten()]))
        net[1].running_var.fill_(2.0)
    return net


def _saliency(model, x, target):
    x = x.clone().requires_grad_(True)
    return torch.autograd.grad(model(x).gather(1, target[:, None]).sum(), x)[0]


def _inputs(n=4):
    return torch.rand(n, 1, H, W, generator=torch.Generator().manual_seed(3))


def test_saliency_passes_the_cascading_check_and_the_model_is_untouched():
    model = _cnn().train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    x = _inputs()
    df = xm.model_randomisation(model, x, 0, _saliency, seed=1)
    assert df.columns.tolist() == ["sample", "step", "layer", "spearman", "ssim"]
    assert len(df) == 4 * 5 and df.layer.unique().tolist() == ["original", "6", "3", "1", "0"]
    first = df[df.step == 0]
    np.testing.assert_allclose(first[["spearman", "ssim"]].to_numpy(), 1.0, atol=1e-12)
    by_step = df.groupby("step")[["spearman", "ssim"]].mean()
    # randomising the output layer alone already decorrelates the quadrant-focused maps
    assert by_step.spearman[1] < 0.3 and by_step.ssim[1] < 0.3
    assert (by_step.loc[1:, "spearman"] < 0.3).all()
    # the original model: same weights and buffers, same mode, global RNG untouched
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    assert model.training and torch.equal(torch.get_rng_state(), rng)
    # deterministic under the seed; another seed draws other weights
    again = xm.model_randomisation(model, x, 0, _saliency, seed=1)
    assert again.equals(df)
    other = xm.model_randomisation(model, x, 0, _saliency, seed=2)
    assert not np.allclose(other.spearman[4:], df.spearman[4:])


def test_a_parameter_independent_explanation_fails_the_check():
    """An edge detector of the input (Adebayo et al.'s counter-example) stays identical at every step."""
    def edge_map(model, x, target):
        e = torch.zeros_like(x)
        e[..., 1:, :] = (x[..., 1:, :] - x[..., :-1, :]).abs()
        return e

    df = xm.model_randomisation(_cnn(), _inputs(3), torch.tensor([0, 1, 0]), edge_map)
    np.testing.assert_allclose(df[["spearman", "ssim"]].to_numpy(), 1.0, atol=1e-12)


def test_orders_layers_and_independent_randomisation():
    model, x = _cnn(), _inputs(2)
    up = xm.model_randomisation(model, x, 1, _saliency, order="bottom_up", similarity="spearman")
    assert up.columns.tolist() == ["sample", "step", "layer", "spearman"]
    assert up.layer.unique().tolist() == ["original", "0", "1", "3", "6"]
    down = xm.model_randomisation(model, x, 1, _saliency)
    alone = xm.model_randomisation(model, x, 1, _saliency, order="independent")
    # step 1 randomises the same layer with the same draw; later steps keep the top layer trained
    pd_kw = dict(check_exact=False, atol=1e-12)
    import pandas.testing as pdt

    pdt.assert_frame_equal(alone[alone.step <= 1], down[down.step <= 1], **pd_kw)
    assert not np.allclose(alone.spearman[alone.step == 2], down.spearman[down.step == 2])
    # block-wise: a container randomises every resettable module inside it in one step
    model2 = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2)), nn.Flatten(),
                           nn.Linear(2 * H * W, 2))
    assert xm.randomisable_layers(model2) == ["0.0", "0.1", "2"]
    blocks = xm.model_randomisation(model2, x, 0, _saliency, layers=["0", "2"])
    assert blocks.layer.unique().tolist() == ["original", "2", "0"]


def test_with_the_registered_saliency_explainer():
    pytest.importorskip("captum")
    from xaikit.explain import get_explainer

    df = xm.model_randomisation(_cnn(), _inputs(2), 0, get_explainer("saliency").attribute, similarity=["ssim"])
    assert df.ssim[df.step == 0].tolist() == pytest.approx([1.0, 1.0])
    assert df.ssim[df.step == 1].max() < 0.3


def test_bad_arguments_raise_value_error_naming_the_argument():
    model, x = _cnn(), _inputs(2)
    cases = [
        (dict(order="top-down"), "^order.*Did you mean 'top_down'"),
        (dict(similarity=("spearman", "ssmi")), "^similarity.*Did you mean 'ssim'"),
        (dict(similarity=()), "^similarity"),
        (dict(layers=["6", "conv"]), "^layers.*'conv'"),
        (dict(layers=["4"]), "^layers.*nothing to randomise"),
        (dict(seed=-1), "^seed"),
        (dict(sign="abs"), "^sign"),
        (dict(normalise="mx"), "^normalise.*Did you mean 'max'"),
    ]
    for kw, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            xm.model_randomisation(model, x, 0, _saliency, **kw)
    with pytest.raises(ValueError, match="^target.*shape"):
        xm.model_randomisation(model, x, torch.zeros(3, dtype=torch.long), _saliency)
    with pytest.raises(ValueError, match="^explain.*callable"):
        xm.model_randomisation(model, x, 0, "saliency")
    with pytest.raises(ValueError, match="^explanation.*shape"):
        xm.model_randomisation(model, x, 0, lambda m, x, t: x[:, :, :-1])
    with pytest.raises(ValueError, match="^x of model_randomisation"):
        xm.model_randomisation(model, x[0], 0, _saliency)
    with pytest.raises(ValueError, match="^model of model_randomisation has no layer"):
        xm.model_randomisation(nn.Flatten(), x, 0, _saliency)
