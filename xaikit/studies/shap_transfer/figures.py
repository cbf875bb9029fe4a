"""Study 3's figures: SHAP grids, the foreign prediction distribution, region masses, the shortcut maps."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ...report import map_grid
from .analysis import distribution_vs_paper

__all__ = ["distribution_figure", "explained_grid", "mass_figure", "shap_grid", "shortcut_figure"]


# --------------------------------------------------------------------------- figures
def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)



def shap_grid(images, maps, classes, probs, class_names: Sequence[str], row_titles: Sequence[str], *,
              outlines=None, max_rows: int = 8):
    """Paper 004's SHAP plots as one grid: per row the image, then the SHAP map of each top-k class.

    ``maps`` (N, k, C, H, W) and ``classes`` (N, k) as :meth:`xaikit.explain.ShapPartition.top_k`
    returns them; ``probs`` (N, K). Red pushes the class's probability up, blue down (shap's
    convention), on one symmetric colour scale per row; ``outlines`` (N, 1, H, W) draws the lesion
    on the image.

    Examples
    --------
    >>> maps = np.random.default_rng(0).normal(size=(2, 2, 1, 8, 8))
    >>> fig = shap_grid(np.zeros((2, 1, 8, 8)), maps, [[0, 1], [2, 0]], np.full((2, 4), 0.25),
    ...                 ["glioma", "meningioma", "no_tumour", "pituitary"], ["a", "b"])
    >>> len(fig.axes)
    6
    """
    maps, classes, probs = _np(maps), _np(classes).astype(int), _np(probs)
    n, k = min(len(maps), max_rows), maps.shape[1]
    titles = [[f"{class_names[c]} {probs[i, c]:.2f}" for c in classes[i]] for i in range(n)]
    return map_grid(images, {f"top {j + 1}": maps[:, j] for j in range(k)}, outlines=outlines,
                    map_outlines={f"top {j + 1}": np.zeros((len(maps), 1, *maps.shape[3:]), bool) for j in range(k)},
                    scale="row", cmap="bwr", alpha=0.65, outline_color="yellow", row_labels=row_titles[:n],
                    cell_titles=titles, max_images=n, cell=1.9)


def distribution_figure(dist: pd.DataFrame, *, paper: bool = True):
    """Stacked bars: the share of each predicted brain class per foreign class, ours (and the paper's xlsx).

    Examples
    --------
    >>> fig = distribution_figure(predicted_distribution([[0.1, 0.6, 0.2, 0.1]], [2]))
    >>> fig.axes[0].get_ylabel()
    'share of images (top-1)'
    """
    import matplotlib.pyplot as plt

    table = distribution_vs_paper(dist) if paper else dist.rename(columns={"share": "ours"})
    actual = list(dict.fromkeys(table["actual"]))
    predicted = list(dict.fromkeys(table["predicted"]))
    sources = ["ours", "paper_xlsx"] if paper else ["ours"]
    colours = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    width = 0.8 / len(sources)
    for s, source in enumerate(sources):
        bottom = np.zeros(len(actual))
        for k, pred in enumerate(predicted):
            vals = np.array([float(table[(table["actual"] == a) & (table["predicted"] == pred)][source].iloc[0])
                             for a in actual])
            vals = np.nan_to_num(vals)
            ax.bar(np.arange(len(actual)) + (s - (len(sources) - 1) / 2) * width, vals, width * 0.95, bottom=bottom,
                   color=colours(k), label=pred if s == 0 else None, hatch="//" if source == "paper_xlsx" else None,
                   edgecolor="white", linewidth=0.5)
            bottom += vals
    ax.set_xticks(np.arange(len(actual)), [f"{a}\n(left: ours" + (", right: paper)" if paper else ")")
                                           for a in actual], fontsize=8)
    ax.set_ylabel("share of images (top-1)")
    ax.set_ylim(0, 1)
    ax.legend(title="predicted brain class", fontsize=7, title_fontsize=7, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return fig



def mass_figure(ci: pd.DataFrame, *, x: str = "region", hue: str = "domain", area: pd.DataFrame | None = None):
    """Mean mass fraction per region and domain with bootstrap intervals (``bootstrap_ci`` output).

    ``area`` (optional, columns ``region, <hue>, area``) marks each region's share of the image with a
    tick: what a map without any preference would put there.

    Examples
    --------
    >>> ci = pd.DataFrame({"region": ["organ", "organ"], "domain": ["a", "b"], "estimate": [0.5, 0.3],
    ...                    "low": [0.4, 0.2], "high": [0.6, 0.4]})
    >>> len(mass_figure(ci).axes[0].patches)
    2
    """
    import matplotlib.pyplot as plt

    regions = list(dict.fromkeys(ci[x]))
    groups = list(dict.fromkeys(ci[hue]))
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    width = 0.8 / len(groups)
    for g, group in enumerate(groups):
        sub = ci[ci[hue] == group].set_index(x).reindex(regions)
        pos = np.arange(len(regions)) + (g - (len(groups) - 1) / 2) * width
        est = sub["estimate"].to_numpy(float)
        err = np.vstack([est - sub["low"].to_numpy(float), sub["high"].to_numpy(float) - est])
        ax.bar(pos, est, width * 0.9, yerr=np.nan_to_num(err), capsize=3, label=group)
        if area is not None:
            a = area[area[hue] == group].set_index(x).reindex(regions)["area"].to_numpy(float)
            ax.scatter(pos, a, marker="_", s=200, color="black", zorder=3,
                       label="region's share of the image" if g == 0 else None)
    ax.set_xticks(np.arange(len(regions)), [r.replace("_", " ") for r in regions], fontsize=8)
    ax.set_ylabel("share of |SHAP| mass")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig



def shortcut_figure(images, maps: Mapping[str, object], shortcut_masks, titles: Sequence[str] | None = None, *,
                    max_images: int = 4):
    """Rows: images carrying the marker; columns: the absolute attribution map of each model × method, the marker
    outlined.

    Examples
    --------
    >>> sc = np.zeros((1, 1, 8, 8), bool); sc[0, 0, :2, -2:] = True
    >>> fig = shortcut_figure(np.zeros((1, 1, 8, 8)), {"SHAP": np.ones((1, 1, 8, 8))}, sc)
    >>> len(fig.axes)
    2
    """
    n = min(len(_np(images)), max_images)
    return map_grid(images, maps, map_outlines={name: shortcut_masks for name in maps}, value="absolute",
                    overlay=False, outline_color="cyan", max_images=n, cell=1.9,
                    row_labels=list(titles)[:n] if titles is not None else [f"#{i}" for i in range(n)])


def explained_grid(ds, ex, class_names: Sequence[str]):
    """:func:`shap_grid` of an :class:`~xaikit.studies.shap_transfer.analysis.Explained` sample: one image per
    class with the SHAP maps of its top-k classes, the lesion outlined."""
    return shap_grid(ds.images[ex.pick][ex.show], ex.maps_show, ex.top_show, ex.probs[ex.show], class_names,
                     ex.row_titles, outlines=ds.masks[ex.pick][ex.show])
