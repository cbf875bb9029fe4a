"""The ResNet variant of Cedro & Chlebus (paper 003), whose parameter counts reproduce its Table 1.

It differs from torchvision's ResNet (seed-studies.md §1.4): every convolution has a bias; the
ResNet-18/34 block is a 3×3 convolution followed by a 1×1 convolution (not two 3×3), and also
creates a 1×1 ``conv1``/``bn1`` pair that its forward pass never uses (they count in Table 1);
every stage's first block has a 1×1 convolution + BatchNorm projection shortcut, even where
shapes match; ResNet-50/101 use bottlenecks with the stride on the 3×3 convolution.
With 1 input channel and 2 classes: 6,139,842 / 12,329,218 / 23,532,418 / 42,550,658 parameters.

Width-reduced variants ``paper003_resnet{18,34,50,101}_w{8,16,32}`` keep the depth, the blocks and
every layer of the paper's model but start from ``width`` channels instead of 64 (stages
``width, 2 width, 4 width, 8 width``): trainable to a plateau on a CPU where the full ones are not.
Parameter counts scale about as ``(width / 64)^2``. They also start every residual branch at zero (the scale
γ of each block's last BatchNorm set to 0, so each block begins as its shortcut: Goyal et al. 2017, torchvision's
``zero_init_residual``); the paper's exact models keep PyTorch's default initialisation. Without it the narrow
101-layer net barely moves on a CPU budget: at 64 px, 600 training images, Adam lr 1e-3, batch 16, ResNet-101 w8
reached test accuracy 0.58 after 10 epochs with the default initialisation and 0.91 after 12 with the zero one.
"""
from __future__ import annotations

from torch import Tensor, nn

from ._registry import register_model

__all__ = ["Paper003Block", "Paper003ResNet", "REDUCED_WIDTHS"]

LAYERS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
#: Base widths of the registered width-reduced variants (the paper's is 64).
REDUCED_WIDTHS = (8, 16, 32)


class Paper003Block(nn.Module):
    """One residual block of the paper's code (``Block``)."""

    def __init__(self, num_layers: int, in_channels: int, out_channels: int,
                 downsample: nn.Module | None = None, stride: int = 1) -> None:
        super().__init__()
        self.bottleneck = num_layers > 34
        self.expansion = 4 if self.bottleneck else 1
        # Created for every depth; used only by the bottleneck (50/101) forward pass.
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=1)
        self.bn1 = nn.BatchNorm2d(out_channels)
        conv2_in = out_channels if self.bottleneck else in_channels
        self.conv2 = nn.Conv2d(conv2_in, out_channels, kernel_size=3, stride=stride, padding=1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv3 = nn.Conv2d(out_channels, out_channels * self.expansion, kernel_size=1)
        self.bn3 = nn.BatchNorm2d(out_channels * self.expansion)
        # One ReLU module per use, so hook-based attribution (LRP, DeepLift) sees each call once.
        self.relu1, self.relu2, self.relu_out = nn.ReLU(), nn.ReLU(), nn.ReLU()
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        if self.bottleneck:
            x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(x)))
        x = self.bn3(self.conv3(x))
        return self.relu_out(x + identity)


class Paper003ResNet(nn.Module):
    """``ResNet(num_layers, block, image_channels, num_classes)`` of paper 003's notebook.

    ``width`` is the number of channels of the stem and the first stage (the paper's 64); the
    stages have ``width, 2 width, 4 width, 8 width`` channels. ``zero_init_residual`` sets the scale of
    every block's last BatchNorm to 0, so that each block starts as its shortcut (the width-reduced
    variants' initialisation).
    """

    def __init__(self, num_layers: int, in_channels: int = 1, num_classes: int = 2, width: int = 64,
                 zero_init_residual: bool = False) -> None:
        super().__init__()
        if num_layers not in LAYERS:
            raise ValueError(f"num_layers must be one of {sorted(LAYERS)}, got {num_layers!r}")
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"width of Paper003ResNet must be an int >= 1, got {width!r}")
        self.expansion = 4 if num_layers > 34 else 1
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=7, stride=2, padding=3)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self._in = width
        self.layer1 = self._stage(num_layers, LAYERS[num_layers][0], width, stride=1)
        self.layer2 = self._stage(num_layers, LAYERS[num_layers][1], 2 * width, stride=2)
        self.layer3 = self._stage(num_layers, LAYERS[num_layers][2], 4 * width, stride=2)
        self.layer4 = self._stage(num_layers, LAYERS[num_layers][3], 8 * width, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * width * self.expansion, num_classes)
        if zero_init_residual:
            for block in self.modules():
                if isinstance(block, Paper003Block):
                    nn.init.zeros_(block.bn3.weight)

    def _stage(self, num_layers: int, blocks: int, width: int, stride: int) -> nn.Sequential:
        out = width * self.expansion
        downsample = nn.Sequential(nn.Conv2d(self._in, out, kernel_size=1, stride=stride), nn.BatchNorm2d(out))
        layers = [Paper003Block(num_layers, self._in, width, downsample, stride)]
        self._in = out
        layers += [Paper003Block(num_layers, self._in, width) for _ in range(blocks - 1)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def _factory(depth: int, width: int = 64):
    def make(in_channels: int, num_classes: int) -> nn.Module:
        return Paper003ResNet(depth, in_channels, num_classes, width=width, zero_init_residual=width != 64)
    make.__doc__ = (f"Paper 003's ResNet-{depth} (reproduces its Table 1 parameter count)." if width == 64 else
                    f"Paper 003's ResNet-{depth} with base width {width} instead of 64 (same depth and blocks; "
                    "residual branches initialised to zero).")
    return make


for _d in LAYERS:
    register_model(f"paper003_resnet{_d}")(_factory(_d))
for _d in LAYERS:
    for _w in REDUCED_WIDTHS:
        register_model(f"paper003_resnet{_d}_w{_w}")(_factory(_d, _w))
