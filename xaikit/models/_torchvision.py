"""torchvision architectures, built from scratch (``weights=None``) and adapted for attribution.

* ``resnet18/34/50/101``: torchvision ResNets with the first convolution rebuilt for
  ``in_channels`` (standard, bias-free; paper 003's own variant is in ``_paper003``).
* ``densenet121``: :class:`DenseNet121`, torchvision's DenseNet whose ReLUs are all
  non-inplace modules, including the final one that torchvision applies functionally and in place.
* ``inception_v3``: :class:`InceptionV3`, torchvision's Inception-v3 without the auxiliary head
  (the forward pass always returns the main logits), with a ReLU module in every conv block and
  a clear error below its minimum input size of 75×75 pixels.

State-dict keys equal torchvision's, so torchvision checkpoints load (after the first
convolution and the head are adapted to the channel and class counts).
"""
from __future__ import annotations

from functools import partial

import torch
from torch import Tensor, nn
from torchvision.models.densenet import DenseNet
from torchvision.models.inception import Inception3

from ._registry import register_model

__all__ = ["DenseNet121", "InceptionV3", "SafeBasicConv2d", "adapt_first_conv", "INCEPTION_MIN_SIZE"]

INCEPTION_MIN_SIZE = 75


def adapt_first_conv(conv: nn.Conv2d, in_channels: int) -> nn.Conv2d:
    """A copy of ``conv`` with ``in_channels`` inputs (freshly initialised), or ``conv`` if it already fits."""
    if conv.in_channels == in_channels:
        return conv
    return nn.Conv2d(in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                     conv.padding, conv.dilation, conv.groups, conv.bias is not None)


def _torchvision_resnet(depth: int):
    def factory(in_channels: int, num_classes: int) -> nn.Module:
        from torchvision import models as tvm

        model = getattr(tvm, f"resnet{depth}")(weights=None, num_classes=num_classes)
        model.conv1 = adapt_first_conv(model.conv1, in_channels)
        return model
    factory.__doc__ = f"torchvision ResNet-{depth} with the first convolution adapted to the input channels."
    return factory


for _d in (18, 34, 50, 101):
    register_model(f"resnet{_d}")(_torchvision_resnet(_d))


class DenseNet121(DenseNet):
    """torchvision's DenseNet-121 with attribution-safe activations.

    Every ``nn.ReLU`` is built with ``inplace=False`` and the forward pass ends with a ReLU
    *module* (``final_relu``) and ``nn.AdaptiveAvgPool2d`` instead of torchvision's
    ``F.relu(features, inplace=True)``, which breaks full backward hooks (Captum's LRP and
    DeepLift, zennit) because it overwrites the output of ``features`` in place.
    Parameters and state-dict keys are torchvision's.

    Examples
    --------
    >>> m = DenseNet121(in_channels=1, num_classes=5).eval()
    >>> m(torch.zeros(1, 1, 32, 32)).shape
    torch.Size([1, 5])
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 1000, **kwargs) -> None:
        super().__init__(32, (6, 12, 24, 16), 64, num_classes=num_classes, **kwargs)
        self.features.conv0 = adapt_first_conv(self.features.conv0, in_channels)
        if in_channels != 3:
            nn.init.kaiming_normal_(self.features.conv0.weight)
        for module in self.modules():
            if isinstance(module, nn.ReLU):
                module.inplace = False
        self.final_relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d((1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(torch.flatten(self.pool(self.final_relu(self.features(x))), 1))


@register_model("densenet121", min_input_size=29,
                description="torchvision DenseNet-121 with non-inplace ReLU modules throughout")
def _densenet121(in_channels: int, num_classes: int) -> nn.Module:
    """torchvision DenseNet-121, attribution-safe."""
    return DenseNet121(in_channels=in_channels, num_classes=num_classes)


class SafeBasicConv2d(nn.Module):
    """torchvision's Inception ``BasicConv2d`` (conv → BN(eps 1e-3) → ReLU) with a non-inplace ReLU module."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.bn(self.conv(x)))


class InceptionV3(Inception3):
    """torchvision's Inception-v3 without the auxiliary classifier, for ``in_channels`` inputs.

    The forward pass always returns the main logits (train and eval), so a training loop and
    attribution methods see one tensor. Inputs smaller than 75×75 pixels raise ``ValueError``
    (the stem and the reduction blocks shrink them to nothing). ``transform_input`` is off: the
    model sees the images as given. The max/avg poolings inside the inception blocks stay
    functional (``F.max_pool2d``), which gradient methods handle but module-rule LRP cannot see.

    Examples
    --------
    >>> m = InceptionV3(in_channels=1, num_classes=4).eval()
    >>> m(torch.zeros(1, 1, 75, 75)).shape
    torch.Size([1, 4])
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 1000, dropout: float = 0.5) -> None:
        from torchvision.models import inception as tvi

        blocks = [SafeBasicConv2d] + [partial(b, conv_block=SafeBasicConv2d) for b in (
            tvi.InceptionA, tvi.InceptionB, tvi.InceptionC, tvi.InceptionD, tvi.InceptionE, tvi.InceptionAux)]
        super().__init__(num_classes=num_classes, aux_logits=False, transform_input=False,
                         inception_blocks=blocks, init_weights=True, dropout=dropout)
        if in_channels != 3:
            self.Conv2d_1a_3x3.conv = adapt_first_conv(self.Conv2d_1a_3x3.conv, in_channels)
            nn.init.trunc_normal_(self.Conv2d_1a_3x3.conv.weight, mean=0.0, std=0.1, a=-2, b=2)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or min(x.shape[-2:]) < INCEPTION_MIN_SIZE:
            raise ValueError(f"inception_v3 needs inputs of shape (N, C, H, W) with H, W >= {INCEPTION_MIN_SIZE} "
                             f"pixels (299 in the paper), got {tuple(x.shape)}")
        return self._forward(x)[0]


@register_model("inception_v3", min_input_size=INCEPTION_MIN_SIZE,
                description="torchvision Inception-v3, no auxiliary head, ReLU modules, inputs >= 75 px")
def _inception_v3(in_channels: int, num_classes: int) -> nn.Module:
    """torchvision Inception-v3 (main logits only)."""
    return InceptionV3(in_channels=in_channels, num_classes=num_classes)
