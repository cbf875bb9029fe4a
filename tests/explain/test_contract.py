"""One contract over the whole explainer registry."""
import pytest
import torch

from xaikit._seed import seeded
from xaikit.explain import EXPLAINERS, get_explainer
from xaikit.models import create_model
from xaikit.train import state_hash

FAST = {"integrated_gradients": {"n_steps": 4}, "gradient_shap": {"n_samples": 3, "stdevs": 0.1},
        "smoothgrad": {"nt_samples": 3}, "lime": {"n_samples": 20, "cell": 8}, "occlusion": {"window": 8},
        "shap_partition": {"max_evals": 40}, "counterfactual": {"n_steps": 5}}
BAD = {"saliency": {"sign": "positive"}, "input_x_gradient": {"nope": 1},
       "integrated_gradients": {"n_steps": 0}, "gradient_shap": {"n_samples": 0},
       "smoothgrad": {"nt_type": "smothgrad"}, "occlusion": {"window": 0}, "lime": {"n_samples": 1},
       "grad_cam": {"interpolation": "cubic"}, "guided_grad_cam": {"nope": 1}, "lrp": {"composite": "zplus"},
       "shap_partition": {"max_evals": 5}, "counterfactual": {"kappa": -1.0},
       "prototype": {"weighting": "sum"}}
# Explainers that need a model of their own kind; the rest explain the smallcnn.
MODEL_OF = {"prototype": "protopnet"}


@pytest.fixture(scope="module")
def setup():
    with seeded(0):
        models = {arch: create_model(arch, 1, 3).eval() for arch in {"smallcnn", *MODEL_OF.values()}}
    x = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(4))
    return models, x


@pytest.mark.parametrize("name", sorted(EXPLAINERS))
def test_explainer_contract(setup, name):
    models, x = setup
    model = models[MODEL_OF.get(name, "smallcnn")]
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


@pytest.mark.parametrize("name", ["saliency", "lrp", "occlusion"])
def test_explainer_rejects_bad_inputs(setup, name):
    models, x = setup
    model = models["smallcnn"]
    explainer = get_explainer(name, **FAST.get(name, {}))
    with pytest.raises(ValueError, match="target must be class indices"):
        explainer.attribute(model, x, 3)
    with pytest.raises(ValueError, match="shape"):
        explainer.attribute(model, x[0], 0)
    bad = x.clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        explainer.attribute(model, bad, 0)


def test_unknown_method_suggests():
    with pytest.raises(ValueError, match="Did you mean 'integrated_gradients'"):
        get_explainer("integrated_gradient")
