"""Study 1's numbers (paper 003): score collection, ours-vs-paper tables, the paper's tests, the notebook's stages.

Cedro, Chlebus (2024). Beyond the black box: do more complex deep learning models provide superior
XAI explanations? arXiv:2405.08658 (paper 003). The paper's Tables 1–5 are published tables of this
package (:func:`xaikit.studies.load_published`; :func:`paper_scores` reads Tables 3–4); classes
are named as in this package (``"covid"``, ``"healthy"``), models by depth.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..._validation import check_option
from .._published import load_published

if TYPE_CHECKING:
    import torch

__all__ = [
    "METRIC_LABELS", "arch_depth", "arch_label", "block_layers", "classification_scores", "collect_scores",
    "explainer_settings", "format_mean_sd", "kruskal_vs_paper", "load_splits", "paper_scores", "paper_table",
    "parameters_vs_paper", "performance_vs_paper", "posthoc_tests", "random_margin", "sanity_check",
    "score_summary", "scores_vs_paper", "train_models", "Explained", "explain_and_score", "sanity_final",
    "performance", "replication_values", "split_counts", "training_table", "ACCURACY_BAR", "MODEL_FREE_BASELINES",
    "baseline_scores", "cell_intervals", "localisation_table", "mark_true_targets", "paired_tests",
    "predicted_labels", "predicted_target_scores", "target_table",
]


def paper_table(name: str) -> pd.DataFrame:
    """A published table of paper 003 (``table1_parameters`` … ``table5_kruskal``, ``posthoc_mannwhitney``) without
    its provenance columns (``source``, ``bibkey``)."""
    return load_published("01_model_complexity", name).drop(columns=["source", "bibkey"])


def paper_scores(metric: str) -> dict[tuple[str, int, str], tuple[float, float]]:
    """Tables 3 (RRA) and 4 (PAR): mean and SD keyed by (class, depth, method)."""
    table = {"relevance_rank_accuracy": "table3_rra", "positive_attribution_ratio": "table4_par"}.get(metric)
    if table is None:
        return {}
    t = paper_table(table)
    return {(r["class"], int(r["depth"]), r["method"]): (float(r["mean"]), float(r["sd"]))
            for r in t.to_dict("records")}


#: The two localisation metrics, in the paper's order: name -> short label.
METRIC_LABELS: dict[str, str] = {"relevance_rank_accuracy": "RRA", "positive_attribution_ratio": "PAR"}



def arch_depth(arch: str) -> int | None:
    """ResNet depth of a registered model name (``paper003_resnet50`` → 50; the width-reduced
    ``paper003_resnet50_w16`` too), None if not a ResNet.

    Examples
    --------
    >>> arch_depth("paper003_resnet101"), arch_depth("resnet18"), arch_depth("paper003_resnet18_w16"), arch_depth("x")
    (101, 18, 18, None)
    """
    found = re.fullmatch(r"(?:paper003_)?resnet(\d+)(?:_w\d+)?", arch)
    return int(found.group(1)) if found else None


def arch_label(arch: str) -> str:
    """A display name: ``paper003_resnet18`` → "ResNet-18", ``paper003_resnet18_w16`` → "ResNet-18 (width 16)",
    ``resnet18`` → "ResNet-18 (torchvision)".

    Examples
    --------
    >>> arch_label("paper003_resnet34"), arch_label("paper003_resnet34_w8"), arch_label("resnet34")
    ('ResNet-34', 'ResNet-34 (width 8)', 'ResNet-34 (torchvision)')
    """
    depth = arch_depth(arch)
    if depth is None:
        return arch
    if not arch.startswith("paper003_"):
        return f"ResNet-{depth} (torchvision)"
    width = re.search(r"_w(\d+)$", arch)
    return f"ResNet-{depth}" + (f" (width {width.group(1)})" if width else "")


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


def collect_scores(models: Mapping[str, torch.nn.Module], explainers: Mapping[str, Any], x: torch.Tensor,
                   y: torch.Tensor, masks: torch.Tensor, class_names: Sequence[str], *, batch_size: int = 16,
                   device: str | torch.device = "cpu", keep: Sequence[int] = (),
                   targets: Mapping[str, torch.Tensor] | None = None) -> tuple[pd.DataFrame, dict]:
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
    targets : arch → the class each image's map explains (default ``y``: the true labels, paper 003's choice;
        e.g. each model's predicted labels). The ``class`` column stays the true class.

    Returns
    -------
    scores : tidy DataFrame, one row per image × arch × method × metric: ``image, class, arch,
        method, metric, score, random_baseline``.
    maps : ``{(arch, method): Tensor (len(keep), C, H, W)}`` on the CPU.
    """
    import torch

    from ...metrics import positive_attribution_ratio, random_baseline, relevance_rank_accuracy

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
            t = y if targets is None else torch.as_tensor(targets[arch])
            parts = [explainer.attribute(model, xb.to(device), tb.to(device)).detach().cpu()
                     for xb, tb in zip(x.split(batch_size), t.split(batch_size), strict=True)]
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
    from ...models import parameter_table

    t = parameter_table(list(archs))
    out = pd.DataFrame({"arch": list(archs), "model": [arch_label(a) for a in archs],
                        "ours": t["trainable"].astype(int).to_numpy()})
    table1 = paper_table("table1_parameters").set_index("depth")["trainable"].to_dict()
    paper = [table1.get(arch_depth(a)) for a in archs]
    out["paper"] = pd.array(paper, dtype="Int64")
    out["difference"] = out["ours"] - out["paper"]
    return out


