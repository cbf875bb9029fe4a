"""HiResCAM, Grad-CAM++ and Score-CAM against hand-built nets whose answer is known."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from xaikit._seed import seeded
from xaikit.explain import get_explainer
from xaikit.models import create_model

H = W = 4
K = 2


class ConvLinear(nn.Module):
    """A convolution (the CAM layer, full resolution) then a dense head on its flattened output: f linear in A."""

    def __init__(self, classes=3):
        super().__init__()
        self.conv = nn.Conv2d(1, K, 3, padding=1)
        self.head = nn.Linear(K * H * W, classes)

    def forward(self, x):
        return self.head(self.conv(x).flatten(1))


class ConvGap(nn.Module):
    """A convolution then global average pooling and a dense layer (CAM's architecture)."""

    def __init__(self, classes=3):
        super().__init__()
        self.conv = nn.Conv2d(1, K, 3, padding=1)
        self.head = nn.Linear(K, classes)

    def forward(self, x):
        return self.head(self.conv(x).mean(dim=(2, 3)))


def _build(cls):
    with seeded(0):
        return cls().double().eval()


def _x(seed=0, n=2):
    return torch.rand(n, 1, H, W, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_hires_cam_is_head_weights_times_activations_summed_over_channels():
    model, x = _build(ConvLinear), _x()
    target = torch.tensor([0, 2])
    got = get_explainer("hires_cam").attribute(model, x, target)
    act = F.conv2d(x, model.conv.weight, model.conv.bias, padding=1)  # (N, K, H, W)
    w = model.head.weight[target].reshape(2, K, H, W)  # ∂f_t/∂A of a linear head
    torch.testing.assert_close(got, (w * act).sum(1, keepdim=True), rtol=1e-12, atol=1e-12)


def test_hires_cam_on_a_gap_head_sums_to_the_logit_minus_the_bias():
    model, x = _build(ConvGap), _x(1, n=3)
    target = torch.tensor([1, 0, 2])
    got = get_explainer("hires_cam").attribute(model, x, target)
    logits = model(x).gather(1, target[:, None]).squeeze(1)
    torch.testing.assert_close(got.sum((1, 2, 3)), logits - model.head.bias[target], rtol=1e-12, atol=1e-12)
    relu = get_explainer("hires_cam", relu=True).attribute(model, x, target)
    torch.testing.assert_close(relu, got.clamp(min=0))


def test_grad_cam_plus_plus_matches_the_papers_derivatives_of_exp_logit():
    # Grad-CAM++ (eq. 19) from autograd derivatives of Y = exp(f_t) with respect to each activation:
    # alpha = d2Y / (2 d2Y + sum_ab A_ab d3Y), w_k = sum alpha relu(dY/dA); xaikit drops the per-image exp(f_t).
    model, x = _build(ConvLinear), _x(2)
    target = torch.tensor([1, 2])
    got = get_explainer("grad_cam_plus_plus").attribute(model, x, target)
    for i in range(2):
        act = F.conv2d(x[i:i + 1], model.conv.weight, model.conv.bias, padding=1).detach().requires_grad_(True)
        y = model.head(act.flatten(1))[0, target[i]].exp()
        (d1,) = torch.autograd.grad(y, act, create_graph=True)
        d2, d3 = torch.zeros_like(act), torch.zeros_like(act)
        for idx in range(act.numel()):  # diagonal second and third derivatives, element by element
            (g2,) = torch.autograd.grad(d1.flatten()[idx], act, create_graph=True)
            (g3,) = torch.autograd.grad(g2.flatten()[idx], act, retain_graph=True)
            d2.view(-1)[idx], d3.view(-1)[idx] = g2.flatten()[idx].detach(), g3.flatten()[idx]
        a = act.detach()
        alpha = d2 / (2 * d2 + a.sum((2, 3), keepdim=True) * d3)
        weights = (alpha * d1.detach().clamp(min=0)).sum((2, 3), keepdim=True)
        expected = (weights * a).sum(1, keepdim=True) / y.detach()
        torch.testing.assert_close(got[i:i + 1], expected, rtol=1e-9, atol=1e-12)


class MaskedMean(nn.Module):
    """Logit c = the mean of the input over region c; the convolution (the CAM layer) feeds nothing."""

    def __init__(self, regions):
        super().__init__()
        self.register_buffer("regions", regions.double())  # (classes, H, W)
        self.conv = nn.Conv2d(1, 3, 3, padding=1)

    def forward(self, x):
        self.conv(x)
        return (x[:, 0, None] * self.regions).mean(dim=(2, 3))


@pytest.mark.parametrize("score", ["logit", "probability"])
def test_score_cam_weights_are_a_softmax_of_the_masked_scores(score):
    regions = torch.zeros(2, H, W)
    regions[0, :2], regions[1, 2:] = 1, 1
    with seeded(1):
        model = MaskedMean(regions).double().eval()
    with torch.no_grad():
        model.conv.weight[2] = 0  # a constant channel: its mask is all zero
    x, target = _x(3), torch.tensor([0, 1])
    got = get_explainer("score_cam", score=score, batch_size=2).attribute(model, x, target)
    act = F.conv2d(x, model.conv.weight, model.conv.bias, padding=1)
    lo, hi = act.amin((2, 3), keepdim=True), act.amax((2, 3), keepdim=True)
    masks = torch.nan_to_num((act - lo) / (hi - lo))  # same size as the input: no upsampling
    assert (masks[:, 2] == 0).all()
    masked_logits = (x[:, None, 0, None] * masks[:, :, None] * regions.double()).mean((-2, -1))  # (N, K, classes)
    s = masked_logits.softmax(-1) if score == "probability" else masked_logits
    s = s[torch.arange(2), :, target]  # (N, K)
    expected = (s.softmax(1)[:, :, None, None] * act).sum(1, keepdim=True)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


def test_cam_variants_on_a_resnet_use_the_grad_cam_layer():
    with seeded(0):
        model = create_model("resnet18", 1, 2).eval()
    x = torch.rand(2, 1, 64, 64, generator=torch.Generator().manual_seed(6))
    hires = get_explainer("hires_cam", interpolation="nearest").attribute(model, x, 1)
    # layer4 of a 64 px ResNet is 2 x 2: nearest upsampling gives 32 x 32 blocks, and for a GAP + dense head
    # the 2 x 2 map sums to the logit minus the bias
    cells = hires[:, 0, ::32, ::32]
    torch.testing.assert_close(cells.sum((1, 2)), model(x)[:, 1] - model.fc.bias[1], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="layer of grad_cam_plus_plus must be one of"):
        get_explainer("grad_cam_plus_plus", layer="nope").attribute(model, x, 1)
