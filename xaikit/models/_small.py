"""Small networks for smoke runs and tests (milliseconds per batch on a CPU)."""
from __future__ import annotations

from torch import nn

from ._registry import register_model

__all__: list[str] = []


@register_model("smallcnn", min_input_size=8)
def _small_cnn(in_channels: int, num_classes: int) -> nn.Module:
    """A four-layer CNN for smoke runs (about 60k parameters)."""
    def block(i: int, o: int) -> list[nn.Module]:
        return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(
        *block(in_channels, 16), *block(16, 32), *block(32, 64),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, num_classes),
    )


@register_model("tinycnn", min_input_size=2)
def _tiny_cnn(in_channels: int, num_classes: int) -> nn.Module:
    """A two-layer CNN with dropout (about 1.3k parameters), for tests of the training engine."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(16, num_classes),
    )
