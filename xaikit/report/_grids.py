"""One image grid for every study: images, attribution maps over them, masks outlined; and the confusion matrix."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import check_option

__all__ = ["confusion_figure", "map_grid"]


def _numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def map_grid(images, maps: Mapping[str, Any] | None = None, *, outlines=None,
             map_outlines: Mapping[str, Any] | None = None,
             image_column: bool = True, overlay: bool = True, value: str = "signed", scale: str = "map",
             cmap: str | None = None, alpha: float = 0.75, outline_color: str = "lime", image_outline_color=None,
             row_labels: Sequence[str] | None = None, column_labels: Sequence[str] | None = None,
             cell_titles=None, transpose: bool = False, max_images: int | None = None, cell: float = 1.8,
             title: str = ""):
    """Images and their attribution maps in one grid: one row per image, one column per map (or transposed).

    Parameters
    ----------
    images : (N, C, H, W) in [0, 1] (channels averaged for display).
    maps : column name → (N, C, H, W) maps of the same images (channels summed), in column order.
    outlines : (N, 1, H, W) bool masks outlined on every cell (e.g. the lesion).
    map_outlines : column name → (N, 1, H, W) masks outlined on that column instead of ``outlines``
        (e.g. each finding's own mask beside its class map).
    image_column : show the image itself as the first column.
    overlay : draw each map over its image (``alpha``); otherwise the map alone.
    value : "signed" (diverging colours, symmetric limits) or "absolute" (the magnitude, from 0).
    scale : colour limits per "map" (each cell) or per "row" (one image's maps share a scale).
    cmap : colour map of the maps (default "seismic" signed, "magma" absolute).
    row_labels, column_labels : y labels of the rows, titles of the columns.
    cell_titles : (N, M) strings, one title per map cell (overrides the column title).
    transpose : images as columns and maps as rows (labels swap roles accordingly).
    max_images : show at most this many images.

    Returns
    -------
    matplotlib Figure.

    Examples
    --------
    >>> x = np.zeros((2, 1, 8, 8)); m = {"a": np.ones((2, 1, 8, 8)), "b": -np.ones((2, 1, 8, 8))}
    >>> len(map_grid(x, m).axes)
    6
    """
    import matplotlib.pyplot as plt

    check_option("value", value, ("signed", "absolute"), context="map_grid")
    check_option("scale", scale, ("map", "row"), context="map_grid")
    images = _numpy(images)
    maps = {k: _numpy(v) for k, v in (maps or {}).items()}
    n = len(images) if max_images is None else min(len(images), max_images)
    for name, m in maps.items():
        if len(m) < n or m.shape[2:] != images.shape[2:]:
            raise ValueError(f"maps[{name!r}] must hold one map per image shaped like the images "
                             f"({n}, *, {images.shape[2]}, {images.shape[3]}); got {m.shape}")
    outlines = None if outlines is None else _numpy(outlines).astype(bool)
    map_outlines = {k: _numpy(v).astype(bool) for k, v in (map_outlines or {}).items()}
    cmap = cmap or ("seismic" if value == "signed" else "magma")
    columns = (["image"] if image_column else []) + list(maps)
    n_rows, n_cols = (len(columns), n) if transpose else (n, len(columns))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(cell * n_cols + 0.6, cell * n_rows + 0.2), squeeze=False)
    for i in range(n):
        img = images[i].mean(0)
        reduced = {k: m[i].sum(0) for k, m in maps.items()}
        if value == "absolute":
            reduced = {k: np.abs(v) for k, v in reduced.items()}
        row_lim = max([float(np.abs(v).max()) for v in reduced.values()] + [0.0]) or 1.0
        for j, col in enumerate(columns):
            ax = axes[j, i] if transpose else axes[i, j]
            mask = map_outlines.get(col, outlines)
            if col == "image" and image_column:
                ax.imshow(img, cmap="gray", vmin=0, vmax=1)
                mask = outlines
                color = image_outline_color or outline_color
            else:
                a = reduced[col]
                lim = (float(np.abs(a).max()) or 1.0) if scale == "map" else row_lim
                lo = -lim if value == "signed" else 0.0
                if overlay:
                    ax.imshow(img, cmap="gray", vmin=0, vmax=1)
                ax.imshow(a, cmap=cmap, vmin=lo, vmax=lim, alpha=alpha if overlay else 1.0)
                color = outline_color
                k = j - (1 if image_column else 0)
                if cell_titles is not None:
                    ax.set_title(str(np.asarray(cell_titles, dtype=object)[i][k]), fontsize=7)
            if mask is not None and mask[i].any():
                ax.contour(mask[i, 0], levels=[0.5], colors=color, linewidths=0.7)
            ax.set_xticks([])
            ax.set_yticks([])
    if transpose:
        for j, col in enumerate(columns):
            axes[j, 0].set_ylabel((column_labels[j] if column_labels is not None else col), fontsize=7)
        if row_labels is not None:
            for i in range(n):
                axes[0, i].set_title(row_labels[i], fontsize=8)
    else:
        if row_labels is not None:
            for i in range(n):
                axes[i, 0].set_ylabel(row_labels[i], fontsize=7)
        if cell_titles is None:
            for j, col in enumerate(columns):
                axes[0, j].set_title(column_labels[j] if column_labels is not None else col, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def confusion_figure(cm, class_names: Sequence[str]):
    """The confusion matrix (counts; rows true, columns predicted), annotated.

    Examples
    --------
    >>> confusion_figure([[3, 1], [0, 4]], ["a", "b"]).axes[0].get_xlabel()
    'predicted'
    """
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] != len(class_names):
        raise ValueError(f"cm must be a square matrix with one row per class name ({len(class_names)}), "
                         f"got shape {cm.shape}")
    fig, ax = plt.subplots(figsize=(3.8, 3.4))
    ax.imshow(cm, cmap="Blues")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(len(class_names)), class_names, rotation=30, fontsize=7)
    ax.set_yticks(range(len(class_names)), class_names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.tight_layout()
    return fig
