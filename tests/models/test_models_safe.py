"""Attribution-safe copies: no in-place activations, one module per use, full backward hooks work."""
import pytest
import torch
from torch import nn
from torchvision.models.densenet import DenseNet
from torchvision.models.inception import BasicConv2d
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from xaikit._seed import seeded
from xaikit.models import MODEL_INFO, MODELS, attribution_problems, attribution_safe, create_model

FAST = {"tinycnn", "smallcnn", "resnet18", "paper003_resnet18", "vit_tiny_phantom"}


def _same_outputs(a, b, x):
    a.eval(), b.eval()
    with torch.no_grad():
        torch.testing.assert_close(a(x), b(x), rtol=0, atol=0)


@pytest.mark.parametrize("block", [BasicBlock, Bottleneck])
def test_torchvision_resnet_reuses_an_inplace_relu_and_the_safe_copy_does_not(block):
    with seeded(0):
        model = ResNet(block, [1, 1, 1, 1], num_classes=2).eval()
    x = torch.rand(2, 3, 16, 16)
    problems = attribution_problems(model, x)
    assert any("inplace=True" in p for p in problems)
    assert any("layer1.0.relu: called" in p for p in problems)
    safe = attribution_safe(model)
    assert attribution_problems(safe, x) == []
    _same_outputs(model, safe, x)
    assert safe.state_dict().keys() == model.state_dict().keys()
    assert model.layer1[0].relu.inplace  # the original is untouched


def test_torchvision_densenet_breaks_full_backward_hooks_and_the_safe_copy_fixes_it():
    """The functional ``F.relu(features, inplace=True)`` in DenseNet.forward edits a hooked output."""
    with seeded(0):
        model = DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, num_classes=3).eval()
    x = torch.rand(2, 3, 32, 32)
    assert any("full backward hooks failed" in p for p in attribution_problems(model, x))
    safe = attribution_safe(model)
    assert attribution_problems(safe, x) == []
    _same_outputs(model, safe, x)


def test_inception_basic_conv_functional_inplace_relu_is_replaced():
    with seeded(0):
        model = nn.Sequential(BasicConv2d(1, 4, kernel_size=3), nn.Flatten(), nn.LazyLinear(2)).eval()
    x = torch.rand(2, 1, 8, 8)
    model(x)  # materialise the lazy layer
    assert any("full backward hooks failed" in p for p in attribution_problems(model, x))
    safe = attribution_safe(model)
    assert attribution_problems(safe, x) == []
    _same_outputs(model, safe, x)


def test_full_backward_hooks_see_every_relu_of_the_safe_copy():
    """What LRP/DeepLift rules need: a backward hook fires once per ReLU module."""
    with seeded(0):
        safe = attribution_safe(ResNet(BasicBlock, [1, 1, 1, 1], num_classes=2))
    seen = []
    for name, m in safe.named_modules():
        if isinstance(m, nn.ReLU):
            m.register_full_backward_hook(lambda mod, gi, go, name=name: seen.append(name))
    x = torch.rand(1, 3, 16, 16, requires_grad=True)
    safe(x)[:, 0].sum().backward()
    relus = [n for n, m in safe.named_modules() if isinstance(m, nn.ReLU)]
    assert sorted(seen) == sorted(relus) and len(relus) == 1 + 4 * 2
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in FAST else pytest.mark.slow)
                                  for n in sorted(MODELS)])
def test_every_registered_model_has_an_attribution_safe_copy(name):
    with seeded(0):
        model = create_model(name, 1, 2).eval()
    size = max(32, MODEL_INFO[name].min_input_size)
    x = torch.rand(2, 1, size, size)
    safe = attribution_safe(model)
    assert attribution_problems(safe, x) == []
    _same_outputs(model, safe, x)


@pytest.mark.slow
def test_registry_densenet121_and_inception_are_safe_as_built():
    for name in ("densenet121", "inception_v3"):
        with seeded(0):
            model = create_model(name, 1, 2).eval()
        size = max(32, MODEL_INFO[name].min_input_size)
        assert attribution_problems(model, torch.rand(2, 1, size, size)) == [], name
