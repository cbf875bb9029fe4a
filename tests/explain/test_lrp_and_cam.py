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
