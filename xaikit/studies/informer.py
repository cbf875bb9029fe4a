"""Study-2 helpers (paper 002, INFORMER): the published numbers, the QC run, ours-vs-paper tables, figures.

The notebook ``02_informer_qc`` imports this module directly (``from xaikit.studies.informer import ...``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

__all__ = ["METHOD_LABELS", "PAPER002_BOOT_MEDIANS", "PAPER002_CLASSES", "PAPER002_MODEL", "PAPER002_TABLE1",
           "QCRun", "bootstrap_boxplot", "class_map_grid", "flags_vs_localisation", "method_label",
           "reliability_plot", "run_qc", "table1_vs_paper"]

#: Paper 002's column order and the matching ``chest_multilabel`` / CheXpert finding names.
PAPER002_CLASSES = {"atelectasis": "Atelectasis", "cardiomegaly": "Cardiomegaly", "consolidation": "Consolidation",
                    "edema": "Edema", "pleural_effusion": "P.Effusion"}
#: Table 1 of paper 002: F1 on the original 284-image CheXpert test set after flipping flagged predictions.
#: "mean" is the paper's printed F̄1 (for INFORMER it differs from the mean of its five values by 0.002).
PAPER002_TABLE1 = {
    "informer_input_x_gradient": {"atelectasis": 0.648, "cardiomegaly": 0.628, "consolidation": 0.240,
                                  "edema": 0.609, "pleural_effusion": 0.732, "mean": 0.569},
    "informer_lrp": {"atelectasis": 0.636, "cardiomegaly": 0.655, "consolidation": 0.230, "edema": 0.609,
                     "pleural_effusion": 0.732, "mean": 0.574},
    "entropy": {"atelectasis": 0.636, "cardiomegaly": 0.607, "consolidation": 0.231, "edema": 0.609,
                "pleural_effusion": 0.732, "mean": 0.563},
    "tta": {"atelectasis": 0.636, "cardiomegaly": 0.607, "consolidation": 0.230, "edema": 0.609,
            "pleural_effusion": 0.732, "mean": 0.563},
}
#: Medians of the mean F1 over the 30 bootstrapped test sets (paper 002, text of Fig. 3).
PAPER002_BOOT_MEDIANS = {"informer_input_x_gradient": 0.573, "informer_lrp": 0.572, "entropy": 0.564, "tta": 0.564}
#: The inspected model of paper 002.
PAPER002_MODEL = {"arch": "DenseNet-121 (ImageNet weights)", "image_size": 320, "epochs": 3, "batch_size": 16,
                  "lr": 1e-4, "val_auc": 0.806, "test_auc": 0.796, "n_val": 128, "n_test": 284}

METHOD_LABELS = {"no_qc": "No QC", "entropy": "Pred. Entropy", "tta": "TTA"}


def method_label(name: str) -> str:
    """Display name: "informer_lrp" → "INFORMER_lrp", "informer_input_x_gradient" → "INFORMER_ixg"."""
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

    from ..qc import EntropyMonitor, Informer, TTAMonitor
    from ..train import predict_logits

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
        rows = batch_size if m in ("input_x_gradient", "saliency") else batch_size * len(class_names)
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
    order = [c for c in PAPER002_CLASSES if c in set(ours["class"])] + ["mean"]
    rows = []
    for method, sub in ours.groupby("method", sort=False):
        vals = sub.set_index("class")[value]
        row = {"method": method_label(method)}
        for c in order:
            label = PAPER002_CLASSES.get(c, "F̄1" if c == "mean" else c)
            row[(label, "ours")] = float(vals.get(c, np.nan))
            row[(label, "paper")] = PAPER002_TABLE1.get(method, {}).get(c, np.nan)
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("method")
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return frame


def bootstrap_boxplot(boot: pd.DataFrame, tests: pd.DataFrame | None = None, *, ax=None):
    """Paper 002's Fig. 3: boxplot of the mean F1 over the classes per bootstrapped test set, per method.

    Baselines grey, INFORMER variants blue; stars give the paired t-test of each INFORMER variant against
    predictive entropy (``*`` p ≤ 0.05, ``**`` p ≤ 0.01, ``***`` p ≤ 0.001) with the direction of the
    difference ("higher"/"lower"); paper medians as dotted ticks where published.
    """
    import matplotlib.pyplot as plt

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
        if m in PAPER002_BOOT_MEDIANS:
            ax.plot([i - 0.3, i + 0.3], [PAPER002_BOOT_MEDIANS[m]] * 2, color="k", lw=1, ls=":")
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


def flags_vs_localisation(maps: torch.Tensor, masks, y_true, flags: np.ndarray, pred: np.ndarray,
                          class_names: Sequence[str], *, hit: float | None = None) -> pd.DataFrame:
    """Do INFORMER's flags fall on predictions whose class map misses the finding? (phantoms only: exact masks)

    For every test image × class whose finding is present (and its mask non-empty), the energy pointing
    game of the class map (the share of its absolute relevance inside the finding's mask: absolute, because
    an LRP map takes the sign of the explained logit) and whether it "hits": by default, whether that share
    beats a uniform map's, i.e. the mask's share of the image (``chance``); or whether it is ≥ ``hit``.
    One row per image × class: image, class, energy, chance, hit, flagged, correct.
    """
    from ..metrics import energy_pointing_game

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
    """Images (rows) × class maps (columns): each class's map with its finding's outline and its d_i."""
    import matplotlib.pyplot as plt

    images, masks, maps = np.asarray(images), np.asarray(masks), maps.detach().cpu().numpy()
    n, k = maps.shape[:2]
    fig, axes = plt.subplots(n, k + 1, figsize=(1.7 * (k + 1), 1.8 * n), squeeze=False)
    for r in range(n):
        axes[r, 0].imshow(images[r, 0], cmap="gray")
        axes[r, 0].set_ylabel(f"image {r}", fontsize=8)
        for c in range(k):
            a = maps[r, c].sum(0)
            lim = float(np.abs(a).max()) or 1.0
            ax = axes[r, c + 1]
            ax.imshow(a, cmap="bwr", vmin=-lim, vmax=lim)
            if masks[r, c].any():
                ax.contour(masks[r, c], levels=[0.5], colors="g", linewidths=0.8)
            ax.set_title(f"{class_names[c][:12]}\nd={d[r, c]:.2f}", fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
