"""Study 2's numbers (paper 002, INFORMER): the QC run, ours-vs-paper tables, error detection, localisation.

Shu, Pahud de Mortanges, Poellinger, Mahapatra, Reyes (2024), *INFORMER: interpretability founded
monitoring of medical image deep learning models* (paper 002). The paper's numbers are published tables
of this package (:func:`xaikit.studies.load_published`): :func:`paper_table1`, :func:`paper_boot_medians`,
:func:`paper_model`, :func:`paper_classes`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .._published import load_published

__all__ = ["METHOD_LABELS", "ErrorDetection", "Model", "QCRun", "QCTables", "error_detection_tables",
           "flags_vs_localisation", "load_splits", "localisation_check", "method_label", "monitor_order", "prevalence",
           "paper_boot_medians", "paper_classes", "paper_model", "paper_table1", "qc_tables", "run_qc",
           "replication_values", "table1_long", "table1_vs_paper", "train_model", "Evaluation",
           "classifier_auc", "evaluate_monitors"]


def paper_table1() -> dict[str, dict[str, float]]:
    """Table 1 of paper 002: F1 per method and finding (and the printed mean, "mean") on the 284-image CheXpert
    test set after flipping flagged predictions. For INFORMER the printed mean differs from the mean of its five
    values by 0.002."""
    t = load_published("02_informer_qc", "table1_f1")
    return {m: dict(zip(g["class"], g["f1"], strict=True)) for m, g in t.groupby("method", sort=False)}


def paper_boot_medians() -> dict[str, float]:
    """Medians of the mean F1 over the 30 bootstrapped test sets (paper 002, text of Fig. 3)."""
    t = load_published("02_informer_qc", "bootstrap_medians")
    return dict(zip(t["method"], t["median_mean_f1"], strict=True))


def paper_model() -> dict[str, Any]:
    """The inspected model of paper 002 (architecture, resolution, training, validation/test AUC and sizes)."""
    return {k: v for k, v in load_published("02_informer_qc", "model").items() if k not in ("source", "bibkey")}


def paper_classes() -> dict[str, str]:
    """Paper 002's column order: finding name of this package → the paper's label."""
    t = load_published("02_informer_qc", "classes")
    return dict(zip(t["class"], t["paper_label"], strict=True))


METHOD_LABELS = {"no_qc": "No QC", "entropy": "Pred. Entropy", "tta": "TTA", "flip_all": "Flip all",
                 "oracle": "Oracle (flip exactly the wrong)"}


def method_label(name: str) -> str:
    """Display name: "informer_lrp" → "INFORMER_lrp", "informer_input_x_gradient" → "INFORMER_ixg",
    "random@entropy" → "Random flags at Pred. Entropy's rate"."""
    if name.startswith("random@"):
        return f"Random flags at {method_label(name[7:])}'s rate"
    if name.startswith("informer_"):
        short = {"input_x_gradient": "ixg"}.get(name[9:], name[9:])
        return f"INFORMER_{short}"
    return METHOD_LABELS.get(name, name)


@dataclass
class QCRun:
    """Everything one QC comparison produces (see :func:`run_qc`)."""

    class_names: list[str]
    y_val: np.ndarray
    y_test: np.ndarray
    pred_val: np.ndarray
    pred_test: np.ndarray
    monitors: dict = field(default_factory=dict)
    scores_val: dict = field(default_factory=dict)
    scores_test: dict = field(default_factory=dict)
    flags_test: dict = field(default_factory=dict)
    after_val: dict = field(default_factory=dict)
    after_test: dict = field(default_factory=dict)
    maps_test: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    def thresholds(self) -> pd.DataFrame:
        """One row per monitor × class: τ, direction, validation F1 before/after, flags on validation and test."""
        rows = []
        for name, mon in self.monitors.items():
            for c, cls in enumerate(self.class_names):
                rows.append({"method": name, "class": cls, "threshold": mon.thresholds_[c],
                             "direction": mon.directions_[c], "val_f1_no_qc": mon.val_f1_before_[c],
                             "val_f1_after": mon.val_f1_after_[c], "val_flagged": int(mon.n_flagged_val_[c]),
                             "test_flagged": int(self.flags_test[name][:, c].sum())})
        return pd.DataFrame(rows)


def run_qc(model: torch.nn.Module, x_val: torch.Tensor, y_val, x_test: torch.Tensor, y_test, thresholds,
           class_names: Sequence[str], *, methods: Sequence[str] = ("input_x_gradient", "lrp"),
           method_params: dict | None = None, tta_copies: int = 10, action: str = "flip", direction: str = "auto",
           step: float = 0.001, seed: int = 0, batch_size: int = 32) -> QCRun:
    """Paper 002's comparison: INFORMER with each saliency method, predictive entropy and TTA, fitted on validation.

    Predictions are the model's sigmoid outputs at ``thresholds`` (per class, e.g. Youden's on validation).
    Each monitor learns its per-class τ on the validation set and flags the test predictions; the flagged ones
    are acted on with ``action``. Class maps of the test set are kept (for the localisation check).
    """
    import time

    from ...qc import EntropyMonitor, Informer, TTAMonitor
    from ...train import predict_logits

    thr = np.asarray(thresholds, dtype=np.float64)
    z_val, z_test = predict_logits(model, x_val, batch_size), predict_logits(model, x_test, batch_size)
    p_val = (torch.sigmoid(z_val).numpy() >= thr).astype(np.int64)
    p_test = (torch.sigmoid(z_test).numpy() >= thr).astype(np.int64)
    run = QCRun(list(class_names), np.asarray(y_val).astype(np.int64), np.asarray(y_test).astype(np.int64),
                p_val, p_test)
    settings = dict(action=action, direction=direction, step=step)
    for m in methods:
        t0 = time.perf_counter()
        # class_maps batches images for the gradient methods, image x class rows for the others (LRP, ...)
        rows = batch_size if m in ("input_x_gradient", "saliency", "lrp") else batch_size * len(class_names)
        mon = Informer(m, method_params=(method_params or {}).get(m), batch_size=rows, **settings)
        maps_val, maps_test = mon.maps(model, x_val), mon.maps(model, x_test)
        run.maps_test[f"informer_{m}"] = maps_test
        run.scores_val[f"informer_{m}"] = mon.score(maps=maps_val)
        run.scores_test[f"informer_{m}"] = mon.score(maps=maps_test)
        run.monitors[f"informer_{m}"] = mon
        run.seconds[f"informer_{m}"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    run.monitors["entropy"] = EntropyMonitor(**settings)
    run.scores_val["entropy"] = run.monitors["entropy"].score(logits=z_val)
    run.scores_test["entropy"] = run.monitors["entropy"].score(logits=z_test)
    run.seconds["entropy"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    tta = TTAMonitor(n_copies=tta_copies, seed=seed, batch_size=8 * batch_size, **settings)
    run.monitors["tta"] = tta
    run.scores_val["tta"] = tta.score(model, x_val)
    run.scores_test["tta"] = tta.score(model, x_test)
    run.seconds["tta"] = time.perf_counter() - t0
    run.after_val["no_qc"], run.after_test["no_qc"] = p_val, p_test
    for name, mon in run.monitors.items():
        mon.fit(run.y_val, p_val, scores=run.scores_val[name])
        run.flags_test[name] = mon.flag(scores=run.scores_test[name])
        run.after_val[name] = mon.apply(p_val, mon.flag(scores=run.scores_val[name]), y_true=run.y_val)
        run.after_test[name] = mon.apply(p_test, run.flags_test[name], y_true=run.y_test)
    return run


def table1_vs_paper(ours: pd.DataFrame, *, value: str = "f1") -> pd.DataFrame:
    """Paper 002's Table 1 beside ours: rows method, columns (class, "ours"/"paper") in the paper's class order.

    ``ours`` is long: method, class (incl. "mean"), and ``value``.
    """
    classes, published = paper_classes(), paper_table1()
    order = [c for c in classes if c in set(ours["class"])] + ["mean"]
    rows = []
    for method, sub in ours.groupby("method", sort=False):
        vals = sub.set_index("class")[value]
        row = {"method": method_label(method)}
        for c in order:
            label = classes.get(c, "F̄1" if c == "mean" else c)
            row[(label, "ours")] = float(vals.get(c, np.nan))
            row[(label, "paper")] = published.get(method, {}).get(c, np.nan)
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("method")
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return frame


def flags_vs_localisation(maps: torch.Tensor, masks, y_true, flags: np.ndarray, pred: np.ndarray,
                          class_names: Sequence[str], *, hit: float | None = None) -> pd.DataFrame:
    """Do INFORMER's flags fall on predictions whose class map misses the finding? (phantoms only: exact masks)

    For every test image × class whose finding is present (and its mask non-empty), the energy pointing
    game of the class map (the share of its absolute relevance inside the finding's mask: absolute, because
    an LRP map takes the sign of the explained logit) and whether it "hits": by default, whether that share
    beats a uniform map's, i.e. the mask's share of the image (``chance``); or whether it is ≥ ``hit``.
    One row per image × class: image, class, energy, chance, hit, flagged, correct.
    """
    from ...metrics import energy_pointing_game

    masks = torch.as_tensor(np.asarray(masks))
    rows = []
    for c, cls in enumerate(class_names):
        present = np.flatnonzero((np.asarray(y_true)[:, c] == 1) & (masks[:, c].flatten(1).any(1).numpy()))
        if len(present) == 0:
            continue
        a = maps[present, c]
        energy = energy_pointing_game(a, masks[present, c:c + 1], sign="absolute").numpy()
        chance = masks[present, c].flatten(1).double().mean(1).numpy()
        for i, e, ch in zip(present, energy, chance, strict=True):
            rows.append({"image": int(i), "class": cls, "energy": float(e), "chance": float(ch),
                         "hit": bool(e > (ch if hit is None else hit)), "flagged": bool(flags[i, c]),
                         "correct": bool(pred[i, c] == 1)})
    return pd.DataFrame(rows, columns=["image", "class", "energy", "chance", "hit", "flagged", "correct"])




# --------------------------------------------------------------------------- the notebook's stages
def load_splits(run) -> dict:
    """Train / validation / test sets: the phantom from the seed (``n_images``, ``difficulty``, ``label_noise``), or
    CheXpert from ``data_root`` with ``n_images`` capping the images decoded (a seeded sample of each split)."""
    from ...data import load

    p = run.params
    source = (dict(n=p["n_images"], difficulty=p["difficulty"], label_noise=p["label_noise"])
              if p["data_root"] is None else dict(data_root=p["data_root"], n=p["n_images"]))
    # a phantom is generated once for the three splits (``load`` keeps the last one it drew)
    return {s: load(p["dataset"], s, image_size=p["image_size"], seed=run.seed, **source)
            for s in ("train", "val", "test")}


def prevalence(splits: dict) -> pd.DataFrame:
    """Share of positive labels per finding and split, and the split sizes (row "images")."""
    names = list(splits["test"].class_names)
    table = pd.DataFrame({s: d.labels.mean(0) for s, d in splits.items()}, index=names)
    table.loc["images"] = [len(d) for d in splits.values()]
    return table


@dataclass
class Model:
    """The inspected classifier: its fit, the Youden thresholds on validation, and its performance."""

    fit: Any
    model: Any
    source: str
    thresholds: np.ndarray
    performance: pd.DataFrame
    mean_auc: dict

    def performance_wide(self) -> pd.DataFrame:
        perf = self.performance
        return (perf[perf["metric"].isin(["roc_auc", "f1", "sensitivity", "specificity", "threshold"])]
                .pivot_table(index=["split", "class"], columns="metric", values="value", sort=False))


def train_model(run, splits: dict) -> tuple[Model, dict]:
    """Train (or load from the cache) the multi-label classifier as paper 002 does (Adam, the last epoch), pick each
    finding's threshold by Youden's index on validation, and evaluate on validation and test.

    Returns the :class:`Model` and the validation/test tensors (``x_val, y_val, x_test, y_test``) on the device.
    """
    from ...train import TrainConfig, evaluate_logits, predict_logits, train_cached, youden_thresholds

    p, dev = run.params, run.device
    val, test = splits["val"], splits["test"]
    names = list(test.class_names)
    config = TrainConfig(epochs=p["epochs"], batch_size=p["batch_size"], optimizer="adam", lr=p["lr"],
                         task="multi_label", select="last", augment=p["augment"], seed=run.seed, device=p["device"])
    fit = train_cached(p["arch"], splits["train"].images.shape[1], len(names), splits["train"], val, config,
                       weights=p["weights"])
    model = fit.model.to(dev).eval()
    run.timings["training"] = fit.seconds
    x_val, y_val = val.tensors()
    x_test, y_test = test.tensors()
    x_val, x_test = x_val.to(dev), x_test.to(dev)
    prob_val = torch.sigmoid(predict_logits(model, x_val)).numpy()
    thresholds = youden_thresholds(y_val.numpy(), prob_val)
    thresholds = np.where(np.isfinite(thresholds), thresholds, 0.5)  # a finding absent from validation: 0.5
    source = "trained from scratch" if p["weights"] is None else f"fine-tuned from {Path(p['weights']).name}"
    perf = {split: evaluate_logits(y, predict_logits(model, x), task="multi_label", thresholds=thresholds,
                                   class_names=names)
            for split, x, y in (("validation", x_val, y_val), ("test", x_test, y_test))}
    table = pd.concat([q.assign(split=s) for s, q in perf.items()])
    mean_auc = {s: float(q.set_index(["metric", "class"]).loc[("roc_auc", "macro"), "value"]) for s, q in perf.items()}
    tensors = dict(x_val=x_val, y_val=y_val, x_test=x_test, y_test=y_test)
    return Model(fit, model, source, thresholds, table, mean_auc), tensors


def monitor_order(methods: Sequence[str]) -> list[str]:
    """The rows of every table: no QC, each INFORMER variant, predictive entropy, TTA."""
    return ["no_qc", *[f"informer_{m}" for m in methods], "entropy", "tta"]


@dataclass
class QCTables:
    """F1 (and sensitivity, specificity) after quality control, on test and validation, per monitor."""

    order: list
    test: pd.DataFrame
    val: pd.DataFrame

    def means(self) -> pd.Series:
        return self.test[self.test["class"] == "mean"].set_index("method")["f1"]

    def wide(self, class_names: Sequence[str]) -> pd.DataFrame:
        t = self.test.pivot_table(index="method", columns="class", values="f1", sort=False)[[*class_names, "mean"]]
        t = t.loc[self.order]
        t.index = [method_label(m) for m in t.index]
        return t

    def sensitivity_specificity(self) -> pd.DataFrame:
        t = self.test[self.test["class"] != "mean"].pivot_table(index="method", columns="class",
                                                                values=["sensitivity", "specificity"], sort=False)
        t = t.loc[self.order]
        t.index = [method_label(m) for m in t.index]
        return t

    def validation_never_drops(self) -> bool:
        """Whether every monitor's validation F1 is at least the unmonitored one in every finding (it is by
        construction: "flag nothing" is on the threshold grid)."""
        v = self.val[self.val["class"] != "mean"]
        base = v[v["method"] == "no_qc"]["f1"].to_numpy()
        return all((v[v["method"] == m]["f1"].to_numpy() + 1e-12 >= base).all() for m in self.order[1:])


def qc_tables(run_: QCRun, methods: Sequence[str]) -> QCTables:
    """:func:`xaikit.qc.qc_metrics` of every monitor's corrected predictions, on test and on validation."""
    from ...qc import qc_metrics

    order = monitor_order(methods)
    test = pd.concat([qc_metrics(run_.y_test, run_.after_test[m], class_names=run_.class_names).assign(method=m)
                      for m in order], ignore_index=True)
    val = pd.concat([qc_metrics(run_.y_val, run_.after_val[m], class_names=run_.class_names).assign(method=m)
                     for m in order], ignore_index=True)
    return QCTables(order, test, val)


