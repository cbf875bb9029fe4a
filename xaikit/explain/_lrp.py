"""Layer-wise Relevance Propagation through zennit, with canonizers for every architecture we train.

zennit ships canonizers for torchvision's ResNets; paper 003's ResNet variant and torchvision's
DenseNet get their own here. DenseNet's BatchNorm layers come *before* their convolutions, so they
cannot be merged (zennit #165): they keep zennit's default ``Pass`` rule, and the functional
``ReLU``/pooling at the end of ``DenseNet.forward`` are replaced by modules so relevance is
propagated by rules instead of plain gradients. Relevance conservation (input relevance summing to
the explained logit) is tested for ResNet-18/50, the paper-003 variant and DenseNet-121.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

from .._validation import check_float, check_option
from ._base import BaseExplainer
from ._common import eval_mode, frozen_parameters
from ._registry import register_explainer

__all__ = ["LRP", "canonizers_for", "no_inplace"]

COMPOSITES = ("epsilon_plus_flat", "epsilon_plus", "epsilon_alpha2_beta1_flat", "epsilon_alpha2_beta1")


@contextlib.contextmanager
def no_inplace(model: nn.Module) -> Iterator[nn.Module]:
    """Switch every module's ``inplace`` flag off for the block (hooks break on in-place ops), then restore."""
    flipped = [m for m in model.modules() if getattr(m, "inplace", False) is True]
    for m in flipped:
        m.inplace = False
    try:
        yield model
    finally:
        for m in flipped:
            m.inplace = True


def _zplus_rule(stabilizer: float, zero_params):
    """zennit's ZPlus rule (alpha 1, beta 0) that skips its negative-input half where the layer's input has no
    negative entry (every convolution after a ReLU): that half then propagates exactly zero (zero input, bias
    zeroed), so the relevance is the same, at one modified forward and one backward per layer instead of two."""
    from zennit.core import ParamMod
    from zennit.rules import ZPlus

    class NonNegativeInputZPlus(ZPlus):
        def backward(self, module, grad_input, grad_output):
            stored = self.stored_tensors["input"][0]
            if bool((stored < 0).any()):
                return super().backward(module, grad_input, grad_output)
            inp = stored.clone().requires_grad_()
            with ParamMod.ensure(self.param_modifiers[0])(module) as modified, torch.autograd.enable_grad():
                out = modified.forward(inp)
            grad_out = self.gradient_mapper(grad_output[0], [out])[0]
            (grad,) = torch.autograd.grad(out, inp, grad_outputs=grad_out, create_graph=grad_output[0].requires_grad)
            relevance = inp * grad
            return tuple(relevance if original.shape == relevance.shape else None for original in grad_input)

    return NonNegativeInputZPlus(stabilizer=stabilizer, zero_params=zero_params)


class _RuleReplacesGradient(torch.autograd.Function):
    """A hooked module's output, tied to its input by a backward that returns zeros: the module's rule (zennit
    hook on the input) replaces that gradient anyway, so the module's own backward is never run."""

    @staticmethod
    def forward(ctx, output, inp):
        ctx.input_meta = (inp.shape, inp.dtype, inp.device)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        shape, dtype, device = ctx.input_meta
        return None, torch.zeros(shape, dtype=dtype, device=device)


def _tie_to_rule(module, args, output):
    if len(args) != 1 or not isinstance(output, torch.Tensor) or not args[0].requires_grad:
        return None
    return _RuleReplacesGradient.apply(output.detach(), args[0])


@contextlib.contextmanager
def _rules_replace_gradients(model: nn.Module) -> Iterator[nn.Module]:
    """Skip the plain backward of every module whose zennit rule replaces its input gradient (the ``BasicHook``
    rules and ``Pass``; use inside a composite's context): zennit runs a module's own backward and then overwrites
    its result with the rule's relevance, which for convolutions doubles the backward work. Maps are unchanged."""
    from zennit.core import BasicHook
    from zennit.rules import Pass

    handles = []
    for module in model.modules():
        rules = [getattr(h, "__self__", None) for h in module._forward_hooks.values()]
        if any(isinstance(r, (BasicHook, Pass)) for r in rules):
            handles.append(module.register_forward_hook(_tie_to_rule, prepend=True))
    try:
        yield model
    finally:
        for handle in handles:
            handle.remove()


def _paper003_canonizer():
    from zennit.canonizers import AttributeCanonizer
    from zennit.layer import Sum

    from ..models import Paper003Block

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        if self.bottleneck:
            x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(x)))
        x = self.bn3(self.conv3(x))
        return self.relu_out(self.canonizer_sum(torch.stack([identity, x], dim=-1)))

    def attribute_map(name, module):
        if isinstance(module, Paper003Block):
            return {"forward": forward.__get__(module), "canonizer_sum": Sum()}
        return None

    return AttributeCanonizer(attribute_map)


def _densenet_canonizer():
    from torchvision.models import DenseNet
    from zennit.canonizers import AttributeCanonizer

    def forward(self, x):
        out = self.canonizer_relu(self.features(x))
        return self.classifier(torch.flatten(self.canonizer_pool(out), 1))

    def attribute_map(name, module):
        if isinstance(module, DenseNet):
            return {"forward": forward.__get__(module), "canonizer_relu": nn.ReLU(),
                    "canonizer_pool": nn.AdaptiveAvgPool2d(1)}
        return None

    return AttributeCanonizer(attribute_map)


