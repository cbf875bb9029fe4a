"""Modified-backpropagation explainers through captum: DeepLIFT and Guided Backpropagation.

Both replace the gradient of each ReLU module by a rule, which needs one module per use and no in-place
activations: they run on :func:`xaikit.models.attribution_safe` copies of the model (same weights).
Functional ReLUs inside a ``forward`` keep their plain gradient.
"""
from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import torch
from torch import nn

from .._validation import check_float
from ._base import BaseExplainer
from ._gradient import _baseline, _check_baseline
from ._registry import register_explainer

__all__ = ["DeepLift", "GuidedBackprop"]


@contextlib.contextmanager
def captum_hook_notices_off() -> Iterator[None]:
    """Silence captum's notice that it sets (and later removes) hooks on the activations: it is how these methods
    work, not a problem, and a notebook would print it with this machine's path to captum."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU", category=UserWarning)
        warnings.filterwarnings("ignore", message="Setting forward, backward hooks", category=UserWarning)
        yield


def _safe_copy(model: nn.Module) -> nn.Module:
    from ..models import attribution_safe

    return attribution_safe(model)


@register_explainer("deeplift")
class DeepLift(BaseExplainer):
    """DeepLIFT (Shrikumar et al. 2017) with the Rescale rule, through captum's ``DeepLift``.

    Multipliers replace gradients: each nonlinearity passes ``Δout / Δin`` relative to the baseline, so the
    map sums to ``f_t(x) − f_t(x′)`` (summation-to-delta) and equals ``(x − x′) ⊙ w`` for a linear model.
    Signed.

    Parameters
    ----------
    baseline : the reference input x′: "zero", "mean" (each image's mean intensity) or a constant.
    eps : below this ``|Δin|`` the Rescale rule falls back to the gradient (captum's ``eps``).

    Examples
    --------
    >>> from xaikit.explain import get_explainer
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    >>> get_explainer("deeplift").attribute(model, torch.rand(3, 1, 2, 2), 1).shape
    torch.Size([3, 1, 2, 2])
    """

    def __init__(self, baseline: str | float = "zero", eps: float = 1e-10) -> None:
        self.baseline = _check_baseline(baseline, "deeplift")
        self.eps = check_float("eps", eps, min_value=0.0, context="deeplift")

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        from captum.attr import DeepLift as _DeepLift

        with captum_hook_notices_off():
            return _DeepLift(_safe_copy(model), eps=self.eps).attribute(
                x, baselines=_baseline(x, self.baseline), target=target)


@register_explainer("guided_backprop")
class GuidedBackprop(BaseExplainer):
    """Guided Backpropagation (Springenberg et al. 2015), through captum's ``GuidedBackprop``.

    The gradient of the target logit where every ReLU passes back only positive gradients at positive
    inputs. Signed. It is the known negative control of the model-randomisation sanity check
    (Adebayo et al. 2018): its maps barely change when the weights are randomised.
    """

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        from captum.attr import GuidedBackprop as _GuidedBackprop

        with captum_hook_notices_off():
            return _GuidedBackprop(_safe_copy(model)).attribute(x, target=target)
