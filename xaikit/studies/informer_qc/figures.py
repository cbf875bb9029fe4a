"""Study 2's figures: the bootstrap boxplot (the paper's Fig. 3), the monitors' reliability diagram, class maps."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from ...report import map_grid
from .analysis import method_label, paper_boot_medians

__all__ = ["bootstrap_boxplot", "class_map_grid", "reliability_plot"]


def bootstrap_boxplot(boot: pd.DataFrame, tests: pd.DataFrame | None = None, *, ax=None):
    """Paper 002's Fig. 3: boxplot of the mean F1 over the classes per bootstrapped test set, per method.

    Baselines grey, INFORMER variants blue; stars give the paired t-test of each INFORMER variant against
    predictive entropy (``*`` p ≤ 0.05, ``**`` p ≤ 0.01, ``***`` p ≤ 0.001) with the direction of the
    difference ("higher"/"lower"); paper medians as dotted ticks where published.
    """
    import matplotlib.pyplot as plt

    medians = paper_boot_medians()
    sub = boot[boot["class"] == "mean"]
    methods = list(dict.fromkeys(sub["method"]))
    data = [sub.loc[sub["method"] == m, "f1"].to_numpy() for m in methods]
    if ax is None:
        _, ax = plt.subplots(figsize=(1.4 * len(methods) + 2, 3.6))
    box = ax.boxplot(data, patch_artist=True, widths=0.6)
    for patch, m in zip(box["boxes"], methods, strict=True):
        patch.set_facecolor("#6baed6" if m.startswith("informer") else "#bdbdbd")
    ax.set_xticks(range(1, len(methods) + 1), [method_label(m) for m in methods], rotation=15)
    for i, m in enumerate(methods, start=1):
        if m in medians:
            ax.plot([i - 0.3, i + 0.3], [medians[m]] * 2, color="k", lw=1, ls=":")
    top = max(float(np.max(d)) for d in data)
    if tests is not None:
        for _, row in tests[tests["baseline"] == "entropy"].iterrows():
            if row["method"] in methods and row["stars"] not in ("ns", "n/a"):
                word = "higher" if row["mean_diff"] > 0 else "lower"  # the paper's stars only ever meant higher
                ax.text(methods.index(row["method"]) + 1, top, f"{row['stars']} {word}", ha="center", va="bottom",
                        fontsize=8)
    ax.set_ylabel("mean F1 over the classes")
    ax.set_title(f"{sub['set'].nunique()} bootstrapped test sets; stars: paired t-test vs Pred. Entropy "
                 "(dotted: paper 002's medians)", fontsize=9)
    return ax.figure



def reliability_plot(bins: pd.DataFrame, base_rate: pd.DataFrame | None = None, *, ax=None):
    """The monitors' reliability diagram: observed error rate per equal-count bin of each (oriented) score.

    ``bins`` is long: method, bin, error_rate (pooled over classes); a monitor whose score tracks errors
    rises from left to right, a useless one stays at the base error rate (dashed).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.2, 3.6))
    for method, sub in bins.groupby("method", sort=False):
        ax.plot(sub["bin"], sub["error_rate"], marker="o", label=method_label(method),
                ls="-" if method.startswith("informer") else "--")
    if base_rate is not None:
        ax.axhline(float(base_rate), color="k", lw=0.8, ls=":", label="base error rate")
    ax.set_xlabel("bin of the monitor's score (1 = least suspicious)")
    ax.set_ylabel("share of wrong predictions")
    ax.legend(fontsize=8)
    return ax.figure



def class_map_grid(images, masks, maps: torch.Tensor, d: np.ndarray, class_names: Sequence[str], *,
                   title: str = ""):
    """Images (rows) × class maps (columns): each class's map with its finding's outline and its distinctiveness d_i.

    Examples
    --------
    >>> fig = class_map_grid(np.zeros((1, 1, 8, 8)), np.zeros((1, 2, 8, 8), bool), torch.ones(1, 2, 1, 8, 8),
    ...                      np.zeros((1, 2)), ["a", "b"])
    >>> len(fig.axes)
    3
    """
    maps = maps.detach().cpu().numpy() if hasattr(maps, "detach") else np.asarray(maps)
    masks = np.asarray(masks).astype(bool)
    n, k = maps.shape[:2]
    columns = {class_names[c]: maps[:, c] for c in range(k)}
    outlines = {class_names[c]: masks[:, c:c + 1] for c in range(k)}
    titles = [[f"{class_names[c][:12]}\nd={d[r, c]:.2f}" for c in range(k)] for r in range(n)]
    return map_grid(images, columns, map_outlines=outlines, overlay=False, cmap="bwr", outline_color="g",
                    row_labels=[f"image {r}" for r in range(n)], cell_titles=titles, title=title, cell=1.75)
