"""Figures shared by the study notebooks (matplotlib/seaborn, imported lazily)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["attribution_overlay", "score_histogram", "training_curves", "save_figure"]


def _numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _signed_limits(a: np.ndarray) -> float:
    m = float(np.abs(a).max())
    return m if m > 0 else 1.0


def attribution_overlay(images, attributions, masks, titles=None, *, max_images: int = 6):
    """Rows: image with the mask outlined; the signed attribution (seismic, symmetric limits) over it.

    ``images``/``attributions`` are (N, C, H, W) arrays or tensors (channels summed for display),
    ``masks`` (N, 1, H, W) bool.
    """
    import matplotlib.pyplot as plt

    images, attributions, masks = (_numpy(t) for t in (images, attributions, masks))
    n = min(len(images), max_images)
    fig, axes = plt.subplots(2, n, figsize=(2.2 * n, 4.6), squeeze=False)
    for i in range(n):
        img = images[i].mean(0)
        att = attributions[i].sum(0)
        lim = _signed_limits(att)
        ax = axes[0, i]
        ax.imshow(img, cmap="gray", vmin=0, vmax=1)
        ax.contour(masks[i, 0], levels=[0.5], colors="yellow", linewidths=0.8)
        ax.set_title(titles[i] if titles is not None else f"#{i}", fontsize=8)
        ax = axes[1, i]
        ax.imshow(img, cmap="gray", vmin=0, vmax=1)
        ax.imshow(att, cmap="seismic", vmin=-lim, vmax=lim, alpha=0.7)
        ax.contour(masks[i, 0], levels=[0.5], colors="black", linewidths=0.6)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].set_ylabel("image + mask")
    axes[1, 0].set_ylabel("attribution")
    fig.tight_layout()
    return fig


def score_histogram(df, *, value: str = "score", hue: str = "class", chance=None, bins: int = 20):
    """Histogram of per-image scores by ``hue``, with the random-attribution expectation as a line."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    sns.histplot(data=df, x=value, hue=hue, bins=bins, binrange=(0, 1), element="step", ax=ax)
    if chance is not None:
        ax.axvline(chance, color="gray", ls="--", lw=1, label="random map (expected)")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xlabel(value)
    fig.tight_layout()
    return fig


def training_curves(history):
    """Train and validation loss per epoch from a ``fit`` history DataFrame."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(history["epoch"], history["train_loss"], marker="o", label="train")
    ax.plot(history["epoch"], history["val_loss"], marker="o", label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.legend()
    fig.tight_layout()
    return fig


def save_figure(fig, path: str | Path, dpi: int = 120) -> Path:
    """Save ``fig`` as PNG atomically."""
    import io

    from ._io import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return atomic_write_bytes(path, buf.getvalue())
