"""Study 1 helpers: paper 003's published tables, score collection, ours-vs-paper tables, verdicts.

Cedro, Chlebus (2024). Beyond the black box: do more complex deep learning models provide superior
XAI explanations? arXiv:2405.08658 (paper 003). The published numbers below are copied from its
Tables 1-5 (see ``shared/reference/seed-studies.md`` §5.1); classes are named as in this package
(``"covid"``, ``"healthy"``), models by depth.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._validation import check_float, check_option

if TYPE_CHECKING:
    import torch

__all__ = [
    "PAPER003_TABLE1", "PAPER003_TABLE2", "PAPER003_TABLE3_RRA", "PAPER003_TABLE4_PAR", "PAPER003_TABLE5",
    "PAPER003_POSTHOC", "METRICS", "arch_depth", "arch_label", "collect_scores", "random_baseline",
    "random_attribution_scores", "performance_vs_paper", "parameters_vs_paper", "score_summary",
    "scores_vs_paper", "kruskal_vs_paper", "posthoc_tests", "hypothesis_verdicts", "score_bars",
    "format_mean_sd", "classification_scores", "block_layers", "training_curves_grid", "attribution_grid",
    "randomisation_curves", "beyond_paper_text",
]

#: Table 1: trainable parameters (1 input channel, 2 classes), keyed by ResNet depth.
PAPER003_TABLE1: dict[int, int] = {18: 6_139_842, 34: 12_329_218, 50: 23_532_418, 101: 42_550_658}

#: Table 2: test-set accuracy (fraction), AUC-ROC and cross-entropy loss, keyed by depth.
PAPER003_TABLE2: dict[int, dict[str, float]] = {
    18: {"accuracy": 0.984, "auc": 0.997, "cross_entropy": 0.066},
    34: {"accuracy": 0.973, "auc": 0.996, "cross_entropy": 0.097},
    50: {"accuracy": 0.961, "auc": 0.995, "cross_entropy": 0.168},
    101: {"accuracy": 0.959, "auc": 0.988, "cross_entropy": 0.153},
}

_METHODS = ("saliency", "gradient_shap", "integrated_gradients")


def _table(rows: dict[str, dict[int, tuple]]) -> dict[tuple[str, int, str], tuple[float, float]]:
    return {(cls, depth, m): v for cls, by_depth in rows.items() for depth, vals in by_depth.items()
            for m, v in zip(_METHODS, vals, strict=True)}


#: Table 3: mean (SD) Relevance Rank Accuracy, keyed by (class, depth, method).
#: COVID-19 n = 292, healthy n = 145 test images per model.
PAPER003_TABLE3_RRA = _table({
    "covid": {18: ((0.199, 0.10), (0.116, 0.10), (0.118, 0.10)), 34: ((0.198, 0.10), (0.117, 0.10), (0.115, 0.10)),
              50: ((0.191, 0.11), (0.115, 0.10), (0.116, 0.10)), 101: ((0.175, 0.12), (0.118, 0.09), (0.119, 0.09))},
    "healthy": {18: ((0.303, 0.05), (0.248, 0.07), (0.251, 0.07)), 34: ((0.305, 0.05), (0.249, 0.07), (0.248, 0.07)),
                50: ((0.301, 0.05), (0.243, 0.07), (0.248, 0.07)),
                101: ((0.290, 0.06), (0.248, 0.08), (0.249, 0.07))},
})

#: Table 4: mean (SD) Positive Attribution Ratio, keyed by (class, depth, method).
PAPER003_TABLE4_PAR = _table({
    "covid": {18: ((0.186, 0.12), (0.117, 0.10), (0.120, 0.10)), 34: ((0.185, 0.12), (0.118, 0.10), (0.118, 0.10)),
              50: ((0.182, 0.12), (0.116, 0.10), (0.118, 0.10)), 101: ((0.169, 0.13), (0.120, 0.10), (0.119, 0.10))},
    "healthy": {18: ((0.308, 0.07), (0.250, 0.08), (0.253, 0.08)), 34: ((0.315, 0.07), (0.255, 0.08), (0.250, 0.08)),
                50: ((0.304, 0.07), (0.242, 0.07), (0.245, 0.07)),
                101: ((0.292, 0.08), (0.263, 0.09), (0.252, 0.08))},
})

#: Table 5: Kruskal-Wallis H and p across the four models, keyed by (metric, class, method).
PAPER003_TABLE5: dict[tuple[str, str, str], tuple[float, float]] = {
    ("relevance_rank_accuracy", "covid", "saliency"): (9.79, 0.02),
    ("relevance_rank_accuracy", "covid", "gradient_shap"): (0.62, 0.89),
    ("relevance_rank_accuracy", "covid", "integrated_gradients"): (1.19, 0.76),
    ("relevance_rank_accuracy", "healthy", "saliency"): (5.83, 0.12),
    ("relevance_rank_accuracy", "healthy", "gradient_shap"): (0.58, 0.90),
    ("relevance_rank_accuracy", "healthy", "integrated_gradients"): (0.20, 0.98),
    ("positive_attribution_ratio", "covid", "saliency"): (4.87, 0.18),
    ("positive_attribution_ratio", "covid", "gradient_shap"): (0.05, 1.0),
    ("positive_attribution_ratio", "covid", "integrated_gradients"): (0.30, 0.96),
    ("positive_attribution_ratio", "healthy", "saliency"): (7.37, 0.06),
    ("positive_attribution_ratio", "healthy", "gradient_shap"): (3.90, 0.27),
    ("positive_attribution_ratio", "healthy", "integrated_gradients"): (0.82, 0.84),
}

#: Post-hoc Mann-Whitney U (RRA, COVID-19, Saliency), Bonferroni-adjusted p, keyed by depth pair.
PAPER003_POSTHOC: dict[tuple[int, int], float] = {(18, 101): 0.03, (34, 101): 0.053}

#: The two localisation metrics, in the paper's order: name -> short label.
METRICS: dict[str, str] = {"relevance_rank_accuracy": "RRA", "positive_attribution_ratio": "PAR"}

_PAPER_SCORES = {"relevance_rank_accuracy": PAPER003_TABLE3_RRA, "positive_attribution_ratio": PAPER003_TABLE4_PAR}


def arch_depth(arch: str) -> int | None:
    """ResNet depth of a registered model name (``paper003_resnet50`` → 50), None if not a ResNet.

    Examples
    --------
    >>> arch_depth("paper003_resnet101"), arch_depth("resnet18"), arch_depth("smallcnn")
    (101, 18, None)
    """
    found = re.fullmatch(r"(?:paper003_)?resnet(\d+)", arch)
    return int(found.group(1)) if found else None


def arch_label(arch: str) -> str:
    """A display name: ``paper003_resnet18`` → "ResNet-18", ``resnet18`` → "ResNet-18 (torchvision)".

    Examples
    --------
    >>> arch_label("paper003_resnet34"), arch_label("resnet34"), arch_label("smallcnn")
    ('ResNet-34', 'ResNet-34 (torchvision)', 'smallcnn')
    """
    depth = arch_depth(arch)
    if depth is None:
        return arch
    return f"ResNet-{depth}" if arch.startswith("paper003_") else f"ResNet-{depth} (torchvision)"


def format_mean_sd(mean: float, sd: float, digits: int = 3) -> str:
    """The paper's "mean (SD)" cell: ``0.199 (0.10)``; "–" for a missing value.

    Examples
    --------
    >>> format_mean_sd(0.1994, 0.1012), format_mean_sd(float("nan"), 0.1)
    ('0.199 (0.10)', '–')
    """
    if mean is None or not np.isfinite(mean):
        return "–"
    sd_text = f"{sd:.2f}" if sd is not None and np.isfinite(sd) else "–"
    return f"{mean:.{digits}f} ({sd_text})"


def random_baseline(masks: torch.Tensor | np.ndarray) -> np.ndarray:
    """Expected RRA (and PAR) of a map of i.i.d. random values: each image's mask share of the image.

    With K = |mask| pixels ranked at random, the top K hold K·(K/P) mask pixels on average, so
    E[RRA] = K/P; for i.i.d. values symmetric about 0, the positive mass also falls inside the mask
    in proportion K/P. NaN for an empty mask, as the metrics.

    Examples
    --------
    >>> m = np.zeros((1, 1, 4, 4), bool); m[0, 0, :2, :2] = True
    >>> random_baseline(m)
    array([0.25])
    """
    m = np.asarray(masks.cpu() if hasattr(masks, "cpu") else masks).reshape(len(masks), -1)
    share = m.astype(np.float64).mean(1)
    share[m.sum(1) == 0] = np.nan
    return share


def random_attribution_scores(masks: torch.Tensor, *, n_draws: int = 8, seed: int = 0) -> pd.DataFrame:
    """Score maps of i.i.d. standard-normal values (seeded) with RRA and PAR: the empirical random baseline.

    Returns a tidy frame ``image, draw, metric, score``; its per-image mean approaches
    :func:`random_baseline`.
    """
    import torch

    from ..metrics import positive_attribution_ratio, relevance_rank_accuracy

    masks = torch.as_tensor(masks).bool()
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for draw in range(n_draws):
        a = torch.randn(masks.shape, generator=gen, dtype=torch.float64)
        for metric, fn in (("relevance_rank_accuracy", relevance_rank_accuracy),
                           ("positive_attribution_ratio", positive_attribution_ratio)):
            s = fn(a, masks).numpy()
            rows.append(pd.DataFrame({"image": np.arange(len(s)), "draw": draw, "metric": metric, "score": s}))
    return pd.concat(rows, ignore_index=True)


def collect_scores(models: Mapping[str, torch.nn.Module], explainers: Mapping[str, Any], x: torch.Tensor,
                   y: torch.Tensor, masks: torch.Tensor, class_names: Sequence[str], *, batch_size: int = 16,
                   device: str | torch.device = "cpu", keep: Sequence[int] = ()) -> tuple[pd.DataFrame, dict]:
    """Explain every image with every model × method and score each map with RRA and PAR.

    Parameters
    ----------
    models : arch name → trained model (put in eval mode here).
    explainers : method name → object with ``attribute(model, x, target)`` (targets = ``y``, the
        true labels, as paper 003).
    x, y, masks : images (N, C, H, W), labels (N,), ground-truth masks (N, 1, H, W).
    class_names : label index → class name.
    batch_size : images explained per call (memory: IG multiplies it by its steps).
    keep : image indices whose attribution maps are returned, for figures.

    Returns
    -------
    scores : tidy DataFrame, one row per image × arch × method × metric: ``image, class, arch,
        method, metric, score, random_baseline``.
    maps : ``{(arch, method): Tensor (len(keep), C, H, W)}`` on the CPU.
    """
    import torch

    from ..metrics import positive_attribution_ratio, relevance_rank_accuracy

    if not len(models) or not len(explainers):
        raise ValueError("collect_scores needs at least one model and one explainer")
    masks = torch.as_tensor(masks).bool()
    baseline = random_baseline(masks)
    classes = np.asarray(class_names)[np.asarray(y)]
    keep = list(keep)
    frames, maps = [], {}
    for arch, model in models.items():
        model = model.to(device).eval()
        for method, explainer in explainers.items():
            parts = [explainer.attribute(model, xb.to(device), yb.to(device)).detach().cpu()
                     for xb, yb in zip(x.split(batch_size), y.split(batch_size), strict=True)]
            a = torch.cat(parts)
            if keep:
                maps[(arch, method)] = a[keep]
            for metric, fn in (("relevance_rank_accuracy", relevance_rank_accuracy),
                               ("positive_attribution_ratio", positive_attribution_ratio)):
                frames.append(pd.DataFrame({
                    "image": np.arange(len(a)), "class": classes, "arch": arch, "method": method,
                    "metric": metric, "score": fn(a, masks).numpy(), "random_baseline": baseline,
                }))
        model.cpu()
    return pd.concat(frames, ignore_index=True), maps


def parameters_vs_paper(archs: Sequence[str]) -> pd.DataFrame:
    """Table 1 side by side: our parameter count per model, the paper's for its depth, the difference.

    Examples
    --------
    >>> parameters_vs_paper(["paper003_resnet18"])[["model", "ours", "paper", "difference"]].values.tolist()
    [['ResNet-18', 6139842, 6139842, 0]]
    """
    from ..models import parameter_table

    t = parameter_table(list(archs))
    out = pd.DataFrame({"arch": list(archs), "model": [arch_label(a) for a in archs],
                        "ours": t["trainable"].astype(int).to_numpy()})
    paper = [PAPER003_TABLE1.get(arch_depth(a)) for a in archs]
    out["paper"] = pd.array(paper, dtype="Int64")
    out["difference"] = out["ours"] - out["paper"]
    return out


def performance_vs_paper(performance: pd.DataFrame) -> pd.DataFrame:
    """Table 2 side by side: ``performance`` has ``arch, accuracy, auc, cross_entropy`` (ours).

    Returns one row per model with ``<metric>_ours`` and ``<metric>_paper`` columns.
    """
    rows = []
    for rec in performance.to_dict("records"):
        paper = PAPER003_TABLE2.get(arch_depth(rec["arch"]), {})
        row = {"arch": rec["arch"], "model": arch_label(rec["arch"])}
        for m in ("accuracy", "auc", "cross_entropy"):
            row[f"{m}_ours"] = rec[m]
            row[f"{m}_paper"] = paper.get(m, np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def score_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean, SD and n of ``score`` and the mean random baseline per metric × class × arch × method,
    beside the paper's mean and SD (Tables 3-4) where it has that cell."""
    keys = ["metric", "class", "arch", "method"]
    g = scores.groupby(keys, sort=False)
    out = g["score"].agg(mean="mean", sd="std", n="count").join(
        g["random_baseline"].mean().rename("random")).reset_index()
    paper = [_PAPER_SCORES.get(r["metric"], {}).get((r["class"], arch_depth(r["arch"]), r["method"]), (np.nan, np.nan))
             for r in out.to_dict("records")]
    out["paper_mean"] = [p[0] for p in paper]
    out["paper_sd"] = [p[1] for p in paper]
    return out


