"""One contract over the whole explainer registry."""
import pytest
import torch

from xaikit._seed import seeded
from xaikit.explain import EXPLAINERS, get_explainer
from xaikit.models import create_model
from xaikit.train import state_hash

FAST = {"integrated_gradients": {"n_steps": 4}, "gradient_shap": {"n_samples": 3, "stdevs": 0.1},
        "smoothgrad": {"nt_samples": 3}, "lime": {"n_samples": 20, "cell": 8}, "occlusion": {"window": 8},
        "shap_partition": {"max_evals": 40}, "rise": {"n_masks": 16, "batch_size": 8}, "counterfactual": {"n_steps": 5}}
BAD = {"saliency": {"sign": "positive"}, "input_x_gradient": {"nope": 1},
       "integrated_gradients": {"n_steps": 0}, "gradient_shap": {"n_samples": 0},
       "smoothgrad": {"nt_type": "smothgrad"}, "occlusion": {"window": 0}, "lime": {"n_samples": 1},
       "grad_cam": {"interpolation": "cubic"}, "guided_grad_cam": {"nope": 1}, "lrp": {"composite": "zplus"},
       "shap_partition": {"max_evals": 5}, "deeplift": {"baseline": "median"}, "guided_backprop": {"nope": 1},
       "hires_cam": {"relu": "yes"}, "grad_cam_plus_plus": {"interpolation": "cubic"},
       "score_cam": {"batch_size": 0}, "rise": {"p": 1.5}, "attention_last": {"interpolation": "area"},
       "attention_rollout": {"head_fusion": "median"}, "attention_grad_rollout": {"interpolation": "bicubic"},
       "counterfactual": {"kappa": -1.0}, "prototype": {"weighting": "sum"}}
# Explainers that need a model of their own kind; the rest explain the small CNN.
MODEL_OF = {"prototype": "protopnet"}


def _model_key(name):
    """Attention explainers declare that they need a vision transformer; the prototype map a ProtoPNet."""
    return "vit" if getattr(EXPLAINERS[name], "needs_attention", False) else MODEL_OF.get(name, "cnn")


@pytest.fixture(scope="module")
def models():
    with seeded(0):
        return {"cnn": create_model("smallcnn", 1, 3).eval(), "vit": create_model("vit_tiny_phantom", 1, 3).eval(),
                "protopnet": create_model("protopnet", 1, 3).eval()}


@pytest.fixture(scope="module")
def setup(models):
    x = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(4))
    return models["cnn"], x


@pytest.mark.parametrize("name", sorted(EXPLAINERS))
def test_explainer_contract(models, setup, name):
    _, x = setup
    model = models[_model_key(name)]
    model.train()  # the explainer must restore the mode it found
    before, x_before = state_hash(model), x.clone()
    target = torch.tensor([0, 2])
    explainer = get_explainer(name, **FAST.get(name, {}))
    a = explainer.attribute(model, x, target)
    assert a.shape == x.shape and a.dtype == x.dtype
    assert torch.isfinite(a).all()
    assert not a.requires_grad
    assert torch.equal(explainer.attribute(model, x, target), a), "not deterministic"
    assert state_hash(model) == before and model.training
    assert torch.equal(x, x_before)
    model.eval()


@pytest.mark.parametrize("name", sorted(EXPLAINERS))
def test_explainer_rejects_bad_parameters(name):
    with pytest.raises((ValueError, TypeError)):
        get_explainer(name, **BAD[name])


@pytest.mark.parametrize("name", ["saliency", "lrp", "occlusion", "score_cam", "attention_rollout"])
def test_explainer_rejects_bad_inputs(models, setup, name):
    _, x = setup
    model = models[_model_key(name)]
    explainer = get_explainer(name, **FAST.get(name, {}))
    with pytest.raises(ValueError, match="target must be class indices"):
        explainer.attribute(model, x, 3)
    with pytest.raises(ValueError, match="shape"):
        explainer.attribute(model, x[0], 0)
    bad = x.clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        explainer.attribute(model, bad, 0)


@pytest.mark.parametrize("name", sorted(n for n in EXPLAINERS if _model_key(n) == "vit"))
def test_attention_explainers_refuse_a_cnn(setup, name):
    model, x = setup
    with pytest.raises(ValueError, match="needs a vision transformer"):
        get_explainer(name).attribute(model, x, 0)


def test_unknown_method_suggests():
    with pytest.raises(ValueError, match="Did you mean 'integrated_gradients'"):
        get_explainer("integrated_gradient")
