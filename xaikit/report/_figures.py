"""Figures shared by the study notebooks (matplotlib/seaborn, imported lazily)."""
from __future__ import annotations

from pathlib import Path

__all__ = ["attribution_overlay", "score_histogram", "training_curves", "save_figure"]


def attribution_overlay(images, attributions, masks, titles=None, *, max_images: int = 6):
    """Columns: the images; rows: each image with its mask outlined, then the signed attribution over it.

    ``images``/``attributions`` are (N, C, H, W) arrays or tensors (channels summed for display),
    ``masks`` (N, 1, H, W) bool. A thin layout of :func:`xaikit.report.map_grid`.
    """
    from ._grids import map_grid

    n = min(len(images), max_images)
    return map_grid(images, {"attribution": attributions}, outlines=masks, transpose=True, alpha=0.7,
                    outline_color="black", image_outline_color="yellow", max_images=max_images,
                    column_labels=["image + mask", "attribution"],
                    row_labels=list(titles)[:n] if titles is not None else [f"#{i}" for i in range(n)], cell=2.2)


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
