"""Feature visualisation and prototype training against analytic cases."""
import numpy as np
import pytest
import torch
from torch import nn

from xaikit._seed import seeded
from xaikit.data import chest_covid
from xaikit.interpret import class_template, feature_visualisation, fit_protopnet, prototype_costs, template_correlation
from xaikit.models import ProtoPNet


def _linear(w: torch.Tensor) -> nn.Module:
    model = nn.Sequential(nn.Flatten(), nn.Linear(w[0].numel(), len(w)))
    with torch.no_grad():
        model[1].weight.copy_(w.flatten(1))
        model[1].bias.zero_()
    return model


def _bumps() -> torch.Tensor:
    """Two smooth class templates on 16x16: Gaussian bumps at different places, of opposite signs."""
    yy, xx = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
    a = torch.exp(-((yy - 5) ** 2 + (xx - 5) ** 2) / 8)
    b = torch.exp(-((yy - 11) ** 2 + (xx - 10) ** 2) / 8)
    return torch.stack([a - b, b - a])[:, None]


def test_feature_visualisation_of_linear_model_is_its_weight():
    w = torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    model = _linear(w)
    # Without regularisers other than L2, the optimum of w.v - l2 mean(v^2) is v = w * P / (2 l2) = w here.
    v = feature_visualisation(model, [0, 1], (1, 8, 8), n_steps=300, lr=0.05, jitter=0, blur_sigma=0.0,
                              decorrelate=False, l2=32.0)
    corr = template_correlation(v.numpy(), w[0].numpy())
    assert corr[0] > 0.99 and corr[1] < 0.2  # class 1's weights are independent of class 0's


def test_feature_visualisation_with_regularisers_tracks_smooth_weights():
    w = _bumps()
    model = _linear(w)
    v = feature_visualisation(model, [0, 1], (1, 16, 16), n_steps=100, lr=0.1, jitter=1, blur_sigma=0.5,
                              decorrelate=True, l2=128.0, seed=0)
    assert template_correlation(v[:1].numpy(), w[0].numpy())[0] > 0.9
    assert template_correlation(v[1:].numpy(), w[1].numpy())[0] > 0.9
    kw = {"n_steps": 8, "jitter": 2, "blur_sigma": 0.5, "blur_every": 2}
    first = feature_visualisation(model, [0, 1], (1, 16, 16), seed=3, **kw)
    assert torch.equal(first, feature_visualisation(model, [0, 1], (1, 16, 16), seed=3, **kw))
    assert not torch.equal(first, feature_visualisation(model, [0, 1], (1, 16, 16), seed=4, **kw))
    # A linear model's gradient does not depend on where it is taken: any base image gives the same change.
    shifted = feature_visualisation(model, [0, 1], (1, 16, 16), seed=3, base=torch.rand(1, 16, 16), **kw)
    torch.testing.assert_close(shifted, first)
    with pytest.raises(ValueError, match="base of feature_visualisation"):
        feature_visualisation(model, 0, (1, 16, 16), n_steps=1, base=torch.rand(16, 16))
    with pytest.raises(ValueError, match="target must be class indices"):
        feature_visualisation(model, 2, (1, 16, 16), n_steps=1)
    with pytest.raises(ValueError, match="shape of feature_visualisation"):
        feature_visualisation(model, 0, (16, 16), n_steps=1)


def test_class_template_is_the_mean_lesion_and_correlation_is_pearson():
    ds = chest_covid(12, image_size=32, seed=1)
    twin = chest_covid(12, image_size=32, seed=1, lesion_free=True)
    t1 = class_template(ds.images, twin.images, ds.labels, 1)
    np.testing.assert_allclose(t1, (ds.images - twin.images)[ds.labels == 1].mean(0), rtol=1e-6)
    assert not class_template(ds.images, twin.images, ds.labels, 0).any()  # healthy images have no lesion
    maps = np.random.default_rng(0).random((3, *t1.shape))
    expect = [np.corrcoef(m.ravel(), t1.ravel())[0, 1] for m in maps]
    np.testing.assert_allclose(template_correlation(maps, t1), expect, rtol=1e-10)


def test_prototype_costs_match_naive_loops():
    d = torch.rand(3, 4, 2, 2, generator=torch.Generator().manual_seed(0))
    y, cls = torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1, 1])
    clst, sep = prototype_costs(d, y, cls)
    naive_c = np.mean([min(d[i, j].min().item() for j in range(4) if cls[j] == y[i]) for i in range(3)])
    naive_s = np.mean([min(d[i, j].min().item() for j in range(4) if cls[j] != y[i]) for i in range(3)])
    assert clst.item() == pytest.approx(naive_c) and sep.item() == pytest.approx(naive_s)


@pytest.mark.slow
def test_protopnet_learns_a_local_pattern_and_push_keeps_it():
    # Class 1: a bright 4x4 square somewhere; class 0: none. A prototype should match the square.
    gen = torch.Generator().manual_seed(0)
    n = 96
    y = (torch.arange(n) % 2).long()
    x = 0.2 * torch.rand(n, 1, 16, 16, generator=gen)
    pos = torch.randint(0, 12, (n, 2), generator=gen)
    for i in torch.nonzero(y).flatten().tolist():
        r, c = pos[i].tolist()
        x[i, 0, r:r + 4, c:c + 4] += 0.8
    with seeded(0):
        model = ProtoPNet(1, 2, prototypes_per_class=2, latent_channels=8, width=8)
    fit_protopnet(model, x[:64], y[:64], epochs=15, batch_size=32, lr=5e-3, seed=0)
    with torch.no_grad():
        acc = (model(x[64:]).argmax(1) == y[64:]).double().mean().item()
    assert acc >= 0.9
    assert (y[model.push_index_[:, 0]] == model.prototype_class).all()
