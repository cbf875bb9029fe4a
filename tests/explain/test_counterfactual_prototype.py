"""Counterfactual and prototype explainers against analytic cases."""
import numpy as np
import pytest
import torch
from torch import nn

from xaikit._seed import seeded
from xaikit.explain import counterfactual_quality, get_explainer, total_variation
from xaikit.models import ProtoPNet


def _linear(w: torch.Tensor) -> nn.Module:
    model = nn.Sequential(nn.Flatten(), nn.Linear(w.shape[1], w.shape[0]))
    with torch.no_grad():
        model[1].weight.copy_(w)
        model[1].bias.zero_()
    return model


def test_counterfactual_of_linear_model_moves_along_weight_difference():
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(2, 16, generator=gen, dtype=torch.float64)
    model = _linear(w).double()
    x = torch.randn(5, 1, 4, 4, generator=gen, dtype=torch.float64)
    target = model(x).argmax(1)
    g = (w[target] - w[1 - target])  # gradient of the margin; the map must be parallel to it
    lr, kappa = 1e-3, 0.5
    cf = get_explainer("counterfactual", optimizer="sgd", init_std=0.0, tv=0.0, l2=0.1, lr=lr, kappa=kappa,
                       n_steps=400)
    maps = cf.attribute(model, x, target)
    flat = maps.flatten(1)
    cos = torch.nn.functional.cosine_similarity(flat, g, dim=1)
    assert (cos > 1 - 1e-9).all()  # SGD from zero never leaves the span of g: exact up to rounding
    q = counterfactual_quality(model, x, maps, target)
    assert q["valid"].all()
    # Minimal-norm flip: |map| * |g| = margin(x) + kappa, up to one step's overshoot (lr * |g|^2 in margin units).
    m0 = (model(x).gather(1, target[:, None])[:, 0] - model(x).gather(1, (1 - target)[:, None])[:, 0]).detach()
    achieved = flat.norm(dim=1) * g.norm(dim=1)
    assert torch.allclose(achieved, m0 + kappa, atol=float(2 * lr * g.norm(dim=1).max() ** 2))


def test_counterfactual_quality_matches_naive_formulas():
    model = _linear(torch.tensor([[1.0, 0, 0, 0], [0, 0, 0, 1.0]]))
    x = torch.tensor([[[[2.0, 0.0], [0.0, 1.0]]]])  # logits (2, 1): class 0 predicted
    maps = torch.tensor([[[[1.5, 0.0], [0.0, -0.5]]]])  # x_cf = [[0.5, 0], [0, 1.5]]: logits (0.5, 1.5)
    q = counterfactual_quality(model, x, maps, 0)
    a = maps[0, 0].numpy()
    tv = np.abs(np.diff(a, axis=0)).mean() + np.abs(np.diff(a, axis=1)).mean()
    assert bool(q["valid"][0]) and q["margin"].item() == pytest.approx(-1.0)
    assert q["l1"].item() == pytest.approx(0.5) and q["l2"].item() == pytest.approx(np.sqrt((1.5**2 + 0.25) / 4))
    assert q["tv"].item() == pytest.approx(tv) and total_variation(maps).item() == pytest.approx(tv)
    with pytest.raises(ValueError, match="maps must be a tensor shaped like x"):
        counterfactual_quality(model, x, maps[..., :1], 0)


def test_counterfactual_clamp_and_seed():
    with seeded(0):
        model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    x = torch.rand(4, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    maps = get_explainer("counterfactual", n_steps=50, lr=0.1, clamp=(0.0, 1.0)).attribute(model, x, 0)
    x_cf = x - maps
    assert x_cf.min() >= 0 and x_cf.max() <= 1
    other = get_explainer("counterfactual", n_steps=50, lr=0.1, clamp=(0.0, 1.0), seed=1).attribute(model, x, 0)
    assert not torch.equal(maps, other)
    with pytest.raises(ValueError, match="clamp of counterfactual"):
        get_explainer("counterfactual", clamp=(1.0, 0.0))


@pytest.fixture(scope="module")
def pushed():
    with seeded(0):
        model = ProtoPNet(1, 2, prototypes_per_class=2, latent_channels=8, width=4).eval()
    x = torch.rand(6, 1, 16, 16, generator=torch.Generator().manual_seed(2))
    y = torch.tensor([0, 1, 0, 1, 1, 0])
    return model.push(x, y), x, y


def test_push_snaps_each_prototype_to_its_nearest_own_class_patch(pushed):
    model, x, y = pushed
    z = model.latent(x).detach()  # (N, D, h, w)
    for j, (n, r, c) in enumerate(model.push_index_.tolist()):
        assert y[n] == model.prototype_class[j]
        assert torch.equal(model.prototypes[j].detach(), z[n, :, r, c])
        # Naive oracle: exhaustive search over every patch of every own-class image.
        own = z[y == model.prototype_class[j]].permute(0, 2, 3, 1).reshape(-1, z.shape[1])
        before = torch.cdist(own, model.prototypes[j:j + 1].detach())  # after push: the minimum is 0
        assert before.min().item() == pytest.approx(0.0, abs=1e-6)


def test_prototype_map_peaks_where_the_prototype_was_pushed(pushed):
    model, x, y = pushed
    n, r, c = model.push_index_[0].tolist()
    t = int(model.prototype_class[0])
    maps = get_explainer("prototype", weighting="max", interpolation="nearest").attribute(model, x[n:n + 1], t)
    scale = x.shape[-1] // model.similarity_maps(x[:1]).shape[-1]
    top = np.log(1 / model.eps)  # similarity of a zero distance
    assert maps.max().item() == pytest.approx(top, rel=1e-3)
    assert maps[0, 0, r * scale, c * scale].item() == pytest.approx(top, rel=1e-3)


def test_prototype_map_last_layer_weighting_carries_the_own_logit_term():
    with seeded(0):
        model = ProtoPNet(1, 3, prototypes_per_class=1, latent_channels=8, width=4).eval()
    x = torch.rand(4, 1, 16, 16, generator=torch.Generator().manual_seed(3))
    target = torch.tensor([0, 1, 2, 1])
    maps = get_explainer("prototype", interpolation="nearest").attribute(model, x, target)
    with torch.no_grad():
        own = model.last_layer.weight[target, target] * model.scores(x)[torch.arange(4), target]
    assert torch.allclose(maps.flatten(1).amax(1), own, rtol=1e-5)


def test_prototype_explainer_rejects_other_models():
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    with pytest.raises(ValueError, match="model of prototype must be a prototype network"):
        get_explainer("prototype").attribute(model, torch.rand(1, 1, 4, 4), 0)