def canonizers_for(model: nn.Module) -> list:
    """zennit canonizers that make ``model`` LRP-ready; ``ValueError`` for architectures we cannot canonize."""
    from torchvision.models import DenseNet, Inception3, ResNet
    from zennit.canonizers import SequentialMergeBatchNorm
    from zennit.torchvision import ResNetCanonizer

    from ..models import Paper003ResNet

    if isinstance(model, ResNet):
        return [ResNetCanonizer()]
    if isinstance(model, Paper003ResNet):
        return [SequentialMergeBatchNorm(), _paper003_canonizer()]
    if isinstance(model, DenseNet):
        return [_densenet_canonizer()]
    if isinstance(model, Inception3):
        raise ValueError("lrp has no canonizer for Inception3 (branch concatenations with BatchNorm after "
                         "each convolution and functional pooling); use input_x_gradient or integrated_gradients")
    if isinstance(model, nn.Sequential):
        return [SequentialMergeBatchNorm()]
    raise ValueError(f"lrp has no canonizer for {type(model).__name__}; supported: torchvision ResNet and "
                     "DenseNet, paper 003's ResNet, nn.Sequential")


@register_explainer("lrp")
class LRP(BaseExplainer):
    """Layer-wise Relevance Propagation (Bach et al. 2015; Montavon et al. 2019) through zennit.

    Parameters
    ----------
    composite : zennit rule set: "epsilon_plus_flat" (default: Flat on the first layer, ZPlus on
        convolutions, Epsilon on dense layers), "epsilon_plus", "epsilon_alpha2_beta1(_flat)".
    epsilon : the Epsilon rule's stabiliser.
    ignore_bias : propagate no relevance into biases, so relevance is conserved (input relevance sums
        to the explained logit up to the stabilisers); False follows zennit's default.

    The output relevance is the target logit (one-hot times the logit), so the map sums to it. Two shortcuts give
    zennit's maps bit for bit at about half the cost: the ZPlus rule of "epsilon_plus(_flat)" skips its
    negative-input half on convolutions whose input has no negative entry (that half is exactly zero), and a
    module whose rule replaces its input gradient skips its own backward (``_rules_replace_gradients``). The class
    attribute ``fast_rules = False`` runs zennit unchanged (the reference in the tests and
    ``benchmarks/bench_qc.py``).
    """

    fast_rules = True

    def __init__(self, composite: str = "epsilon_plus_flat", epsilon: float = 1e-6, ignore_bias: bool = True) -> None:
        self.composite = check_option("composite", composite, COMPOSITES, context="lrp")
        self.epsilon = check_float("epsilon", epsilon, min_value=0.0, context="lrp")
        self.ignore_bias = bool(ignore_bias)

    def _composite(self, model: nn.Module):
        from zennit.composites import COMPOSITES as ZENNIT_COMPOSITES
        from zennit.types import Convolution

        cls = ZENNIT_COMPOSITES[self.composite]
        zero_params = "bias" if self.ignore_bias else None
        kwargs = {"canonizers": canonizers_for(model), "zero_params": zero_params}
        if "epsilon" in self.composite:
            kwargs["epsilon"] = self.epsilon
        if self.fast_rules and self.composite in ("epsilon_plus_flat", "epsilon_plus"):  # ZPlus on convolutions
            kwargs["layer_map"] = [(Convolution, _zplus_rule(1e-6, zero_params))]
        return cls(**kwargs)

    def _skipping(self, model: nn.Module):
        return _rules_replace_gradients(model) if self.fast_rules else contextlib.nullcontext(model)

    def attribute_classes(self, model: nn.Module, x: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        """Relevance maps of every class in ``classes`` for every image: (N, K, C, H, W), one hooked forward pass.

        zennit's rules are linear in the output relevance, so the K one-hot-times-logit output relevances go
        through one backward pass as a batch of output gradients (``is_grads_batched``); the maps equal K
        separate ``attribute`` calls. ``x`` is assumed validated (see :func:`xaikit.explain.class_maps`).
        """
        classes = torch.as_tensor(classes, device=x.device).long().flatten()
        k = len(classes)
        with eval_mode(model), frozen_parameters(model), no_inplace(model), \
                self._composite(model).context(model) as hooked, self._skipping(hooked):
            xi = x.detach().requires_grad_(True)
            out = hooked(xi)
            logits = out.detach()
            grad_outputs = torch.zeros(k, *out.shape, dtype=out.dtype, device=out.device)
            rows = torch.arange(k, device=out.device)
            grad_outputs[rows, :, classes] = logits[:, classes].T
            (relevance,) = torch.autograd.grad(out, xi, grad_outputs=grad_outputs, is_grads_batched=True)
        return relevance.transpose(0, 1).detach()

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        from zennit.attribution import Gradient

        composite = self._composite(model)

        def one_hot_logit(output: torch.Tensor) -> torch.Tensor:
            return output * nn.functional.one_hot(target, output.shape[1]).to(output.dtype)

        with no_inplace(model), Gradient(model=model, composite=composite, attr_output=one_hot_logit) as attributor, \
                self._skipping(model):
            _, relevance = attributor(x)
        return relevance
