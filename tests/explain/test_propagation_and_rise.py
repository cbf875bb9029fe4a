"""DeepLIFT and Guided Backprop against analytic nets; RISE against its expectation on a linear model."""
import numpy as np
import pytest
import torch
from torch import nn

from xaikit._seed import seeded
from xaikit.explain import get_explainer, rise_masks
from xaikit.models import create_model


def _linear(seed=0, classes=3, pixels=16):
    with seeded(seed):
        return nn.Sequential(nn.Flatten(), nn.Linear(pixels, classes)).double().eval()


def _x(shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("baseline", ["zero", 0.3, "mean"])
def test_deeplift_on_a_linear_model_is_input_minus_baseline_times_weights(baseline):
    model, x = _linear(), _x((3, 1, 4, 4))
    target = torch.tensor([0, 2, 1])
    got = get_explainer("deeplift", baseline=baseline).attribute(model, x, target)
    ref = {"zero": torch.zeros_like(x), 0.3: torch.full_like(x, 0.3),
           "mean": x.mean((1, 2, 3), keepdim=True).expand_as(x)}[baseline]
    w = model[1].weight[target].reshape(3, 1, 4, 4)
    torch.testing.assert_close(got, (x - ref) * w, rtol=1e-12, atol=1e-12)


def test_deeplift_sums_to_the_logit_difference_on_a_relu_net():
    # the Rescale rule's summation-to-delta: sum(a) = f_t(x) - f_t(x') through ReLUs, pooling and BatchNorm
    with seeded(1):
        model = create_model("smallcnn", 1, 3).double().eval()
    x = _x((2, 1, 16, 16), 1)
    target = torch.tensor([2, 0])
    got = get_explainer("deeplift").attribute(model, x, target)
    with torch.no_grad():
        delta = (model(x) - model(torch.zeros_like(x))).gather(1, target[:, None]).squeeze(1)
    torch.testing.assert_close(got.sum((1, 2, 3)), delta, rtol=1e-6, atol=1e-9)


def test_guided_backprop_passes_only_positive_gradients_through_the_relu():
    with seeded(2):
        model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3)).double().eval()
    x = _x((2, 1, 4, 4), 2) - 0.5
    target = torch.tensor([1, 2])
    got = get_explainer("guided_backprop").attribute(model, x, target)
    w1, b1, w2 = model[1].weight, model[1].bias, model[3].weight
    for i in range(2):
        hidden = x[i].flatten() @ w1.T + b1
        back = (hidden > 0) * w2[target[i]].clamp(min=0)  # guided: positive input and positive gradient
        torch.testing.assert_close(got[i].flatten(), back @ w1, rtol=1e-12, atol=1e-12)
    plain = get_explainer("saliency").attribute(model, x, target)
    assert not torch.allclose(got, plain)  # the head has negative weights, which guidance removes


def test_guided_backprop_handles_torchvision_resnets_reused_relu():
    with seeded(0):
        model = create_model("resnet18", 1, 2).eval()
    x = torch.rand(1, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    a = get_explainer("guided_backprop").attribute(model, x, 1)
    assert a.shape == x.shape and torch.isfinite(a).all() and a.abs().sum() > 0


def test_rise_masks_are_seeded_and_independent_pixels_at_one_pixel_cells():
    m = rise_masks(4000, 6, 6, grid=6, p=0.3, seed=0)
    assert torch.equal(m, rise_masks(4000, 6, 6, grid=6, p=0.3, seed=0))
    assert not torch.equal(m, rise_masks(4000, 6, 6, grid=6, p=0.3, seed=1))
    assert set(m.unique().tolist()) == {0.0, 1.0}
    freq = m.mean(0).flatten()
    se = np.sqrt(0.3 * 0.7 / 4000)  # binomial standard error of each pixel's frequency
    assert ((freq - 0.3).abs() < 5 * se).all()
    smooth = rise_masks(8, 16, 16, grid=4, p=0.5, seed=0)
    assert ((smooth > 0) & (smooth < 1)).any()  # bilinear blending between cells


def test_rise_on_a_linear_model_estimates_its_expectation():
    # independent Bernoulli(p) pixels (one-pixel cells), logit score: per pixel u the estimator averages
    # T = f(x * M) M_u / p, with E[T] = (1 - p) c_u + p (f(x) - b) + b and c = w * x.
    n_masks, p, side = 3000, 0.5, 4
    model = _linear(3, classes=2, pixels=side * side)
    x = _x((1, 1, side, side), 3) + 0.5
    got = get_explainer("rise", n_masks=n_masks, grid=side, p=p, score="logit", batch_size=500,
                        seed=4).attribute(model, x, 1)
    c = (model[1].weight[1] * x.flatten()).detach()
    b = float(model[1].bias[1].detach())
    rest = c.sum() - c  # sum over the other pixels
    mean = c + p * rest + b
    second = ((c + b + p * rest) ** 2 + p * (1 - p) * ((c ** 2).sum() - c ** 2)) / p
    se = torch.sqrt((second - mean ** 2) / n_masks)
    z = (got.flatten() - mean) / se
    assert z.abs().max() < 5, z  # 16 pixels: a false alarm has probability < 1e-5


def test_rise_localises_the_region_a_model_reads():
    class RegionMean(nn.Module):
        def forward(self, x):
            return torch.stack([x[:, 0, :8].mean((1, 2)), x[:, 0, 8:].mean((1, 2))], dim=1)

    # E[a_u] = E[mean_R(M) M_u] / p exceeds p exactly where M_u correlates with the region's pixels
    x = torch.ones(1, 1, 16, 16)
    a = get_explainer("rise", n_masks=2000, grid=4, score="logit", seed=0).attribute(RegionMean(), x, 0)
    rows = a[0, 0].mean(1)
    assert rows[:6].min() > rows[10:].max()  # away from the one-cell blur at the region's border


@pytest.mark.parametrize("params,match", [({"p": 0.0}, "p of rise"), ({"n_masks": 0}, "n_masks of rise"),
                                          ({"score": "prob"}, "score of rise"), ({"grid": 0}, "grid of rise")])
def test_rise_rejects_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        get_explainer("rise", **params)


@pytest.mark.parametrize("name", ["deeplift", "guided_backprop", "guided_grad_cam"])
def test_hook_based_methods_print_no_captum_hook_notice(name):
    """captum announces the activation hooks it sets; a chapter would print that with the path to captum."""
    import warnings

    with seeded(0):
        model = create_model("smallcnn", in_channels=1, num_classes=2).eval()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        maps = get_explainer(name).attribute(model, torch.rand(2, 1, 32, 32), 1)
    assert maps.shape == (2, 1, 32, 32)
    assert [str(w.message) for w in caught if "hooks" in str(w.message)] == []
