import pytest
import torch
from torch import nn

from xaikit._seed import seeded
from xaikit.explain import class_maps, get_explainer
from xaikit.models import create_model


@pytest.fixture(scope="module")
def cnn():
    with seeded(0):
        return create_model("smallcnn", 1, 5).eval()


@pytest.mark.parametrize("method,params", [("input_x_gradient", {}), ("saliency", {"sign": "signed"}),
                                           ("saliency", {"sign": "absolute"}), ("lrp", {}),
                                           ("integrated_gradients", {"n_steps": 4})])
def test_class_maps_equal_per_class_single_calls(cnn, method, params):
    x = torch.rand(3, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    maps = class_maps(cnn, x, method=method, batch_size=4, **params)
    assert maps.shape == (3, 5, 1, 16, 16)
    explainer = get_explainer(method, **params)
    for c in range(5):
        torch.testing.assert_close(maps[:, c], explainer.attribute(cnn, x, c), rtol=1e-4, atol=1e-6)


def test_class_maps_subset_and_bad_classes(cnn):
    x = torch.rand(2, 1, 16, 16)
    assert class_maps(cnn, x, classes=[4, 1]).shape == (2, 2, 1, 16, 16)
    with pytest.raises(ValueError, match=r"classes must be indices in \[0, 4\]"):
        class_maps(cnn, x, classes=[5])


class LeftHalf(nn.Module):
    """Class 1's logit is the mean of the left half of the image; class 0's is its negative."""

    def forward(self, x):
        s = x[..., : x.shape[-1] // 2].mean((1, 2, 3)) * 4
        return torch.stack([-s, s], dim=1)


def test_shap_partition_puts_mass_where_the_model_looks():
    x = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    sv = get_explainer("shap_partition", max_evals=300, output="logit").attribute(LeftHalf(), x, 1)
    assert sv.shape == x.shape
    left = sv[..., :16].abs().sum((1, 2, 3))
    right = sv[..., 16:].abs().sum((1, 2, 3))
    assert (left > 20 * right).all(), (left, right)


def test_shap_partition_top_k_shares_one_run_per_image():
    with seeded(0):
        model = create_model("smallcnn", 1, 4).eval()
    x = torch.rand(2, 1, 16, 16)
    maps, classes = get_explainer("shap_partition", max_evals=60).top_k(model, x, k=3)
    assert maps.shape == (2, 3, 1, 16, 16) and classes.shape == (2, 3)
    with torch.no_grad():
        expected = model(x).argsort(1, descending=True)[:, :3]
    assert torch.equal(classes, expected)


def test_batched_lrp_class_maps_equal_single_calls_on_a_densenet():
    """One hooked forward + a batch of K output relevances equals K separate zennit calls (DenseNet canonizer).
    A small torchvision DenseNet (two dense blocks, growth 8) takes the same canonizer path as DenseNet-121 in a
    fraction of the time (DenseNet-121 took 72 s here)."""
    from torchvision.models import DenseNet

    with seeded(0):
        model = DenseNet(growth_rate=8, block_config=(2, 2), num_init_features=8, bn_size=2, num_classes=5)
        model.features.conv0 = torch.nn.Conv2d(1, 8, kernel_size=7, stride=2, padding=3, bias=False)
        model = model.eval()
    x = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(2))
    maps = class_maps(model, x, classes=[0, 3], method="lrp", batch_size=1)
    lrp = get_explainer("lrp")
    for j, c in enumerate([0, 3]):
        single = lrp.attribute(model, x, c)
        torch.testing.assert_close(maps[:, j], single, rtol=1e-4, atol=1e-5 * float(single.abs().max()))
        assert float(single.abs().sum()) > 0
    assert not model.training
