"""Study 1's figures: training curves, attribution maps, score bars (the paper's Figs. 6–9), randomisation curves."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...report import map_grid
from .analysis import METRIC_LABELS, arch_label

__all__ = ["attribution_grid", "figures_6_9", "randomisation_curves", "score_bars", "training_curves_grid"]


def score_bars(summary: pd.DataFrame, metric: str, cls: str, *, ci: pd.DataFrame | None = None,
               paper: bool = True, baselines: pd.DataFrame | None = None, ax=None):
    """Figures 6-9: bars of the mean score per method (groups) and model (bars) for one metric and class.

    ``ci`` (from :func:`xaikit.stats.bootstrap_ci` by metric, class, arch, method) adds error bars;
    ``paper`` marks the paper's means as black ticks; a dashed line marks the random-map baseline, and with
    ``baselines`` (scores of the model-free maps: ``metric, class, method, score``) a dotted line marks the
    strongest model-free map of the cell, named in the legend.
    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    s = summary[(summary["metric"] == metric) & (summary["class"] == cls)]
    if s.empty:
        raise ValueError(f"score_bars: no rows for metric {metric!r} and class {cls!r}")
    methods = list(dict.fromkeys(s["method"]))
    archs = list(dict.fromkeys(s["arch"]))
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.6 + 1.5 * len(methods), 3.0))
    else:
        fig = ax.figure
    width = 0.8 / len(archs)
    for j, arch in enumerate(archs):
        rows = s[s["arch"] == arch].set_index("method").reindex(methods)
        pos = np.arange(len(methods)) + (j - (len(archs) - 1) / 2) * width
        err = None
        if ci is not None:
            c = ci[(ci["metric"] == metric) & (ci["class"] == cls) & (ci["arch"] == arch)].set_index("method")
            c = c.reindex(methods)
            err = np.vstack([rows["mean"] - c["low"], c["high"] - rows["mean"]]).clip(min=0)
        ax.bar(pos, rows["mean"], width, yerr=err, capsize=2, label=arch_label(arch))
        if paper and rows["paper_mean"].notna().any():
            ax.scatter(pos, rows["paper_mean"], marker="_", s=200, color="black", zorder=3,
                       label="paper" if j == 0 else None)
    ax.axhline(float(s["random"].mean()), color="grey", ls="--", lw=1, label="random map")
    if baselines is not None:
        b = baselines[(baselines["metric"] == metric) & (baselines["class"] == cls)].groupby("method")["score"].mean()
        if len(b):
            ax.axhline(float(b.max()), color="C3", ls=":", lw=1.2,
                       label=f"strongest model-free map ({b.idxmax().replace('_', ' ')})")
    ax.set_xticks(np.arange(len(methods)), [m.replace("_", "\n") for m in methods], fontsize=8)
    ax.set_ylabel(f"mean {METRIC_LABELS.get(metric, metric)}")
    ax.set_title(f"{METRIC_LABELS.get(metric, metric)}, {cls}")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    fig.tight_layout()
    return fig



def training_curves_grid(histories: Mapping[str, pd.DataFrame]):
    """One panel per model: train and validation cross-entropy per epoch, the selected epoch starred."""
    import matplotlib.pyplot as plt

    n = len(histories)
    fig, axes = plt.subplots(1, n, figsize=(2.8 * n, 2.6), sharey=True, squeeze=False)
    for ax, (arch, h) in zip(axes[0], histories.items(), strict=True):
        ax.plot(h["epoch"], h["train_loss"], marker="o", label="train")
        ax.plot(h["epoch"], h["val_loss"], marker="o", label="validation")
        best = h.loc[h["val_loss"].idxmin()]
        ax.scatter([best["epoch"]], [best["val_loss"]], marker="*", s=120, color="black", zorder=3, label="kept")
        ax.set_title(arch_label(arch), fontsize=9)
        ax.set_xlabel("epoch")
    axes[0, 0].set_ylabel("cross-entropy")
    axes[0, -1].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig



def attribution_grid(images, masks, maps: Mapping[tuple[str, str], Any], titles: Sequence[str] | None = None):
    """Columns: the images; rows: the images (masks outlined in green), then one row per (model, method) map of the
    same images over them, signed (seismic, symmetric limits per map, channels summed).

    Examples
    --------
    >>> x = np.zeros((2, 1, 8, 8)); m = np.zeros((2, 1, 8, 8), bool)
    >>> len(attribution_grid(x, m, {("paper003_resnet18", "saliency"): np.ones((2, 1, 8, 8))}).axes)
    4
    """
    columns = {f"{arch_label(arch)}\n{method.replace('_', ' ')}": a for (arch, method), a in maps.items()}
    return map_grid(images, columns, outlines=masks, transpose=True, alpha=0.85, cell=1.5,
                    row_labels=list(titles) if titles is not None else None)


def randomisation_curves(sanity: pd.DataFrame):
    """Mean Spearman correlation with the trained model's map per cascade step, one line per method."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.0))
    for method, g in sanity.groupby("method", sort=False):
        m = g.groupby(["step", "layer"], sort=True)["spearman"].mean().reset_index()
        ax.plot(m["step"], m["spearman"], marker="o", label=method.replace("_", " "))
        labels = m["layer"].tolist()
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("cascade: layers re-initialised from the output down to")
    ax.set_ylabel("Spearman ρ with trained map")
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def figures_6_9(summary: pd.DataFrame, ci: pd.DataFrame | None = None, baselines: pd.DataFrame | None = None):
    """The paper's Figures 6–9 as one 2 × 2 panel: :func:`score_bars` per metric (rows) and class (columns)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 6.4))
    cells = [(m, c) for m in METRIC_LABELS for c in ("covid", "healthy")]
    for ax, (metric, cls) in zip(axes.flat, cells, strict=True):
        score_bars(summary, metric, cls, ci=ci, baselines=baselines, ax=ax)
    fig.tight_layout()
    return fig