def table1_long(table1: pd.DataFrame) -> pd.DataFrame:
    """:func:`table1_vs_paper`'s wide table as a tidy frame ``method, class, source, f1``."""
    return table1.reset_index().melt(id_vars=[("method", "")]).set_axis(["method", "class", "source", "f1"], axis=1)


def localisation_check(run_: QCRun, test, methods: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`flags_vs_localisation` for every INFORMER variant (phantoms: exact masks), and its summary per method
    and flag: count, hit rate, mean energy, chance, share correct. Empty frames without masks."""
    columns = ["image", "class", "energy", "chance", "hit", "flagged", "correct", "method"]
    rows = []
    if bool(test.masks.any()):
        for m in methods:
            name = f"informer_{m}"
            rows.append(flags_vs_localisation(run_.maps_test[name], test.masks, run_.y_test, run_.flags_test[name],
                                              run_.pred_test, run_.class_names).assign(method=name))
    loc = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)
    if not len(loc):
        return loc, pd.DataFrame()
    summary = (loc.groupby(["method", "flagged"])
               .agg(n=("hit", "size"), hit_rate=("hit", "mean"), energy=("energy", "mean"),
                    chance=("chance", "mean"), correct=("correct", "mean")).reset_index())
    summary["method"] = summary["method"].map(method_label)
    return loc, summary


@dataclass
class ErrorDetection:
    """Each monitor's reliability bins (the AUROCs are :class:`Evaluation`'s) and the base error rate."""

    reliability: pd.DataFrame
    base_rate: float


def error_detection_tables(run_: QCRun, order: Sequence[str]) -> ErrorDetection:
    """Per monitor: its score oriented by the direction its rationale declares (larger = more suspicious:
    distinctiveness low, entropy high, TTA spread high; ``xaikit.qc.DECLARED_DIRECTIONS``), the test
    predictions of all findings rank-normalised within each finding and pooled, cut into five equal-count bins,
    and each bin's share of wrong predictions (the reliability diagram). Never oriented by the F1-chosen
    thresholds' directions: those maximise F1 after flipping, not error detection."""
    from ...qc import declared_direction, error_detection

    bin_rows = []
    wrong = run_.pred_test != run_.y_test
    for name in order[1:]:
        sign = -1.0 if declared_direction(name) == "below" else 1.0
        s = sign * run_.scores_test[name]
        ranks = np.argsort(np.argsort(s, axis=0, kind="stable"), axis=0, kind="stable") / max(len(s) - 1, 1)
        _, pooled_bins = error_detection(ranks.reshape(-1, 1), run_.y_test.reshape(-1, 1),
                                         run_.pred_test.reshape(-1, 1), n_bins=5)
        bin_rows.append(pooled_bins.assign(method=name))
    return ErrorDetection(pd.concat(bin_rows, ignore_index=True), float(wrong.mean()))


