import pytest
import torch
from torch import nn

from xaikit.explain import get_explainer


class Linear(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x):
        return x.flatten(1) @ self.w.T


def test_saliency_of_linear_model_equals_weights():
    torch.manual_seed(0)
    w = torch.randn(3, 1 * 4 * 4)
    model = Linear(w)
    x = torch.rand(5, 1, 4, 4)
    target = torch.tensor([0, 1, 2, 1, 0])
    signed = get_explainer("saliency", sign="signed").attribute(model, x, target)
    assert signed.shape == x.shape
    torch.testing.assert_close(signed, w[target].view(5, 1, 4, 4))
    absolute = get_explainer("saliency", sign="absolute").attribute(model, x, target)
    torch.testing.assert_close(absolute, w[target].abs().view(5, 1, 4, 4))


def test_saliency_rejects_bad_inputs():
    model = Linear(torch.randn(2, 16))
    with pytest.raises(ValueError, match="x must be a tensor of shape"):
        get_explainer("saliency").attribute(model, torch.rand(16), 0)
    x = torch.rand(2, 1, 4, 4)
    x[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        get_explainer("saliency").attribute(model, x, 0)
    with pytest.raises(ValueError, match="sign of saliency must be one of"):
        get_explainer("saliency", sign="positive")
    with pytest.raises(ValueError, match="Did you mean 'saliency'"):
        get_explainer("salincy")
