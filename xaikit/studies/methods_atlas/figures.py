"""Study 4's figures: the methods × criteria heat table with intervals, the rank plot, quality vs runtime and the
gallery of every method on the same images."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ...report import map_grid

__all__ = ["cell_text", "gallery", "heat_figure", "quality_vs_runtime", "rank_plot", "randomisation_layers"]


def cell_text(mean: float, low: float, high: float) -> str:
    """A heat-table cell: ``0.52\\n[0.48, 0.57]``; the mean alone with one seed; "–" when not measured.

    Examples
    --------
    >>> cell_text(0.5234, 0.48, 0.571), cell_text(0.5, float("nan"), float("nan")), cell_text(float("nan"), 0, 0)
    ('0.52\\n[0.48, 0.57]', '0.50', '–')
    """
    if not np.isfinite(mean):
        return "–"
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{mean:.2f}"
    return f"{mean:.2f}\n[{low:.2f}, {high:.2f}]"


def heat_figure(heat: pd.DataFrame):
    """Methods (rows) × criteria (columns): colour = quality within the column (1 best), text = mean and the
    seed-level interval, both read from ``heat`` (:func:`~xaikit.studies.methods_atlas.analysis.heat_table`)."""
    import matplotlib.pyplot as plt

    if heat.empty:
        raise ValueError("heat_figure: the heat table is empty")
    rows = list(dict.fromkeys(heat["method"]))
    cols = list(dict.fromkeys(heat["criterion"]))
    q = np.full((len(rows), len(cols)), np.nan)
    fig, ax = plt.subplots(figsize=(1.25 * len(cols) + 2, 0.42 * len(rows) + 1.2))
    for r in heat.to_dict("records"):
        i, j = rows.index(r["method"]), cols.index(r["criterion"])
        q[i, j] = r["quality"]
        ax.text(j, i, cell_text(r["mean"], r["low"], r["high"]), ha="center", va="center", fontsize=5.5)
    ax.imshow(np.ma.masked_invalid(q), cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    metric = dict(zip(heat["criterion"], heat["metric"], strict=False))
    ax.set_xticks(range(len(cols)), [f"{c}\n{metric[c].replace('_', ' ')}" for c in cols], fontsize=6, rotation=30,
                  ha="right")
    kinds = dict(zip(heat["method"], heat["kind"], strict=False))
    ax.set_yticks(range(len(rows)), [m.replace("_", " ") + (" (baseline)" if kinds[m] == "baseline" else "")
                                     for m in rows], fontsize=7)
    ax.set_title("methods × criteria (colour: best = green within each column)", fontsize=8)
    fig.tight_layout()
    return fig


def rank_plot(ranks: pd.DataFrame):
    """One line per method: its rank (1 = best) on each criterion's headline metric."""
    import matplotlib.pyplot as plt

    cols = list(dict.fromkeys(ranks["criterion"]))
    fig, ax = plt.subplots(figsize=(1.0 * len(cols) + 3, 3.4))
    for method, g in ranks.groupby("method", sort=False):
        g = g.set_index("criterion").reindex(cols)
        style = "--" if (g["kind"] == "baseline").any() else "-"
        ax.plot(range(len(cols)), g["rank"], style, marker="o", lw=1, ms=3, label=method.replace("_", " "))
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right", fontsize=7)
    ax.invert_yaxis()
    ax.set_ylabel("rank (1 = best)")
    ax.legend(fontsize=6, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    fig.tight_layout()
    return fig


def quality_vs_runtime(summary: pd.DataFrame, *, quality: str = "auprc", cost: str = "seconds_per_image"):
    """Each method's mean ``quality`` against its mean ``cost`` (log scale), with seed-level intervals."""
    import matplotlib.pyplot as plt

    s = summary[summary["kind"] == "method"]
    a = s[s["metric"] == quality].set_index("method")
    b = s[s["metric"] == cost].set_index("method")
    both = [m for m in a.index if m in b.index]
    fig, ax = plt.subplots(figsize=(4.6, 3.2))
    for m in both:
        yerr = None
        if np.isfinite(a.loc[m, "low"]):
            yerr = [[a.loc[m, "mean"] - a.loc[m, "low"]], [a.loc[m, "high"] - a.loc[m, "mean"]]]
        ax.errorbar(b.loc[m, "mean"], a.loc[m, "mean"], yerr=yerr, fmt="o", ms=4, capsize=2)
        ax.annotate(m.replace("_", " "), (b.loc[m, "mean"], a.loc[m, "mean"]), fontsize=6, xytext=(3, 3),
                    textcoords="offset points")
    if both and (b.loc[both, "mean"] > 0).all():
        ax.set_xscale("log")
    ax.set_xlabel(cost.replace("_", " "))
    ax.set_ylabel(quality.replace("_", " "))
    fig.tight_layout()
    return fig


def gallery(images, masks, maps: Mapping[str, Any]):
    """Every method and baseline (columns) on the same images (rows), evidence masks outlined."""
    columns = {name.replace("_", "\n"): np.asarray(m) for name, m in maps.items()}
    return map_grid(images, columns, outlines=np.asarray(masks), value="absolute", cell=1.2)


def randomisation_layers(curves: pd.DataFrame, floor: pd.DataFrame | None = None, *, measure: str = "ssim"):
    """Mean similarity with the trained model's maps per cascade step, one panel per architecture, one line per
    method; ``floor`` (rows of the summary with metric "random_pair_ssim") adds each method's random-pair mean
    as a dotted line (Arun et al.'s pass threshold)."""
    import matplotlib.pyplot as plt

    archs = list(dict.fromkeys(curves["arch"]))
    fig, axes = plt.subplots(1, len(archs), figsize=(3.6 * len(archs), 3.0), squeeze=False)
    for ax, arch in zip(axes[0], archs, strict=True):
        sub = curves[curves["arch"] == arch]
        labels = sub.drop_duplicates("step").sort_values("step")["layer"].tolist()
        for method, g in sub.groupby("method", sort=False):
            m = g.groupby("step")[measure].mean()
            line, = ax.plot(m.index, m.to_numpy(), marker="o", ms=3, label=method.replace("_", " "))
            if floor is not None and method in set(floor["method"]):
                ax.axhline(float(floor.loc[floor["method"] == method, "mean"].iloc[0]), ls=":", lw=1,
                           color=line.get_color())
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=6)
        ax.set_title(arch, fontsize=8)
        ax.set_ylabel(f"{measure} with the trained map")
    axes[0, -1].legend(fontsize=6, frameon=False)
    fig.tight_layout()
    return fig