def replication_values(folder) -> dict[str, float]:
    """The headline quantities of a finished run (its folder): the classifier's macro test AUC, each monitor's mean
    test F1 after quality control and its mean per-finding error-detection AUROC (declared direction)."""
    import json

    folder = Path(folder)
    m = json.loads((folder / "manifest.json").read_text())
    out = {"classifier macro AUC (test)": float(m["mean_auc"]["test"])}
    out.update({f"mean F1 after QC, {method_label(k)}": float(v) for k, v in m["mean_f1"].items()})
    auc = pd.read_csv(folder / "error_detection_auroc.csv")
    mean = auc[(auc["class"] == "mean") & (auc["direction_source"] == "declared")]
    out.update({f"error-detection AUROC (mean over findings, declared direction), {method_label(k)}": float(v)
                for k, v in zip(mean["method"], mean["auroc"], strict=True)})
    return out


# --------------------------------------------------------------------------- an evaluation a reviewer accepts
@dataclass
class Evaluation:
    """Error detection with declared and learned directions, references, random flags at each monitor's rate,
    and paired bootstrap CIs of the F1 differences — the chapter's verdicts come from these."""

    detection: pd.DataFrame
    references: pd.DataFrame
    vs_random: pd.DataFrame
    paired: pd.DataFrame
    per_image: pd.DataFrame

    def labelled(self, frame: pd.DataFrame, cls: str = "mean") -> pd.DataFrame:
        """The rows of ``frame`` for class ``cls``, methods by their display names, indexed by method."""
        out = frame[frame["class"] == cls].copy()
        for col in ("method", "baseline"):
            if col in out:
                out[col] = out[col].map(method_label)
        return out.set_index([c for c in ("method", "baseline") if c in out])

    def detection_wide(self) -> pd.DataFrame:
        d = self.detection.assign(cell=lambda f: f["auroc"].map("{:.3f}".format) + " [" + f["low"].map(
            "{:.2f}".format) + ", " + f["high"].map("{:.2f}".format) + "]")
        return d.pivot_table(index=["method", "direction_source"], columns="class", values="cell", aggfunc="first",
                             sort=False).rename(index=method_label, level=0)


