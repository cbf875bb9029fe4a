"""Attribution-safe copies of models: no in-place activations, no reused activation modules.

Hook-based attribution (Captum's LRP and DeepLift, zennit, full backward hooks in general) needs
two things a training-oriented model often lacks:

1. **no in-place operation on a hooked module's output**: ``nn.ReLU(inplace=True)`` after a
   hooked BatchNorm, or torchvision DenseNet's ``F.relu(features, inplace=True)``, make
   ``register_full_backward_hook`` fail with "a view ... is being modified inplace";
2. **one module per use**: torchvision's ResNet blocks call one ``self.relu`` two or three times,
   so per-module rules and saved activations see only the last call.

:func:`attribution_safe` fixes both for every model the registry builds and for torchvision's
ResNet, DenseNet and Inception-v3 classes. It cannot fix in-place *functional* calls
(``F.relu(x, inplace=True)``, ``x.add_(...)``) inside a ``forward`` it does not know;
:func:`attribution_problems` finds what is left by running a forward and backward pass with a
full backward hook on every leaf module.
"""
from __future__ import annotations

import copy

import torch
from torch import Tensor, nn
from torchvision.models.densenet import DenseNet
from torchvision.models.inception import BasicConv2d
from torchvision.models.resnet import BasicBlock, Bottleneck

from ._torchvision import DenseNet121, SafeBasicConv2d

__all__ = ["SafeBasicBlock", "SafeBottleneck", "attribution_safe", "attribution_problems"]


class SafeBasicBlock(BasicBlock):
    """torchvision ``BasicBlock`` forward with one ReLU module per use (``relu`` kept for the first)."""

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu_out(out + identity)


class SafeBottleneck(Bottleneck):
    """torchvision ``Bottleneck`` forward with one ReLU module per use."""

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu_out(out + identity)


def attribution_safe(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` in eval mode that full backward hooks and per-module rules can use.

    Sets ``inplace=False`` on every module that has the flag (ReLU, LeakyReLU, ELU, Hardtanh,
    SiLU, Dropout, ...); gives torchvision ResNet blocks one ReLU module per use
    (``relu``, ``relu2``, ``relu_out``); replaces torchvision DenseNet's functional in-place final
    ReLU with a module and Inception's ``BasicConv2d`` functional ReLU with a module. Weights,
    state-dict keys and outputs are unchanged. The original model is not modified.

    Examples
    --------
    >>> import torch
    >>> from xaikit.models import create_model
    >>> safe = attribution_safe(create_model("resnet18", 1, 2))
    >>> attribution_problems(safe, torch.rand(1, 1, 32, 32))
    []
    """
    safe = copy.deepcopy(model).eval()
    for module in list(safe.modules()):
        if hasattr(module, "inplace") and isinstance(module.inplace, bool):
            module.inplace = False
        # Same weights and keys; a subclass whose forward uses one module per activation.
        if type(module) is BasicBlock:
            module.relu_out = nn.ReLU()
            module.__class__ = SafeBasicBlock
        elif type(module) is Bottleneck:
            module.relu2, module.relu_out = nn.ReLU(), nn.ReLU()
            module.__class__ = SafeBottleneck
        elif type(module) is BasicConv2d:
            module.relu = nn.ReLU()
            module.__class__ = SafeBasicConv2d
        elif type(module) is DenseNet:  # any depth: DenseNet121.forward is depth-agnostic
            module.final_relu, module.pool = nn.ReLU(), nn.AdaptiveAvgPool2d((1, 1))
            module.__class__ = DenseNet121
    return safe


def attribution_problems(model: nn.Module, x: Tensor) -> list[str]:
    """What would break hook-based attribution on ``model`` for input ``x``; empty when nothing.

    Runs ``model(x)`` in its current mode twice: once with a forward hook counting calls on every
    leaf module, once with a full backward hook on every leaf module, backpropagating the sum of
    the outputs. Reports modules
    with ``inplace=True``, leaf modules called more than once, and any error the hooks raise
    (in-place changes of a hooked output). The model's hooks are removed afterwards.
    """
    problems = [f"{name}: inplace=True" for name, m in model.named_modules()
                if getattr(m, "inplace", False) is True]
    leaves = [(name, m) for name, m in model.named_modules() if next(m.children(), None) is None]
    calls: dict[str, int] = {}
    handles = [m.register_forward_hook(lambda m, i, o, name=name: calls.__setitem__(name, calls.get(name, 0) + 1))
               for name, m in leaves]
    try:  # pass 1: count calls (no backward hooks, which may fail before every module has run)
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    handles = [m.register_full_backward_hook(lambda m, gi, go: None) for _, m in leaves]
    try:  # pass 2: a full backward hook on every leaf
        x = x.detach().clone().requires_grad_(True)
        out = model(x)
        out = out if isinstance(out, Tensor) else out[0]
        out.sum().backward()
    except RuntimeError as err:
        problems.append(f"forward/backward with full backward hooks failed: {str(err).splitlines()[0]}")
    finally:
        for h in handles:
            h.remove()
    problems += [f"{name}: called {n} times in one forward pass" for name, n in sorted(calls.items()) if n > 1]
    return problems