def performance_vs_paper(performance: pd.DataFrame) -> pd.DataFrame:
    """Table 2 side by side: ``performance`` has ``arch, accuracy, auc, cross_entropy`` (ours).

    Returns one row per model with ``<metric>_ours`` and ``<metric>_paper`` columns.
    """
    table2 = paper_table("table2_performance").set_index("depth").to_dict("index")
    rows = []
    for rec in performance.to_dict("records"):
        paper = table2.get(arch_depth(rec["arch"]), {})
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
    published = {m: paper_scores(m) for m in dict.fromkeys(out["metric"])}
    paper = [published[r["metric"]].get((r["class"], arch_depth(r["arch"]), r["method"]), (np.nan, np.nan))
             for r in out.to_dict("records")]
    out["paper_mean"] = [p[0] for p in paper]
    out["paper_sd"] = [p[1] for p in paper]
    return out


def scores_vs_paper(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Table 3 (RRA) or 4 (PAR) as printed: rows class × model, per method "ours" and "paper" cells,
    each "mean (SD)"; a "random" column gives the mean random-map baseline of the class."""
    check_option("metric", metric, list(METRIC_LABELS), context="scores_vs_paper")
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
    from ...stats import kruskal

    if scores["arch"].nunique() < 2:
        raise ValueError("kruskal_vs_paper needs scores of at least two models (column 'arch')")
    kw = kruskal(scores, "score", "arch", by=["metric", "class", "method"], order=order)
    kw = kw.rename(columns={"statistic": "H"})
    t5 = {(r["metric"], r["class"], r["method"]): (r["H"], r["p"])
          for r in paper_table("table5_kruskal").to_dict("records")}
    paper = [t5.get((r["metric"], r["class"], r["method"]), (np.nan, np.nan)) for r in kw.to_dict("records")]
    kw["paper_H"] = [p[0] for p in paper]
    kw["paper_p"] = [p[1] for p in paper]
    return kw[["metric", "class", "method", "H", "dof", "p", "n", "paper_H", "paper_p"]]


def posthoc_tests(scores: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Pairwise two-sided Mann-Whitney U between models, Bonferroni within each cell (paper 003's post-hoc)."""
    from ...stats import pairwise_mannwhitney

    return pairwise_mannwhitney(scores, "score", "arch", by=["metric", "class", "method"],
                                correction="bonferroni", family="cell", order=order)


def classification_scores(arch: str, y_true, logits) -> dict[str, Any]:
    """Table 2's numbers for one model: accuracy, AUC-ROC (class 1 against class 0) and cross-entropy.

    Examples
    --------
    >>> import torch
    >>> r = classification_scores("resnet18", torch.tensor([0, 1]), torch.tensor([[2.0, 0.0], [0.0, 2.0]]))
    >>> r["accuracy"], r["auc"]
    (1.0, 1.0)
    """
    from ...train import evaluate_logits

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




# --------------------------------------------------------------------------- the notebook's stages
def load_splits(run) -> dict:
    """Train / validation / test sets: a phantom generated from the seed (``n_images``, ``difficulty``; a
    stratified split with ``test_share`` held out for testing, 0.2 for validation, the rest for training) or the
    real dataset under ``data_root`` (all its images, its own split)."""
    from ...data import load
    from .._training import split_fractions

    p = run.params
    source = (dict(n=p["n_images"], difficulty=p["difficulty"], fractions=split_fractions(p["test_share"]))
              if p["data_root"] is None else dict(data_root=p["data_root"]))
    return {s: load(p["dataset"], s, image_size=p["image_size"], seed=run.seed, **source)
            for s in ("train", "val", "test")}


def split_counts(splits: dict) -> pd.DataFrame:
    """Images per class and split."""
    names = list(splits["test"].class_names)
    return pd.DataFrame({s: np.bincount(d.labels, minlength=len(names)) for s, d in splits.items()},
                        index=names).rename_axis("class")


def train_models(run, splits: dict) -> dict:
    """Every architecture of ``archs`` trained (or loaded from the model cache) with the run's settings, keeping the
    checkpoint with the lowest validation cross-entropy as the paper does; with ``early_stopping`` > 0, training
    stops once the validation loss has not improved for that many epochs (a validation plateau). The recipe is
    ``xaikit.studies._training.classifier_config``, shared with the atlas. Returns arch → fit."""
    from ...train import train_cached
    from .._training import classifier_config

    p = run.params
    config = classifier_config(p, run.seed)
    names = list(splits["test"].class_names)
    fits = {arch: train_cached(arch, 1, len(names), splits["train"], splits["val"], config) for arch in p["archs"]}
    run.timings["training"] = sum(fit.seconds for fit in fits.values())
    return fits


def training_table(fits: Mapping[str, Any], epochs: int, device) -> pd.DataFrame:
    """Per model: the kept epoch, the epochs run (fewer than the cap ``epochs`` when early stopping ended training),
    where the model came from and the training time."""
    return pd.DataFrame([{"model": arch_label(a), "best epoch": f.best_epoch, "epochs run": len(f.history),
                          "at most": epochs, "source": "cache" if f.from_cache else f"trained on {device}",
                          "seconds": round(f.seconds, 1)} for a, f in fits.items()])


def explainer_settings(run) -> dict[str, dict]:
    """Paper 003's settings of its three methods (signed saliency; IG with a zero baseline and the run's rule and
    steps; GradientShap with a zero baseline); any other registered method runs with its library defaults."""
    p = run.params
    paper = {"saliency": dict(sign="signed"),
             "integrated_gradients": dict(n_steps=p["ig_steps"], method=p["ig_method"], baseline="zero",
                                          internal_batch_size=4 * p["batch_size"]),
             "gradient_shap": dict(n_samples=p["gs_samples"], stdevs=p["gs_stdevs"], baseline="zero", seed=run.seed)}
    return {m: paper.get(m, {}) for m in p["methods"]}


@dataclass
class Explained:
    """The explained test images, every model × method's scores, and the maps kept for the figure."""

    x: Any
    y: Any
    masks: Any
    show: np.ndarray
    scores: pd.DataFrame
    maps: dict
    explainers: dict


def explain_and_score(run, models: Mapping[str, Any], test) -> Explained:
    """The first ``n_explain`` test images explained by every model and method (targets: the true labels, as the
    paper), each map scored with RRA and PAR; the maps of two images per class kept for the figure."""
    from ...explain import get_explainer

    explainers = {m: get_explainer(m, **kw) for m, kw in explainer_settings(run).items()}
    x_test, y_test = test.tensors()
    k = min(run.params["n_explain"], len(test))
    x, y, masks = x_test[:k], y_test[:k], test.masks[:k]
    names = list(test.class_names)
    show = np.concatenate([np.flatnonzero(test.labels[:k] == c)[:2] for c in range(len(names))])
    scores, maps = collect_scores(models, explainers, x, y, masks, names, device=run.device, keep=show)
    scores["seed"] = run.seed
    return Explained(x, y, masks, show, scores, maps, explainers)


def random_margin(scores: pd.DataFrame, *, n_boot: int, seed: int) -> pd.DataFrame:
    """Bootstrap CI of each cell's margin over the random-map baseline (score − mask share), and whether its lower
    bound is above 0 (``beats random``). Adds the ``margin`` column to ``scores``."""
    from ...stats import bootstrap_ci

    scores["margin"] = scores["score"] - scores["random_baseline"]
    margin = bootstrap_ci(scores, "margin", by=["metric", "class", "arch", "method"], n_boot=n_boot, seed=seed)
    margin["beats random"] = margin["low"] > 0
    return margin


def sanity_check(run, models: Mapping[str, Any], ex: Explained, test) -> pd.DataFrame:
    """Cascading randomisation of the first model, block by block from the output down: the Spearman correlation
    of each method's maps of a few test images (``n_sanity``, balanced over classes) with the trained model's."""
    from ...metrics import model_randomisation

    archs = run.params["archs"]
    k = len(ex.y)
    n_classes = len(test.class_names)
    probe = models[archs[0]]
    idx = np.concatenate([np.flatnonzero(test.labels[:k] == c)[: max(1, run.params["n_sanity"] // n_classes)]
                          for c in range(n_classes)])
    return pd.concat([model_randomisation(probe, ex.x[idx], ex.y[idx], ex.explainers[m].attribute,
                                          layers=block_layers(probe), seed=run.seed, similarity=("spearman",))
                      .assign(method=m, arch=archs[0]) for m in run.params["methods"]], ignore_index=True)


def sanity_final(sanity: pd.DataFrame) -> pd.Series:
    """Mean Spearman ρ per method once every layer is re-initialised (the cascade's last step)."""
    return sanity[sanity["step"] == sanity["step"].max()].groupby("method")["spearman"].mean()


def performance(models: Mapping[str, Any], test) -> pd.DataFrame:
    """Table 2's numbers of every model on the test split: accuracy, AUC, cross-entropy."""
    from ...train import predict_logits

    x_test, y_test = test.tensors()
    return pd.DataFrame([classification_scores(a, y_test, predict_logits(m, x_test)) for a, m in models.items()])


def replication_values(folder) -> dict[str, float]:
    """The headline quantities of a finished run (its folder): each model's test accuracy, and each method's mean
    RRA on COVID-19 images over the models."""
    from pathlib import Path

    folder = Path(folder)
    perf = pd.read_csv(folder / "table2_performance.csv")
    out = {f"test accuracy, {m}": float(a) for m, a in zip(perf["model"], perf["accuracy_ours"], strict=True)}
    s = pd.read_csv(folder / "summary.csv")
    rra = s[(s["metric"] == "relevance_rank_accuracy") & (s["class"] == "covid")].groupby("method", sort=False)["mean"]
    out.update({f"RRA on COVID-19, {m.replace('_', ' ')} (mean over models)": float(v) for m, v in rra.mean().items()})
    return out


# --------------------------------------------------------------------------- beyond the paper (issue 18)
#: The model-free maps every figure and verdict is measured against (see ``xaikit.explain.MODEL_FREE_MAPS``).
MODEL_FREE_BASELINES = ("random", "smoothed_random", "sobel", "intensity", "organ", "random_in_organ")
#: The accuracy every compared model must reach before any complexity claim (the paper's are 0.96–0.98).
ACCURACY_BAR = 0.90


def predicted_labels(models: Mapping[str, Any], x) -> dict:
    """arch → each model's predicted class of every image."""
    from ...train import predict_logits

    return {arch: predict_logits(m, x).argmax(1) for arch, m in models.items()}


def predicted_target_scores(run, models: Mapping[str, Any], ex: Explained, test) -> pd.DataFrame:
    """The same images explained for each model's *predicted* class (the paper explains the true one), scored
    alike; with ``correct`` (the model's prediction equals the true label) and ``target = "predicted"``."""
    preds = predicted_labels(models, ex.x)
    scores, _ = collect_scores(models, ex.explainers, ex.x, ex.y, ex.masks, list(test.class_names),
                               device=run.device, targets=preds)
    y = np.asarray(ex.y)
    scores["correct"] = [bool(np.asarray(preds[a])[i] == y[i]) for a, i in zip(scores["arch"], scores["image"],
                                                                                strict=True)]
    scores["target"] = "predicted"
    scores["seed"] = run.seed
    return scores


def mark_true_targets(scores: pd.DataFrame, models: Mapping[str, Any], ex: Explained) -> pd.DataFrame:
    """Add ``target = "true"`` and ``correct`` (the model predicted the true label) to the paper's scores."""
    preds = predicted_labels(models, ex.x)
    y = np.asarray(ex.y)
    out = scores.copy()
    out["correct"] = [bool(np.asarray(preds[a])[i] == y[i]) for a, i in zip(out["arch"], out["image"], strict=True)]
    out["target"] = "true"
    return out


def target_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean score per metric × class × model × method, for the true and the predicted target, and on correctly
    classified images only (``correct only``), with the share of images each model got right."""
    keys = ["metric", "class", "arch", "method"]
    both = scores.pivot_table(index=keys, columns="target", values="score", aggfunc="mean", sort=False)
    correct = scores[(scores["target"] == "true") & scores["correct"]].groupby(keys, sort=False)["score"].mean()
    share = scores[scores["target"] == "true"].groupby(keys, sort=False)["correct"].mean()
    out = both.rename(columns={"true": "true label", "predicted": "predicted label"})
    out["correct only"] = correct
    out["share correct"] = share
    return out.reset_index()


def baseline_scores(run, ex: Explained, test) -> pd.DataFrame:
    """Every model-free map of ``MODEL_FREE_BASELINES`` on the explained images, scored with RRA and PAR by the same
    metric code as the models' maps (``arch = "model-free"``, ``method`` = the baseline). The smoothed random map
    matches the spatial autocorrelation of the first model's maps of the first method."""
    import torch

    from ...explain import model_free_map
    from ...metrics import positive_attribution_ratio, relevance_rank_accuracy

    k = len(ex.y)
    masks = torch.as_tensor(ex.masks).bool()
    organ = None if test.organ_masks is None else test.organ_masks[:k]
    first = next(iter(ex.maps.values())) if ex.maps else None
    classes = np.asarray(test.class_names)[np.asarray(ex.y)]
    frames = []
    for name in MODEL_FREE_BASELINES:
        if name in ("organ", "random_in_organ") and organ is None:
            continue
        a = model_free_map(name, ex.x, organ_masks=organ, evidence_masks=masks, reference_maps=first, seed=run.seed)
        for metric, fn in (("relevance_rank_accuracy", relevance_rank_accuracy),
                           ("positive_attribution_ratio", positive_attribution_ratio)):
            frames.append(pd.DataFrame({"image": np.arange(k), "class": classes, "arch": "model-free", "method": name,
                                        "metric": metric, "score": fn(a, masks).numpy(), "seed": run.seed}))
    return pd.concat(frames, ignore_index=True)


def cell_intervals(scores: pd.DataFrame, *, by: Sequence[str], n_boot: int, seed: int) -> pd.DataFrame:
    """Mean and percentile-bootstrap 95 % interval over images per cell (columns ``mean, low, high``)."""
    from ...stats import bootstrap_ci

    ci = bootstrap_ci(scores, "score", by=list(by), n_boot=n_boot, seed=seed)
    return ci.rename(columns={"estimate": "mean"})


def localisation_table(scores: pd.DataFrame, baselines: pd.DataFrame, *, n_boot: int, seed: int) -> pd.DataFrame:
    """Per metric × class × model × method (true targets): does the method localise — is its interval above the
    strongest model-free baseline's of the same metric and class (:func:`xaikit.stats.localisation_verdicts`)?
    Healthy cells (the mask is the lungs) measure attention to the lungs, and say so in ``measures``."""
    from ...stats import localisation_verdicts

    true = scores[scores["target"] == "true"] if "target" in scores else scores
    m = cell_intervals(true, by=["metric", "class", "arch", "method"], n_boot=n_boot, seed=seed)
    b = cell_intervals(baselines, by=["metric", "class", "method"], n_boot=n_boot, seed=seed)
    b = b.rename(columns={"method": "baseline"})
    v = localisation_verdicts(m, b, by=["metric", "class"], estimate="mean")  # keeps the arch column
    v["measures"] = np.where(v["class"] == "healthy", "attention to the lungs (the mask is the lungs)",
                             "localisation of the lesions")
    return v


def paired_tests(scores: pd.DataFrame, archs: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The design's tests: the four models explain the *same* images, so Friedman across models with the image
    as the block, and Wilcoxon signed-rank post-hoc with Holm and the matched-pairs rank-biserial effect size, per
    metric × class × method × target."""
    from ...stats import friedman, paired_posthoc

    models = scores[scores["arch"].isin(list(archs))]
    cells = ["metric", "class", "method", "target"] if "target" in models else ["metric", "class", "method"]
    fr = friedman(models, "score", "arch", "image", by=cells, order=list(archs))
    post = paired_posthoc(models, "score", "arch", "image", cells=cells, order=list(archs))
    return fr, post