def evaluate_monitors(run_: QCRun, order: Sequence[str], *, action: str, n_boot: int, seed: int) -> Evaluation:
    """Per monitor: :func:`xaikit.qc.error_detection_auroc` with the direction each score's rationale declares and
    with the direction learned on validation by AUROC; :func:`xaikit.qc.reference_table` (no QC, flip all, the
    oracle, random flags at each monitor's rate); :func:`xaikit.qc.beats_random`; and
    :func:`xaikit.qc.paired_bootstrap_f1` of every INFORMER variant against entropy, TTA and no QC, over images;
    and the per-image scores and error indicators the AUROCs come from (``per_image``)."""
    from ...qc import beats_random, error_detection_auroc, paired_bootstrap_f1, reference_predictions, reference_table

    monitors = list(order[1:])
    frames = []
    for m in monitors:
        common = dict(class_names=run_.class_names, n_boot=n_boot, seed=seed, score=m)
        frames.append(error_detection_auroc(run_.scores_test[m], run_.y_test, run_.pred_test, direction="declared",
                                            **common).assign(method=m))
        frames.append(error_detection_auroc(run_.scores_test[m], run_.y_test, run_.pred_test, direction="learned",
                                            scores_val=run_.scores_val[m], y_val=run_.y_val, pred_val=run_.pred_val,
                                            **common).assign(method=m))
    detection = pd.concat(frames, ignore_index=True)
    refs = reference_table(run_.y_test, run_.pred_test, {m: run_.flags_test[m] for m in monitors}, action=action,
                           class_names=run_.class_names)
    vs_random = pd.concat([beats_random(run_.y_test, run_.pred_test, run_.flags_test[m], action=action,
                                        class_names=run_.class_names, seed=seed).assign(method=m)
                           for m in monitors], ignore_index=True)
    predictions = {**{m: run_.after_test[m] for m in order}, **reference_predictions(run_.y_test, run_.pred_test)}
    informers = [m for m in monitors if m.startswith("informer_")]
    paired = paired_bootstrap_f1(run_.y_test, predictions, informers, ["entropy", "tta", "no_qc"],
                                 n_boot=max(n_boot, 200), seed=seed, class_names=run_.class_names)
    n, k = run_.y_test.shape
    per_image = pd.concat([pd.DataFrame({"method": m, "image": np.repeat(np.arange(n), k),
                                         "class": np.tile(run_.class_names, n),
                                         "score": run_.scores_test[m].reshape(-1),
                                         "wrong": (run_.pred_test != run_.y_test).reshape(-1).astype(int)})
                           for m in monitors], ignore_index=True)
    return Evaluation(detection, refs, vs_random, paired, per_image)


def classifier_auc(performance: pd.DataFrame, class_names: Sequence[str]) -> dict[str, float]:
    """Test AUC per finding from the classifier's performance table."""
    t = performance[(performance["split"] == "test") & (performance["metric"] == "roc_auc")]
    t = t[t["class"].isin(list(class_names))]
    return dict(zip(t["class"], t["value"].astype(float), strict=True))
