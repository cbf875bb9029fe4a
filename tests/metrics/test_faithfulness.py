"""Deletion / insertion curves: a naive per-step oracle, a linear model's exact curve, and the contract."""
import numpy as np
import pytest
import torch
from torch import nn

import xaikit.metrics as xm

H = W = 8
P = H * W


def _cnn(seed=0, c=2, k=3):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(c, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5),
                        nn.Flatten(), nn.Linear(4 * P, k))
    with torch.no_grad():
        net[1].running_mean.uniform_(-0.2, 0.2)
    return net.double()


def _data(seed, n=5, c=2, blocky=True):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, c, H, W, generator=g, dtype=torch.float64)
    a = torch.randn(n, c, H, W, generator=g, dtype=torch.float64)
    if blocky:  # 2x2 blocks: ties that the documented index order must break
        a = torch.nn.functional.interpolate(torch.randint(-2, 3, (n, c, H // 2, W // 2), generator=g).double(),
                                            scale_factor=2, mode="nearest")
    return x, a


def _naive_curve(model, x, a, target, steps, baseline, kind, sign, output):
    """From the definition: rank pixels, build every step's image one by one, score each."""
    model.eval()
    n, c, h, w = x.shape
    out = np.empty((n, steps + 1))
    for i in range(n):
        r = a[i].sum(0).flatten().numpy()
        r = {"signed": r, "positive": np.clip(r, 0, None), "absolute": np.abs(r)}[sign]
        order = np.argsort(-r, kind="stable")
        images = []
        for k in range(steps + 1):
            chosen = np.zeros(h * w, bool)
            chosen[order[: k * h * w // steps]] = True
            chosen = torch.from_numpy(chosen.reshape(h, w))
            if kind == "deletion":
                xi = x[i].clone()
                xi[:, chosen] = baseline[i][:, chosen]
            else:
                xi = baseline[i].clone()
                xi[:, chosen] = x[i][:, chosen]
            images.append(xi)
        with torch.no_grad():
            logits = model(torch.stack(images))  # eval mode: images do not interact
        t = int(target[i])
        out[i] = {"probability": logits.softmax(1)[:, t], "logit": logits[:, t],
                  "sigmoid": logits[:, t].sigmoid()}[output].numpy()
    return out


@pytest.mark.parametrize("kind", ["deletion", "insertion"])
@pytest.mark.parametrize("baseline,sign,output,steps", [
    ("zero", "signed", "probability", 7),
    ("mean", "positive", "logit", 16),
    ("blur", "absolute", "sigmoid", P),
    (0.25, "signed", "probability", 3),
])
def test_curves_equal_naive_per_step_loop(kind, baseline, sign, output, steps):
    from scipy.ndimage import gaussian_filter

    model = _cnn()
    x, a = _data(1, n=3)
    target = torch.tensor([0, 2, 1])
    fn = xm.deletion_curve if kind == "deletion" else xm.insertion_curve
    fractions, scores = fn(model, x, a, target, steps=steps, baseline=baseline, sign=sign, output=output,
                           batch_size=6, blur_sigma=1.5)
    if baseline == "blur":
        base = torch.from_numpy(gaussian_filter(x.numpy(), sigma=(0, 0, 1.5, 1.5), mode="nearest"))
    elif baseline == "mean":
        base = x.mean(dim=(1, 2, 3), keepdim=True).expand_as(x)
    else:
        base = torch.full_like(x, 0.0 if baseline == "zero" else baseline)
    ref = _naive_curve(model, x, a, target, steps, base, kind, sign, output)
    np.testing.assert_allclose(scores.numpy(), ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fractions.numpy(), np.arange(steps + 1) * P // steps / P)
    assert scores.dtype == fractions.dtype == torch.float64 and scores.shape == (3, steps + 1)


def test_linear_model_deletion_is_exact_partial_sum():
    """f(x) = w.x, zero baseline, a = w*x: deleting set S gives f(x) - sum_{i in S} w_i x_i."""
    g = torch.Generator().manual_seed(2)
    n, steps = 4, 16
    x = torch.randn(n, 1, H, W, generator=g, dtype=torch.float64)
    lin = nn.Linear(P, 2, bias=False).double()
    with torch.no_grad():
        lin.weight.copy_(torch.randn(2, P, generator=g, dtype=torch.float64))
    model = nn.Sequential(nn.Flatten(), lin)
    wx = lin.weight[0].detach() * x.flatten(1)  # (N, P) = attributions of class 0
    fractions, scores = xm.deletion_curve(model, x, wx.view(n, 1, H, W), 0, steps=steps, output="logit")
    ranked = torch.sort(wx, dim=1, descending=True).values
    cumulative = torch.cat([torch.zeros(n, 1, dtype=torch.float64), ranked.cumsum(1)], 1)
    removed = cumulative[:, np.arange(steps + 1) * P // steps]
    fx = wx.sum(1, keepdim=True)
    torch.testing.assert_close(scores, fx - removed, rtol=0, atol=1e-12)
    # the perfect map deletes the largest contributions first: the curve is the lower envelope
    reversed_auc = xm.deletion_auc(model, x, -wx.view(n, 1, H, W), 0, steps=steps, output="logit")
    random_auc = xm.deletion_auc(model, x, torch.randn(n, 1, H, W, generator=g), 0, steps=steps, output="logit")
    perfect_auc = xm.curve_auc(fractions, scores)
    assert (perfect_auc < random_auc).all() and (random_auc < reversed_auc).all()
    # insertion: the mirror image
    ins_perfect = xm.insertion_auc(model, x, wx.view(n, 1, H, W), 0, steps=steps, output="logit", baseline="zero")
    ins_reversed = xm.insertion_auc(model, x, -wx.view(n, 1, H, W), 0, steps=steps, output="logit", baseline="zero")
    assert (ins_perfect > ins_reversed).all()


def test_perfect_map_beats_reversed_on_probabilities():
    model = _cnn(3, c=1)
    x, _ = _data(4, n=6, c=1, blocky=False)
    # occlusion-style "perfect" map for a CNN: each pixel's own effect on the target logit
    with torch.no_grad():
        logits = model.eval()(x)
        target = logits.argmax(1)
        keep = 1 - torch.eye(P, dtype=torch.float64).view(1, P, 1, H, W)  # pixel p set to 0 in copy p
        occluded = model((x[:, None] * keep).view(6 * P, 1, H, W)).view(6, P, -1)
        effect = (logits[:, None] - occluded).gather(2, target.view(6, 1, 1).expand(6, P, 1)).view(6, 1, H, W)
    good = xm.deletion_auc(model, x, effect, target, steps=16)
    bad = xm.deletion_auc(model, x, -effect, target, steps=16)
    assert (good < bad).all()


@pytest.mark.parametrize("baseline", ["zero", "blur", -0.5])
def test_end_points_are_model_on_x_and_on_baseline(baseline):
    model = _cnn(5)
    x, a = _data(6)
    target = torch.tensor([2, 2, 0, 1, 1])
    _, ins = xm.insertion_curve(model, x, a, target, steps=5, baseline=baseline, blur_sigma=2.0)
    _, dele = xm.deletion_curve(model, x, a, target, steps=5, baseline=baseline, blur_sigma=2.0)
    from xaikit.metrics._faithfulness import _baseline

    with torch.no_grad():
        model.eval()
        on_x = model(x).softmax(1).gather(1, target[:, None])[:, 0]
        on_base = model(_baseline(x, baseline, 2.0, "t")).softmax(1).gather(1, target[:, None])[:, 0]
    torch.testing.assert_close(ins[:, 0], on_base, rtol=0, atol=1e-12)
    torch.testing.assert_close(ins[:, -1], on_x, rtol=0, atol=1e-12)
    torch.testing.assert_close(dele[:, 0], on_x, rtol=0, atol=1e-12)
    torch.testing.assert_close(dele[:, -1], on_base, rtol=0, atol=1e-12)


def test_contract_batching_modes_no_grad_no_mutation():
    model = _cnn(7).train()
    model[1].eval()  # a mixed-mode model: each module's own mode must come back
    x, a = _data(8)
    xc, ac, state = x.clone(), a.clone(), {k: v.clone() for k, v in model.state_dict().items()}
    one = xm.deletion_curve(model, x, a, 1, steps=4, batch_size=1)
    big = xm.deletion_curve(model, x, a, 1, steps=4, batch_size=1000)
    torch.testing.assert_close(one.scores, big.scores, rtol=0, atol=1e-12)
    assert model.training and not model[1].training and model[3].training
    assert torch.equal(x, xc) and torch.equal(a, ac)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    assert not one.scores.requires_grad
    # a channel-reduced map (N, 1, H, W) and (N, H, W) rank like the (N, C, H, W) one
    torch.testing.assert_close(xm.deletion_curve(model, x, a.sum(1, keepdim=True), 1, steps=4).scores, one.scores)
    torch.testing.assert_close(xm.deletion_curve(model, x, a.sum(1), 1, steps=4).scores, one.scores)
    # a tensor baseline equals the matching named one
    torch.testing.assert_close(xm.insertion_curve(model, x, a, 1, steps=4, baseline=torch.zeros(1, 2, 1, 1)).scores,
                               xm.insertion_curve(model, x, a, 1, steps=4, baseline="zero").scores)
    auc = xm.deletion_auc(model, x, a, 1, steps=4)
    assert auc.shape == (5,) and auc.dtype == torch.float64
    torch.testing.assert_close(auc, torch.from_numpy(np.trapezoid(one.scores.numpy(), one.fractions.numpy(), axis=1)))


def test_bad_inputs_raise_value_error_naming_the_argument():
    model = _cnn()
    x, a = _data(9)
    cases = [
        (dict(attributions=a[:, :, :-1]), "^attributions.*shape"),
        (dict(attributions=a[:-1]), "^attributions.*shape"),
        (dict(attributions=torch.where(a > 1, float("nan"), a)), "^attributions.*NaN"),
        (dict(x=x[0]), "^x.*shape"),
        (dict(x=torch.where(x > 0.5, float("nan"), x)), "^x.*finite"),
        (dict(steps=0), "^steps of deletion_curve must be an int in \\[1, 64\\]"),
        (dict(steps=P + 1), "^steps"),
        (dict(baseline="blurr"), "^baseline.*Did you mean 'blur'"),
        (dict(baseline=[0.0]), "^baseline"),
        (dict(baseline=torch.zeros(3, 3)), "^baseline.*broadcastable"),
        (dict(output="prob"), "^output.*Did you mean 'probability'"),
        (dict(sign="abs"), "^sign"),
        (dict(batch_size=0), "^batch_size"),
        (dict(target=torch.zeros(4, dtype=torch.long)), "^target.*shape"),
        (dict(target=3), "^target.*\\[0, 2\\]"),
        (dict(target=torch.tensor([0, 0, 0, 0, 3]), batch_size=2), "^target.*\\[0, 2\\]; got 3"),
        (dict(target=0.5), "^target"),
        (dict(model=lambda t: t), "^model"),
    ]
    for override, pattern in cases:
        kw = dict(model=model, x=x, attributions=a, target=0)
        kw.update({k: v for k, v in override.items() if k in kw})
        opts = {k: v for k, v in override.items() if k not in kw}
        with pytest.raises(ValueError, match=pattern):
            xm.deletion_curve(kw["model"], kw["x"], kw["attributions"], kw["target"], **opts)
    with pytest.raises(ValueError, match="^blur_sigma"):
        xm.insertion_curve(model, x, a, 0, blur_sigma=0.0)
