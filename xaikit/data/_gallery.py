"""A gallery figure of a dataset: a few images per class with their masks outlined."""
from __future__ import annotations

import numpy as np

from .._validation import check_int
from ._base import ImageSet

__all__ = ["gallery"]

_COLOURS = ("#ff3b30", "#ffcc00", "#34c759", "#0a84ff", "#bf5af2", "#ff9f0a")


def gallery(imageset: ImageSet, n_per_class: int = 4, *, outline: bool = True, organ: bool = False,
            shortcut: bool = True, seed: int = 0, panel_size: float = 1.9, title: str | None = None):
    """A matplotlib Figure: one row per class (per finding for multi-label data), masks outlined.

    Parameters
    ----------
    imageset : the data to show.
    n_per_class : images per row, >= 1.
    outline : draw each evidence mask's outline (one colour per mask channel).
    organ : also outline the organ mask (dashed, cyan).
    shortcut : outline the spurious shortcut's mask, where there is one (dotted, white).
    seed : picks which images of each class are shown.
    panel_size : inches per panel.
    title : the figure title; default the dataset name.

    Examples
    --------
    >>> from xaikit.data import chest_covid, gallery
    >>> fig = gallery(chest_covid(8, image_size=32), n_per_class=2)
    >>> len(fig.axes)
    4
    """
    import matplotlib.pyplot as plt

    check_int("n_per_class", n_per_class, min_value=1, context="gallery")
    rng = np.random.default_rng(seed)
    k = len(imageset.class_names)
    rows = []
    for c in range(k):
        members = np.flatnonzero(imageset.labels[:, c] == 1 if imageset.multilabel else imageset.labels == c)
        if imageset.multilabel:  # prefer images with this finding alone, the clearest examples
            alone = members[imageset.labels[members].sum(axis=1) == 1]
            members = np.concatenate([rng.permutation(alone), rng.permutation(np.setdiff1d(members, alone))])
        else:
            members = rng.permutation(members)
        rows.append(members[:n_per_class])
    fig, axes = plt.subplots(k, n_per_class, figsize=(panel_size * n_per_class, panel_size * k + 0.4),
                             squeeze=False)
    for r, (cname, idx) in enumerate(zip(imageset.class_names, rows, strict=True)):
        for j in range(n_per_class):
            ax = axes[r, j]
            ax.set_xticks([])
            ax.set_yticks([])
            for sp in ax.spines.values():
                sp.set_visible(False)
            if j == 0:
                ax.set_ylabel(cname.replace("_", " "), fontsize=9)
            if j >= len(idx):
                continue
            i = idx[j]
            ax.imshow(imageset.images[i].mean(axis=0), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            if outline:
                channels = [r] if imageset.multilabel else range(imageset.masks.shape[1])
                for ch in channels:
                    m = imageset.masks[i, ch]
                    if m.any() and not m.all():
                        ax.contour(m.astype(float), levels=[0.5], colors=_COLOURS[ch % len(_COLOURS)],
                                   linewidths=0.8)
            if organ and imageset.organ_masks is not None:
                ax.contour(imageset.organ_masks[i, 0].astype(float), levels=[0.5], colors="#5ac8fa",
                           linewidths=0.6, linestyles="--")
            if shortcut and imageset.shortcut_masks is not None and imageset.shortcut_masks[i, 0].any():
                ax.contour(imageset.shortcut_masks[i, 0].astype(float), levels=[0.5], colors="white",
                           linewidths=0.6, linestyles=":")
    fig.suptitle(title if title is not None else imageset.name, fontsize=10)
    fig.tight_layout()
    return fig
