"""LRP relevance conservation on every architecture the studies train, and Grad-CAM's layer choice."""
import pytest
import torch

from xaikit._seed import seeded
from xaikit.explain import default_cam_layer, get_explainer
from xaikit.models import create_model

LRP_MODELS = ["resnet18", "resnet50", "paper003_resnet18", "paper003_resnet50", "densenet121"]


@pytest.mark.parametrize("name", LRP_MODELS)
def test_lrp_conserves_relevance(name):
    with seeded(0):
        model = create_model(name, in_channels=1, num_classes=3).eval()
    x = torch.rand(2, 1, 64, 64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        logits = model(x)
    target = logits.argmax(1)
    relevance = get_explainer("lrp").attribute(model, x, target)
    assert relevance.shape == x.shape and torch.isfinite(relevance).all()
    explained = logits.gather(1, target[:, None]).squeeze(1)
    # input relevance sums to the explained logit (biases carry none; stabilisers cost < 1 %)
    torch.testing.assert_close(relevance.sum((1, 2, 3)), explained, rtol=0.01, atol=1e-5)


def test_lrp_differs_from_input_x_gradient_on_a_resnet():
    with seeded(1):
        model = create_model("resnet18", 1, 2).eval()
    x = torch.rand(1, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    lrp = get_explainer("lrp").attribute(model, x, 0)
    ixg = get_explainer("input_x_gradient").attribute(model, x, 0)
    assert not torch.allclose(lrp, ixg, rtol=1e-2, atol=1e-6)  # ZPlus/Flat rules, not plain gradients


def test_lrp_rejects_inception_with_a_reason():
    with seeded(0):
        model = create_model("inception_v3", 1, 2)
    with pytest.raises(ValueError, match="no canonizer for Inception3"):
        get_explainer("lrp").attribute(model, torch.rand(1, 1, 80, 80), 0)


@pytest.mark.parametrize("name,layer", [("resnet18", "layer4"), ("paper003_resnet34", "layer4"),
                                        ("densenet121", "features"), ("inception_v3", "Mixed_7c"),
                                        ("smallcnn", None)])
def test_grad_cam_layer_per_architecture(name, layer):
    model = create_model(name, 1, 2)
    chosen = default_cam_layer(model)
    if layer is None:
        assert isinstance(model.get_submodule(chosen), torch.nn.Conv2d)
    else:
        assert chosen == layer


def test_grad_cam_is_signed_by_default_and_relu_clips():
    with seeded(2):
        model = create_model("smallcnn", 1, 2).eval()
    x = torch.rand(4, 1, 32, 32, generator=torch.Generator().manual_seed(5))
    signed = get_explainer("grad_cam").attribute(model, x, 1)
    clipped = get_explainer("grad_cam", relu=True).attribute(model, x, 1)
    assert signed.shape == x.shape
    assert (clipped >= 0).all()
    with pytest.raises(ValueError, match="layer of grad_cam must be one of"):
        get_explainer("grad_cam", layer="nope").attribute(model, x, 1)


def _convolutions_run(model, x) -> int:
    """How many convolutions the forward pass of ``model`` on ``x`` runs."""
    ran = set()
    hooks = [m.register_forward_hook(lambda m, i, o: ran.add(id(m)))
             for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return len(ran)


@pytest.mark.parametrize("composite", ["epsilon_plus_flat", "epsilon_plus"])
@pytest.mark.parametrize("ignore_bias", [True, False])
def test_zplus_without_its_zero_half_equals_zennits_rule(composite, ignore_bias, monkeypatch):
    """The ZPlus rule that skips its negative-input half where a convolution's input has no negative entry gives
    zennit's maps bit for bit, and takes zennit's full path exactly where the input has negative entries."""
    from zennit.core import BasicHook

    from xaikit.explain import LRP

    with seeded(0):
        model = create_model("paper003_resnet18_w8", in_channels=1, num_classes=3).eval()
    x = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(1)) - 0.3  # the first layer sees negatives
    full_path = set()
    original = BasicHook.backward

    def counting(self, module, grad_input, grad_output):
        if isinstance(module, torch.nn.Conv2d) and type(self).__name__ != "Flat":
            full_path.add(id(module))
        return original(self, module, grad_input, grad_output)

    monkeypatch.setattr(BasicHook, "backward", counting)
    explainer = LRP(composite=composite, ignore_bias=ignore_bias)
    fast = explainer.attribute_classes(model, x, torch.arange(3))
    fast_full = len(full_path)
    full_path.clear()
    monkeypatch.setattr(LRP, "fast_rules", False)
    reference = explainer.attribute_classes(model, x, torch.arange(3))
    n_conv = _convolutions_run(model, x)
    first_is_zplus = composite == "epsilon_plus"  # epsilon_plus_flat gives the first layer the Flat rule
    assert torch.equal(fast, reference)
    assert len(full_path) == n_conv - (not first_is_zplus)  # zennit: both halves on every ZPlus convolution
    assert fast_full == int(first_is_zplus)  # ours: only where the input has negative entries (the first layer)


def test_lrp_class_maps_restore_which_parameters_train():
    """Class maps run with the parameters frozen (input gradients only) and leave each parameter's
    ``requires_grad`` as it was, also when the call fails."""
    from xaikit.explain import LRP

    with seeded(0):
        model = create_model("smallcnn", in_channels=1, num_classes=3).eval()
    params = list(model.parameters())
    params[0].requires_grad_(False)  # a frozen layer stays frozen
    before = [p.requires_grad for p in params]
    seen = []
    model.register_forward_hook(lambda m, i, o: seen.append([p.requires_grad for p in params]))
    LRP().attribute_classes(model, torch.rand(2, 1, 32, 32), torch.arange(3))
    assert seen and not any(seen[0])
    assert [p.requires_grad for p in params] == before
    with pytest.raises(IndexError):
        LRP().attribute_classes(model, torch.rand(2, 1, 32, 32), torch.tensor([7]))
    assert [p.requires_grad for p in params] == before


def test_lrp_runs_one_convolution_backward_per_convolution(monkeypatch):
    """zennit runs each convolution's plain backward and then replaces it with its rule's relevance (two halves
    for ZPlus); with our shortcuts each convolution's backward runs once (the rule's), and the map is the same."""
    from torch.profiler import ProfilerActivity, profile

    from xaikit.explain import LRP

    with seeded(0):
        model = create_model("paper003_resnet18_w8", in_channels=1, num_classes=3).eval()
    x = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(2))
    n_conv = _convolutions_run(model, x)

    def conv_backwards():
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            relevance = LRP().attribute(model, x, 1)
        return relevance, sum(e.count for e in prof.key_averages() if e.key == "aten::convolution_backward")

    fast, n_fast = conv_backwards()
    monkeypatch.setattr(LRP, "fast_rules", False)
    reference, n_reference = conv_backwards()
    assert torch.equal(fast, reference)
    assert n_fast == n_conv
    # zennit: the plain backward of every convolution, plus the rule's (one half for Flat, two for ZPlus)
    assert n_reference == n_conv + 1 + 2 * (n_conv - 1)