def scores_vs_paper(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Table 3 (RRA) or 4 (PAR) as printed: rows class × model, per method "ours" and "paper" cells,
    each "mean (SD)"; a "random" column gives the mean random-map baseline of the class."""
    check_option("metric", metric, list(METRICS), context="scores_vs_paper")
    s = summary[summary["metric"] == metric].copy()
    if s.empty:
        raise ValueError(f"scores_vs_paper: no rows for metric {metric!r}")
    s["ours"] = [format_mean_sd(m, d) for m, d in zip(s["mean"], s["sd"], strict=True)]
    s["paper"] = [format_mean_sd(m, d) for m, d in zip(s["paper_mean"], s["paper_sd"], strict=True)]
    s["model"] = s["arch"].map(arch_label)
    wide = s.pivot_table(index=["class", "model"], columns="method", values=["ours", "paper"], aggfunc="first",
                         sort=False)
    wide = wide.swaplevel(0, 1, axis=1)
    methods = [m for m in dict.fromkeys(s["method"])]
    wide = wide[[(m, w) for m in methods for w in ("ours", "paper")]]
    random = s.groupby(["class", "model"], sort=False)["random"].mean().round(3)
    wide[("random map", "ours")] = random
    return wide


def kruskal_vs_paper(scores: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Table 5: Kruskal-Wallis across the models, once per metric × class × method, beside the paper's H, p.

    Returns ``metric, class, method, H, dof, p, n, paper_H, paper_p`` (paper columns are NaN where
    the paper has no such cell). Needs at least two models.
    """
    from ..stats import kruskal

    if scores["arch"].nunique() < 2:
        raise ValueError("kruskal_vs_paper needs scores of at least two models (column 'arch')")
    kw = kruskal(scores, "score", "arch", by=["metric", "class", "method"], order=order)
    kw = kw.rename(columns={"statistic": "H"})
    paper = [PAPER003_TABLE5.get((r["metric"], r["class"], r["method"]), (np.nan, np.nan))
             for r in kw.to_dict("records")]
    kw["paper_H"] = [p[0] for p in paper]
    kw["paper_p"] = [p[1] for p in paper]
    return kw[["metric", "class", "method", "H", "dof", "p", "n", "paper_H", "paper_p"]]


def posthoc_tests(scores: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Pairwise two-sided Mann-Whitney U between models, Bonferroni within each cell (paper 003's post-hoc)."""
    from ..stats import pairwise_mannwhitney

    return pairwise_mannwhitney(scores, "score", "arch", by=["metric", "class", "method"],
                                correction="bonferroni", family="cell", order=order)


def _spearman(a: Sequence[float], b: Sequence[float]) -> float:
    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    if np.std(ra) == 0 or np.std(rb) == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def hypothesis_verdicts(performance: pd.DataFrame, summary: pd.DataFrame, kw: pd.DataFrame,
                        n_parameters: Mapping[str, int], *, alpha: float = 0.05) -> dict[str, Any]:
    """Decide paper 003's two hypotheses from a run's numbers, and say so in a sentence each.

    Hypothesis 1: more trainable parameters → better classification. *Supported* when test
    accuracy rises strictly with the parameter count (Spearman ρ = 1), *partly* when ρ > 0,
    *undecided* when ρ is undefined (ties), otherwise *rejected*.

    Hypothesis 2: more trainable parameters → worse XAI scores. *Supported* when most
    Kruskal-Wallis cells differ at ``alpha`` and in most of those the mean score falls with the
    parameter count (ρ < 0); *rejected* otherwise (the paper: 1 of 12 cells significant).

    Returns a dict with ``h1`` ("supported" / "partly supported" / "undecided" / "rejected"), ``h2``
    ("supported" / "rejected"),
    ``rho_accuracy``, ``n_cells``, ``n_significant``, ``n_significant_decreasing``, and the
    sentences ``h1_text``, ``h2_text`` (the latter warns when accuracy falls with size too: then worse
    explanations of bigger models may only mean less converged ones).
    """
    check_float("alpha", alpha, min_value=0.0, max_value=1.0, context="hypothesis_verdicts")
    perf = performance.set_index("arch")
    archs = [a for a in perf.index if a in n_parameters]
    rho_acc = _spearman([n_parameters[a] for a in archs], perf.loc[archs, "accuracy"].to_numpy())
    h1 = ("undecided" if not np.isfinite(rho_acc) else "supported" if rho_acc > 0.999
          else "partly supported" if rho_acc > 0 else "rejected")
    best = perf["accuracy"].idxmax()
    rho_text = (f"is {rho_acc:.2f}" if np.isfinite(rho_acc)
                else "is undefined (tied accuracies or parameter counts)")
    h1_text = (f"Hypothesis 1 (more parameters, better classification) is {h1} by this run: the rank correlation "
               f"between parameter count and test accuracy {rho_text} over {len(archs)} models, and the most "
               f"accurate model is {arch_label(best)} ({perf.loc[best, 'accuracy']:.3f}).")
    sig = kw[kw["p"] < alpha]
    decreasing = 0
    for r in sig.to_dict("records"):
        cell = summary[(summary["metric"] == r["metric"]) & (summary["class"] == r["class"])
                       & (summary["method"] == r["method"])]
        cell = cell[cell["arch"].isin(list(n_parameters))]
        if _spearman([n_parameters[a] for a in cell["arch"]], cell["mean"].to_numpy()) < 0:
            decreasing += 1
    n_cells = len(kw)
    h2 = "supported" if len(sig) > n_cells / 2 and decreasing > len(sig) / 2 else "rejected"
    h2_text = (f"Hypothesis 2 (more parameters, worse explanations) is {h2} by this run: {len(sig)} of {n_cells} "
               f"Kruskal–Wallis tests find a difference between the models at α = {alpha:g}, and in {decreasing} "
               f"of those the mean score falls as the parameter count grows (the paper: 1 of 12 significant).")
    if h2 == "supported" and np.isfinite(rho_acc) and rho_acc < 0:
        h2_text += (f" But test accuracy falls with the parameter count too (ρ = {rho_acc:.2f}): under this training "
                    f"budget the larger models are also the less trained ones, so the run cannot tell complexity "
                    f"from convergence.")
    return {"h1": h1, "h2": h2, "rho_accuracy": rho_acc, "n_cells": n_cells, "n_significant": int(len(sig)),
            "n_significant_decreasing": decreasing, "h1_text": h1_text, "h2_text": h2_text}


def score_bars(summary: pd.DataFrame, metric: str, cls: str, *, ci: pd.DataFrame | None = None,
               paper: bool = True, ax=None):
    """Figures 6-9: bars of the mean score per method (groups) and model (bars) for one metric and class.

    ``ci`` (from :func:`xaikit.stats.bootstrap_ci` by metric, class, arch, method) adds error bars;
    ``paper`` marks the paper's means as black ticks; a dashed line marks the random-map baseline.
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
    ax.set_xticks(np.arange(len(methods)), [m.replace("_", "\n") for m in methods], fontsize=8)
    ax.set_ylabel(f"mean {METRICS.get(metric, metric)}")
    ax.set_title(f"{METRICS.get(metric, metric)}, {cls}")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    fig.tight_layout()
    return fig


def classification_scores(arch: str, y_true, logits) -> dict[str, Any]:
    """Table 2's numbers for one model: accuracy, AUC-ROC (class 1 against class 0) and cross-entropy.

    Examples
    --------
    >>> import torch
    >>> r = classification_scores("resnet18", torch.tensor([0, 1]), torch.tensor([[2.0, 0.0], [0.0, 2.0]]))
    >>> r["accuracy"], r["auc"]
    (1.0, 1.0)
    """
    from ..train import evaluate_logits

    t = evaluate_logits(y_true, logits).set_index(["metric", "class"])["value"]
    auc_key = ("roc_auc", 1) if ("roc_auc", 1) in t.index else ("roc_auc", "macro")
    return {"arch": arch, "n_test": int(t[("n", "all")]), "accuracy": float(t[("accuracy", "all")]),
            "auc": float(t[auc_key]), "cross_entropy": float(t[("loss", "all")])}


def block_layers(model) -> list[str]:
    """Top-level children of ``model`` that hold parameters, in forward order: the steps of a block-wise
    cascading randomisation (a ResNet: conv1, bn1, layer1-4, fc).

    Examples
    --------
    >>> import torch.nn as nn
    >>> block_layers(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2)))
    ['0', '3']
    """
    return [name for name, child in model.named_children() if any(True for _ in child.parameters())]


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
    """Rows: the images (masks outlined in green), then one row per (model, method) map of the same images,
    signed (seismic, symmetric limits per map, channels summed)."""
    import matplotlib.pyplot as plt

    images, masks = np.asarray(images), np.asarray(masks).astype(bool)
    n = len(images)
    rows = [("image", None)] + list(maps.items())
    fig, axes = plt.subplots(len(rows), n, figsize=(1.5 * n + 1.6, 1.5 * len(rows)), squeeze=False)
    for r, (key, a) in enumerate(rows):
        for i in range(n):
            ax = axes[r, i]
            ax.imshow(images[i].sum(0), cmap="gray")
            if a is not None:
                m = np.asarray(a[i]).sum(0)
                lim = float(np.abs(m).max()) or 1.0
                ax.imshow(m, cmap="seismic", vmin=-lim, vmax=lim, alpha=0.85)
            ax.contour(masks[i, 0], levels=[0.5], colors="lime", linewidths=0.6)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0 and titles is not None:
                ax.set_title(titles[i], fontsize=8)
        label = "image" if a is None else f"{arch_label(key[0])}\n{key[1].replace('_', ' ')}"
        axes[r, 0].set_ylabel(label, fontsize=7)
    fig.tight_layout()
    return fig


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


def beyond_paper_text(margin: pd.DataFrame, ci: pd.DataFrame, sanity_final: Mapping[str, float], *,
                      rho_pass: float = 0.5) -> str:
    """What the random baseline, the confidence intervals and the sanity check add, as a sentence each.

    Parameters
    ----------
    margin : :func:`xaikit.stats.bootstrap_ci` of ``score - random_baseline`` by metric, class, arch, method.
    ci : :func:`xaikit.stats.bootstrap_ci` of ``score`` by the same cells.
    sanity_final : method → mean Spearman ρ between the trained model's maps and those after the full
        cascade; a method passes when ``|ρ| < rho_pass``.
    """
    lines = []
    for cls, g in margin.groupby("class", sort=False):
        above = int((g["low"] > 0).sum())
        lines.append(f"{above} of {len(g)} {cls} cells beat the random map (95 % interval of the margin above 0)")
    text = "Random baseline: " + "; ".join(lines) + "."
    overlap = 0
    cells = ci.groupby(["metric", "class", "method"], sort=False)
    for _, g in cells:
        overlap += int(g["low"].max() <= g["high"].min())
    text += (f" Confidence intervals: in {overlap} of {cells.ngroups} metric × class × method cells the intervals of "
             f"all models share a common range, so no model is separable from the others there.")
    passed = [m for m, r in sanity_final.items() if abs(r) < rho_pass]
    failed = [m for m in sanity_final if m not in passed]
    text += (f" Sanity check: after every layer is re-initialised, {', '.join(passed) or 'no method'} "
             f"{'change' if len(passed) > 1 else 'changes'} (|ρ| < {rho_pass:g}); "
             f"{', '.join(failed) or 'none'} {'keep' if len(failed) != 1 else 'keeps'} much of "
             f"{'their' if len(failed) != 1 else 'its'} map, which then reflects the image more than the model.")
    return text.replace("_", " ")
