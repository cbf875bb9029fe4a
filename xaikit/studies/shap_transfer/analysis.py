"""Study 3's numbers: SHAP for debugging a classifier and for testing cross-domain transfer (paper 004).

Tsekanovskiy (2024), *Using SHAP for deep convolutional neural network debugging and
transferability* (paper 004). A brain-tumour MRI classifier (glioma / meningioma / no tumour /
pituitary) is applied, without retraining, to lung CT (normal / benign / malignant), and SHAP's
Partition explainer with a blur masker shows where its evidence lies. The paper's numbers are
published tables of this package (:func:`xaikit.studies.load_published`), not constants here.

The stage functions (:func:`load_domains`, :func:`train_classifier`, :func:`evaluate`,
:func:`explain_in_domain`, :func:`explain_foreign`, :func:`region_masses`, :func:`shortcut_experiment`)
are the notebook's steps; the rest are the tables they produce.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..._validation import check_option
from ...data import BRAIN_MRI_CLASSES, LUNG_CT_CLASSES
from .._published import load_published
from .spec import check_domains

__all__ = [
    "BRAIN_CLASSES", "Classifier", "distribution_vs_paper", "domain_masses", "Domains", "evaluate", "Evaluation",
    "explain_foreign", "explain_in_domain", "Explained", "FOREIGN", "Foreign", "FRACTIONS", "IN_DOMAIN",
    "load_domains", "LUNG_CLASSES", "mass_summary", "metrics_vs_paper", "paper_table", "per_class_vs_paper",
    "predict_foreign", "predicted_distribution", "probability_table", "region_masses", "replication_values",
    "shap_explainer", "shortcut_accuracy", "shortcut_drop", "shortcut_experiment", "ShortcutResult",
    "train_classifier", "train_config",
]

BRAIN_CLASSES = BRAIN_MRI_CLASSES
LUNG_CLASSES = LUNG_CT_CLASSES


def paper_table(name: str) -> pd.DataFrame:
    """A published table of paper 004 (``metrics``, ``notebook_test``, ``per_class``, ``table1_probabilities``,
    ``table2_probabilities``, ``xlsx_counts``), without its provenance columns (``source``, ``bibkey``)."""
    return load_published("03_shap_transfer", name).drop(columns=["source", "bibkey"])


# --------------------------------------------------------------------------- probabilities
def _check_probs(probs, name: str = "probs") -> np.ndarray:
    p = np.asarray(probs.detach().cpu() if hasattr(probs, "detach") else probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError(f"{name} must be an (N, K) array of class probabilities with N >= 1, got shape {p.shape}")
    if not np.isfinite(p).all():
        row = int(np.flatnonzero(~np.isfinite(p).all(1))[0])
        raise ValueError(f"{name} must be finite; found NaN or inf in row {row}")
    if (p < 0).any() or (np.abs(p.sum(1) - 1) > 1e-4).any():
        bad = int(np.flatnonzero((p < 0).any(1) | (np.abs(p.sum(1) - 1) > 1e-4))[0])
        raise ValueError(f"{name} must be probabilities (non-negative rows summing to 1, e.g. a softmax); "
                         f"row {bad} sums to {p[bad].sum():.6g} with minimum {p[bad].min():.6g}")
    return p


def _check_labels(labels, n: int, n_classes: int, name: str = "labels") -> np.ndarray:
    y = np.asarray(labels.detach().cpu() if hasattr(labels, "detach") else labels)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name} must be {n} integer class indices of shape ({n},), got {y.dtype} {y.shape}")
    if n and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{name} must lie in [0, {n_classes - 1}], got values in [{y.min()}, {y.max()}]")
    return y.astype(np.int64)


def probability_table(probs, labels, *, class_names: Sequence[str] = BRAIN_CLASSES,
                      label_names: Sequence[str] = LUNG_CLASSES, no_finding: str | None = "no_tumour",
                      index: Sequence[int] | None = None) -> pd.DataFrame:
    """Per-image class probabilities in the layout of paper 004's Tables 1-2.

    Parameters
    ----------
    probs : (N, K) softmax probabilities of the model's K classes (rows sum to 1).
    labels : (N,) the images' own labels, indices into ``label_names`` (for the foreign domain:
        the lung class; for the training domain: the same classes as ``class_names``).
    class_names : the model's classes (columns ``p_<name>``).
    label_names : names of ``labels`` (column ``actual``).
    no_finding : the model class that means "no lesion"; ``p_tumour`` is one minus its probability
        (the paper's "combined tumor" column). ``None`` leaves the column out.
    index : image identifiers for the ``image`` column (default 0..N-1).

    Returns
    -------
    DataFrame with columns ``image, actual, p_<class>..., [p_tumour], predicted`` (the most probable
    class; ties go to the first class, as ``argmax``).

    Examples
    --------
    >>> t = probability_table([[0.1, 0.6, 0.2, 0.1]], [2])
    >>> t[["actual", "p_meningioma", "p_tumour", "predicted"]].to_dict("records")
    [{'actual': 'malignant', 'p_meningioma': 0.6, 'p_tumour': 0.8, 'predicted': 'meningioma'}]
    """
    p = _check_probs(probs)
    if len(class_names) != p.shape[1]:
        raise ValueError(f"class_names has {len(class_names)} names for {p.shape[1]} probability columns")
    y = _check_labels(labels, len(p), len(label_names))
    idx = np.arange(len(p)) if index is None else np.asarray(index)
    if len(idx) != len(p):
        raise ValueError(f"index has {len(idx)} entries for {len(p)} images")
    table = pd.DataFrame({"image": idx, "actual": np.asarray(label_names, dtype=object)[y]})
    for k, c in enumerate(class_names):
        table[f"p_{c}"] = p[:, k]
    if no_finding is not None:
        check_option("no_finding", no_finding, list(class_names), context="probability_table")
        table["p_tumour"] = 1.0 - p[:, list(class_names).index(no_finding)]
    table["predicted"] = np.asarray(class_names, dtype=object)[p.argmax(1)]
    return table


def predicted_distribution(probs, labels, *, class_names: Sequence[str] = BRAIN_CLASSES,
                           label_names: Sequence[str] = LUNG_CLASSES) -> pd.DataFrame:
    """How often each model class is the top-1 prediction, per class of the images (a tidy crosstab).

    Returns one row per (actual, predicted) pair, zeros included: ``actual, predicted, count, n,
    share`` where ``share = count / n`` and ``n`` is the number of images of class ``actual``
    (NaN share for a class with no images). Also the mean probability of each model class per
    actual class, ``mean_prob``.

    Examples
    --------
    >>> d = predicted_distribution([[0.1, 0.6, 0.2, 0.1], [0.1, 0.1, 0.7, 0.1]], [2, 2])
    >>> d[d["actual"] == "malignant"].set_index("predicted")["count"].to_dict()
    {'glioma': 0, 'meningioma': 1, 'no_tumour': 1, 'pituitary': 0}
    """
    p = _check_probs(probs)
    if len(class_names) != p.shape[1]:
        raise ValueError(f"class_names has {len(class_names)} names for {p.shape[1]} probability columns")
    y = _check_labels(labels, len(p), len(label_names))
    top = p.argmax(1)
    rows = []
    for a, aname in enumerate(label_names):
        sel = y == a
        n = int(sel.sum())
        for k, kname in enumerate(class_names):
            count = int((top[sel] == k).sum())
            rows.append({"actual": aname, "predicted": kname, "count": count, "n": n,
                         "share": count / n if n else np.nan,
                         "mean_prob": float(p[sel, k].mean()) if n else np.nan})
    return pd.DataFrame(rows, columns=["actual", "predicted", "count", "n", "share", "mean_prob"])


def distribution_vs_paper(dist: pd.DataFrame) -> pd.DataFrame:
    """Our top-1 shares per foreign class beside the shares in the paper's xlsx files (pre-final model).

    Returns ``actual, predicted, ours, paper_xlsx, n_ours, n_paper``.

    Examples
    --------
    >>> d = predicted_distribution([[0.1, 0.1, 0.7, 0.1]], [0])
    >>> float(distribution_vs_paper(d).query("actual == 'normal' and predicted == 'no_tumour'")["paper_xlsx"].iloc[0])
    0.8533653846153846
    """
    xlsx = {(r["actual"], r["predicted"]): int(r["count"]) for r in paper_table("xlsx_counts").to_dict("records")}
    paper_n = {a: sum(v for (aa, _), v in xlsx.items() if aa == a) for a in LUNG_CLASSES}
    out = dist[["actual", "predicted", "share", "n"]].rename(columns={"share": "ours", "n": "n_ours"}).copy()
    out["paper_xlsx"] = [xlsx.get((a, k), 0) / paper_n[a] if a in paper_n else np.nan
                         for a, k in zip(out["actual"], out["predicted"], strict=True)]
    out["n_paper"] = [paper_n.get(a, 0) for a in out["actual"]]
    return out[["actual", "predicted", "ours", "paper_xlsx", "n_ours", "n_paper"]].reset_index(drop=True)


# --------------------------------------------------------------------------- ours vs paper
def _table_value(table: pd.DataFrame, metric: str, cls: str = "all") -> float:
    hit = table[(table["metric"] == metric) & (table["class"] == cls)]["value"]
    return float(hit.iloc[0]) if len(hit) else float("nan")


def metrics_vs_paper(table: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Our whole-set metrics (from :func:`xaikit.train.evaluate_logits`) beside the paper's.

    Columns: ``metric, ours, paper_table`` (the paper's metrics table: Keras running averages),
    ``paper_notebook`` (the public notebook's final test run; test split only). Precision and recall
    are macro averages here (the Keras numbers are micro averages over one-hot outputs), AUC the
    macro one-vs-rest AUC.

    Examples
    --------
    >>> import torch
    >>> from xaikit.train import evaluate_logits
    >>> t = evaluate_logits(torch.tensor([0, 1, 2, 3]), torch.eye(4) * 5)
    >>> metrics_vs_paper(t).set_index("metric").loc["accuracy"].tolist()
    [1.0, 0.99, 0.99237]
    """
    metrics = paper_table("metrics")
    check_option("split", split, tuple(dict.fromkeys(metrics["split"])), context="metrics_vs_paper")
    ours = {"loss": _table_value(table, "loss"), "accuracy": _table_value(table, "accuracy"),
            "precision": _table_value(table, "precision", "macro"),
            "recall": _table_value(table, "sensitivity", "macro"), "auc": _table_value(table, "roc_auc", "macro"),
            "mcc": _table_value(table, "mcc"), "cohen_kappa": _table_value(table, "cohen_kappa"),
            "log_loss": _table_value(table, "log_loss"),
            "balanced_accuracy": _table_value(table, "balanced_accuracy")}
    paper = metrics[metrics["split"] == split].set_index("metric")["value"].to_dict()
    notebook = paper_table("notebook_test").set_index("metric")["value"].to_dict()
    rows = [{"metric": m, "ours": v, "paper_table": paper.get(m, np.nan),
             "paper_notebook": notebook.get(m, np.nan) if split == "test" else np.nan}
            for m, v in ours.items()]
    return pd.DataFrame(rows, columns=["metric", "ours", "paper_table", "paper_notebook"])


def per_class_vs_paper(table: pd.DataFrame, class_names: Sequence[str] = BRAIN_CLASSES) -> pd.DataFrame:
    """Per-class precision, recall (sensitivity), specificity, F1 and AUC beside the notebook's precision/recall.

    Examples
    --------
    >>> import torch
    >>> from xaikit.train import evaluate_logits
    >>> t = evaluate_logits(torch.tensor([0, 1, 2, 3]), torch.eye(4) * 5, class_names=BRAIN_CLASSES)
    >>> row = per_class_vs_paper(t).iloc[0]
    >>> row["class"], float(row["precision"]), float(row["paper_precision"])
    ('glioma', 1.0, 0.9867)
    """
    published = paper_table("per_class").set_index("class").to_dict("index")
    rows = []
    for c in class_names:
        paper = published.get(c, {})
        rows.append({"class": c, "precision": _table_value(table, "precision", c),
                     "recall": _table_value(table, "sensitivity", c),
                     "specificity": _table_value(table, "specificity", c), "f1": _table_value(table, "f1", c),
                     "auc": _table_value(table, "roc_auc", c),
                     "paper_precision": paper.get("precision", np.nan), "paper_recall": paper.get("recall", np.nan)})
    return pd.DataFrame(rows)


def shortcut_accuracy(results: Mapping[tuple[str, str], tuple], class_names: Sequence[str] = BRAIN_CLASSES,
                      shortcut_class: str = "pituitary") -> pd.DataFrame:
    """Accuracy, balanced accuracy and the shortcut class's recall of models on test sets.

    Parameters
    ----------
    results : ``{(model, test set): (y_true, logits)}``, e.g. ``("shortcut", "marker kept")``.
    shortcut_class : the class the marker was drawn on.

    Returns
    -------
    DataFrame ``model, test_set, accuracy, balanced_accuracy, recall_<shortcut_class>, n``.

    Examples
    --------
    >>> import torch
    >>> r = {("m", "t"): (torch.tensor([0, 3]), torch.tensor([[2.0, 0, 0, 0], [2.0, 0, 0, 0]]))}
    >>> row = shortcut_accuracy(r).iloc[0]
    >>> float(row["accuracy"]), float(row["recall_pituitary"])
    (0.5, 0.0)
    """
    from ...train import evaluate_logits

    check_option("shortcut_class", shortcut_class, list(class_names), context="shortcut_accuracy")
    rows = []
    for (model, test_set), (y, logits) in results.items():
        t = evaluate_logits(y, logits, class_names=class_names)
        rows.append({"model": model, "test_set": test_set, "accuracy": _table_value(t, "accuracy"),
                     "balanced_accuracy": _table_value(t, "balanced_accuracy"),
                     f"recall_{shortcut_class}": _table_value(t, "sensitivity", shortcut_class),
                     "n": int(_table_value(t, "n"))})
    return pd.DataFrame(rows)




# --------------------------------------------------------------------------- the notebook's stages
#: The phantom split: a seeded, stratified 70 / 10 / 20 cut of the training domain.
FRACTIONS = (0.7, 0.1, 0.2)


@dataclass
class Domains:
    """The training domain's splits, the whole phantom set they were cut from, and the foreign images."""

    kind: str
    splits: dict
    foreign: Any
    full: Any = None

    @property
    def test(self):
        return self.splits["test"]

    @property
    def class_names(self) -> list[str]:
        return list(self.test.class_names)

    @property
    def foreign_names(self) -> list[str]:
        return list(self.foreign.class_names)

    def counts(self) -> pd.DataFrame:
        """Images per class and split of the training domain."""
        return pd.DataFrame({s: np.bincount(d.labels, minlength=len(self.class_names)) for s, d in self.splits.items()},
                            index=self.class_names).rename_axis("class")

    def foreign_counts(self, name: str) -> pd.DataFrame:
        """Images per class of the foreign domain."""
        return pd.Series(np.bincount(self.foreign.labels, minlength=len(self.foreign_names)), index=self.foreign_names,
                         name=f"{name} (foreign)").to_frame()


def load_domains(run) -> Domains:
    """Both domains: phantoms generated from the seed (a stratified 70/10/20 split; the foreign set from seed + 1),
    or the real datasets under ``data_root`` (the paper's split: 88/12 of ``Training/`` and ``Testing/``)."""
    from ...data import load, split_indices

    p = run.params
    kind = check_domains(p["dataset"], p["foreign_dataset"], p["data_root"])
    if kind == "phantom":
        full = load(p["dataset"], "all", n=p["n_images"], image_size=p["image_size"], seed=run.seed,
                    difficulty=p["difficulty"])
        cut = split_indices(full.labels, FRACTIONS, run.seed)
        splits = {s: full.subset(cut[s]) for s in ("train", "val", "test")}
        foreign = load(p["foreign_dataset"], "all", n=p["n_foreign"], image_size=p["image_size"], seed=run.seed + 1,
                       difficulty=p["difficulty"])
        return Domains(kind, splits, foreign, full)
    splits = {s: load(p["dataset"], s, image_size=p["image_size"], seed=run.seed, data_root=p["data_root"])
              for s in ("train", "val", "test")}
    foreign = load(p["foreign_dataset"], "all", n=p["n_foreign"], image_size=p["image_size"], seed=run.seed,
                   data_root=p["data_root"])
    return Domains(kind, splits, foreign)


@dataclass
class Classifier:
    """The trained brain classifier: the cached fit and the training configuration."""

    fit: Any
    config: Any
    in_channels: int

    @property
    def model(self):
        return self.fit.model


def train_config(run):
    """Paper 004's recipe with the run's values: Adam (amsgrad), LR on plateau, early stopping on the validation
    loss, the checkpoint with the best validation accuracy."""
    from ...train import TrainConfig

    p = run.params
    return TrainConfig(epochs=p["epochs"], batch_size=p["batch_size"], optimizer="adam", lr=p["lr"],
                       amsgrad=p["amsgrad"], select="val_accuracy", scheduler="plateau", plateau_factor=0.5,
                       plateau_patience=p["plateau_patience"], min_lr=1e-7, early_stopping=p["early_stopping"],
                       monitor="val_loss", augment=p["augmentation"], seed=run.seed, device=p["device"])


def train_classifier(run, data: Domains) -> Classifier:
    """Train (or load from the model cache) the brain classifier on the training split."""
    from ...train import train_cached

    config = train_config(run)
    in_ch = data.test.images.shape[1]
    fit = train_cached(run.params["arch"], in_ch, len(data.class_names), data.splits["train"], data.splits["val"],
                       config)
    run.timings["training"] = fit.seconds
    return Classifier(fit, config, in_ch)


@dataclass
class Evaluation:
    """In-domain evaluation of the classifier: logits per split, metric tables, the paper's beside ours."""

    logits: dict
    tables: dict
    ours_vs_paper: pd.DataFrame
    per_class: pd.DataFrame
    confusion: np.ndarray

    def test_value(self, metric: str) -> float:
        return float(self.ours_vs_paper[self.ours_vs_paper["split"] == "test"].set_index("metric")["ours"][metric])

    def metrics_long(self) -> pd.DataFrame:
        return pd.concat([t.assign(split=s) for s, t in self.tables.items()], ignore_index=True)

    def confusion_long(self, class_names: Sequence[str]) -> pd.DataFrame:
        return (pd.DataFrame(self.confusion, index=pd.Index(class_names, name="true"), columns=class_names)
                .reset_index().melt(id_vars="true", var_name="predicted", value_name="count"))


def evaluate(run, model, data: Domains) -> Evaluation:
    """Whole-set metrics of each split beside the paper's, per-class metrics and the test confusion matrix."""
    from ...train import confusion_matrix, evaluate_logits, predict_logits

    names = data.class_names
    logits = {s: predict_logits(model, d.tensors()[0].to(run.device)) for s, d in data.splits.items()}
    tables = {s: evaluate_logits(d.labels, logits[s], class_names=names) for s, d in data.splits.items()}
    ours = pd.concat([metrics_vs_paper(tables[s], s).assign(split=s) for s in ("train", "val", "test")],
                     ignore_index=True)[["split", "metric", "ours", "paper_table", "paper_notebook"]]
    cm = confusion_matrix(data.test.labels, logits["test"].argmax(1), len(names))
    return Evaluation(logits, tables, ours, per_class_vs_paper(tables["test"], names), cm)


@dataclass
class Explained:
    """SHAP maps of a seeded sample per class (top class each) and of one image per class (top-k classes)."""

    pick: np.ndarray
    maps: Any
    top: Any
    probs: np.ndarray
    show: np.ndarray
    maps_show: Any
    top_show: Any
    row_titles: list


def shap_explainer(run):
    """Paper 004's explainer: SHAP Partition with a blur masker, ``max_evals`` evaluations."""
    from ...explain import get_explainer

    return get_explainer("shap_partition", max_evals=run.params["max_evals"], batch_size=64)


def _explain(run, explainer, model, ds, pick, probs) -> Explained:
    import torch

    names = list(ds.class_names)
    x = torch.from_numpy(ds.images[pick]).to(run.device)
    maps, top = explainer.top_k(model, x, k=1)  # the top class of every image: the mass analysis
    show = np.concatenate([np.flatnonzero(ds.labels[pick] == c)[:1] for c in range(len(names))])
    k = min(run.params["top_k"], probs.shape[1])
    maps_show, top_show = explainer.top_k(model, x[show], k=k)  # top-k classes of one image per class
    titles = [f"{names[ds.labels[i]]} #{i}" for i in pick]
    return Explained(pick, maps, top, probs, show, maps_show, top_show, [titles[i] for i in show])


def explain_in_domain(run, explainer, model, data: Domains, ev: Evaluation) -> Explained:
    """SHAP on ``n_explain`` seeded test images per brain class."""
    import torch

    from ...data import pick_per_class

    pick = pick_per_class(data.test.labels, run.params["n_explain"], seed=run.seed)
    probs = torch.softmax(ev.logits["test"][pick], 1).numpy()
    return _explain(run, explainer, model, data.test, pick, probs)


@dataclass
class Foreign:
    """The brain model's answers on the foreign domain."""

    probs: np.ndarray
    table: pd.DataFrame
    pick: np.ndarray
    distribution: pd.DataFrame
    tumour_share: dict
    mean_tumour: pd.Series


def predict_foreign(run, model, data: Domains) -> Foreign:
    """Class probabilities of every foreign image, a seeded sample per foreign class, the top-1 distribution."""
    import torch

    from ...data import pick_per_class
    from ...train import predict_logits

    names, foreign_names = data.class_names, data.foreign_names
    x = torch.from_numpy(data.foreign.images)
    probs = torch.softmax(predict_logits(model, x.to(run.device)), 1).numpy()
    table = probability_table(probs, data.foreign.labels, class_names=names, label_names=foreign_names)
    pick = pick_per_class(data.foreign.labels, run.params["n_explain"], seed=run.seed)
    dist = predicted_distribution(probs, data.foreign.labels, class_names=names, label_names=foreign_names)
    share = {a: float(1 - dist[(dist["actual"] == a) & (dist["predicted"] == "no_tumour")]["share"].iloc[0])
             for a in foreign_names}
    mean = table.groupby("actual")["p_tumour"].mean().reindex(foreign_names)
    return Foreign(probs, table, pick, dist, share, mean)


def explain_foreign(run, explainer, model, data: Domains, fo: Foreign) -> Explained:
    """SHAP on the seeded sample of foreign images."""
    return _explain(run, explainer, model, data.foreign, fo.pick, fo.probs[fo.pick])


def region_masses(ds, idx, maps, domain: str) -> pd.DataFrame:
    """Per image and region (organ, lesion, body outside the organ, outside the body), the share of the map's
    absolute and positive mass (:func:`xaikit.metrics.mass_fractions`), with the domain and the image's class."""
    from ...metrics import image_regions, mass_fractions

    has_masks = bool(ds.params.get("has_masks", True)) and ds.masks[idx].any()
    regions = image_regions(ds.images[idx], organ=None if ds.organ_masks is None else ds.organ_masks[idx],
                            lesion=ds.masks[idx] if has_masks else None)
    frames = [mass_fractions(maps, regions, sign=sign, index=idx).assign(sign=sign)
              for sign in ("absolute", "positive")]
    f = pd.concat(frames, ignore_index=True)
    f["domain"] = domain
    f["class"] = np.asarray(ds.class_names, dtype=object)[ds.labels[f["image"].to_numpy()]]
    return f


#: The two domains' labels in tables and text.
IN_DOMAIN, FOREIGN = "in-domain (brain)", "foreign (lung)"
_REGION_ORDER = ("organ", "lesion", "body_not_organ", "outside_body")


def mass_summary(mass: pd.DataFrame, *, n_boot: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bootstrap CIs of the absolute mass share per domain × region (regions in anatomical order, in-domain
    first) and each region's mean share of the image (``area``)."""
    from ...stats import bootstrap_ci

    absolute = mass[mass["sign"] == "absolute"]
    ci = bootstrap_ci(absolute, "fraction", by=["domain", "region"], n_boot=n_boot, seed=seed)
    area = absolute.groupby(["domain", "region"], as_index=False)["area"].mean()
    order = [r for r in _REGION_ORDER if r in set(ci["region"])]
    ci["region"] = pd.Categorical(ci["region"], order)
    ci = ci.sort_values(["region", "domain"], ascending=[True, False]).reset_index(drop=True)
    ci["region"] = ci["region"].astype(str)
    return ci, area


@dataclass
class ShortcutResult:
    """The shortcut experiment: clean and marked models, their accuracies with and without the marker, and the
    mass their maps put on the marker."""

    fit_marked: Any
    models: dict
    accuracy: pd.DataFrame
    n_marked: int
    n_test: int
    pick: np.ndarray
    images: np.ndarray
    shortcut_masks: np.ndarray
    maps: dict
    mass: pd.DataFrame
    ci: pd.DataFrame
    marker_area: float


def shortcut_experiment(run, data: Domains, clf: Classifier, explainer) -> ShortcutResult:
    """Train a second brain model on images whose pituitary share ``shortcut_share`` carries a corner marker; test
    both models with the marker kept and removed; explain marked pituitary images with SHAP and the gradient
    method and measure the share of the absolute attribution on the marker."""
    import torch

    from ...data import load, split_indices
    from ...explain import get_explainer
    from ...metrics import image_regions, mass_fractions
    from ...stats import bootstrap_ci
    from ...train import predict_logits, train_cached

    p, names, dev = run.params, data.class_names, run.device
    with run.stage("shortcut_data"):
        options = dict(n=p["n_images"], image_size=p["image_size"], seed=run.seed, difficulty=p["difficulty"])
        clean_full = data.full if data.kind == "phantom" else load("brain_mri", "all", **options)
        marked_full = load("brain_mri", "all", shortcut=p["shortcut_share"], shortcut_class="pituitary", **options)
        cut = split_indices(clean_full.labels, FRACTIONS, run.seed)
        clean_sets = {s: clean_full.subset(cut[s]) for s in ("train", "val", "test")}
        marked_sets = {s: marked_full.subset(cut[s]) for s in ("train", "val", "test")}
    if data.kind == "phantom":
        fit_clean = clf.fit
    else:  # the real-data model never saw a phantom: train a clean phantom model beside the shortcut model
        fit_clean = train_cached(p["arch"], 1, len(names), clean_sets["train"], clean_sets["val"], clf.config)
    fit_marked = train_cached(p["arch"], 1, len(names), marked_sets["train"], marked_sets["val"], clf.config)
    run.timings["training_shortcut"] = fit_marked.seconds + (0 if fit_clean is clf.fit else fit_clean.seconds)
    models = {"clean": fit_clean.model, "shortcut": fit_marked.model}
    results = {}
    for mname, m in models.items():
        for tname, ds in (("marker kept", marked_sets["test"]), ("marker removed", clean_sets["test"])):
            results[(mname, tname)] = (ds.labels, predict_logits(m, torch.from_numpy(ds.images).to(dev)))
    acc = shortcut_accuracy(results, names, "pituitary")
    marked_test = marked_sets["test"]
    n_marked = int(marked_test.meta["shortcut"].sum())
    with run.stage("shortcut_explain"):
        carriers = np.flatnonzero(marked_test.meta["shortcut"].to_numpy())
        pick = np.sort(np.random.default_rng(run.seed).choice(carriers, size=min(len(carriers), 2 * p["n_explain"]),
                                                              replace=False)) if len(carriers) else carriers
        grad = get_explainer(p["gradient_method"])
        x = torch.from_numpy(marked_test.images[pick]).to(dev)
        maps, frames = {}, []
        if len(pick):
            regions = image_regions(marked_test.images[pick], organ=marked_test.organ_masks[pick],
                                    shortcut=marked_test.shortcut_masks[pick])
            for mname, m in models.items():
                predicted = predict_logits(m, x).argmax(1)
                shap_maps, _ = explainer.top_k(m, x, k=1)
                maps[f"{mname} · SHAP"] = shap_maps[:, 0].cpu()
                maps[f"{mname} · {p['gradient_method']}"] = grad.attribute(m, x, predicted.to(dev)).cpu()
            for name, a in maps.items():
                mname, method = name.split(" · ")
                frames.append(mass_fractions(a, regions, index=pick).assign(model=mname, method=method))
        mass = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["image", "region", "fraction", "area", "reason", "model", "method"])
        mass["seed"] = run.seed
    ci = bootstrap_ci(mass[mass["region"] == "shortcut"], "fraction", by=["model", "method"], n_boot=p["n_boot"],
                      seed=run.seed) if len(mass) else pd.DataFrame()
    area = float(mass.loc[mass["region"] == "shortcut", "area"].mean()) if len(mass) else float("nan")
    return ShortcutResult(fit_marked, models, acc, n_marked, len(marked_test), pick, marked_test.images[pick],
                          marked_test.shortcut_masks[pick], maps, mass, ci, area)


def domain_masses(run, data: Domains, ex_in: Explained, ex_out: Explained) -> pd.DataFrame:
    """:func:`region_masses` of the in-domain and foreign top-class SHAP maps, with the run's seed."""
    mass = pd.concat([region_masses(data.test, ex_in.pick, ex_in.maps[:, 0], IN_DOMAIN),
                      region_masses(data.foreign, ex_out.pick, ex_out.maps[:, 0], FOREIGN)], ignore_index=True)
    mass["seed"] = run.seed
    return mass


def shortcut_drop(acc: pd.DataFrame) -> float:
    """The shortcut model's accuracy with the marker kept minus with it removed."""
    a = acc.set_index(["model", "test_set"])["accuracy"]
    return float(a[("shortcut", "marker kept")] - a[("shortcut", "marker removed")])


def replication_values(folder) -> dict[str, float]:
    """The headline quantities of a finished run (its folder): in-domain test accuracy, the share of absolute SHAP
    mass outside the body per domain, the share of each foreign class predicted as a tumour, and the shortcut
    model's accuracy drop without the marker."""
    from pathlib import Path

    folder = Path(folder)
    metrics = pd.read_csv(folder / "metrics_vs_paper.csv")
    out = {"in-domain test accuracy": float(metrics[(metrics["split"] == "test")
                                                    & (metrics["metric"] == "accuracy")]["ours"].iloc[0])}
    ci = pd.read_csv(folder / "mass_fractions_ci.csv")
    for domain in (IN_DOMAIN, FOREIGN):
        row = ci[(ci["domain"] == domain) & (ci["region"] == "outside_body")]
        if len(row):
            out[f"SHAP mass outside the body, {domain}"] = float(row["estimate"].iloc[0])
    dist = pd.read_csv(folder / "foreign_distribution.csv")
    for a, sub in dist.groupby("actual", sort=False):
        if int(sub["n"].iloc[0]) > 0:
            no_tumour = sub[sub["predicted"] == "no_tumour"]["share"].iloc[0]
            out[f"share of {a} predicted as a tumour"] = float(1 - no_tumour)
    acc = pd.read_csv(folder / "shortcut_accuracy.csv")
    out["shortcut model: accuracy drop without the marker"] = shortcut_drop(acc)
    return out
