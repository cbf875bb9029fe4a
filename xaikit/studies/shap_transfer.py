"""Study 3 helpers: SHAP for debugging a classifier and for testing cross-domain transfer (paper 004).

Tsekanovskiy (2024). Using SHAP for deep convolutional neural network debugging and transferability
(paper 004). A brain-tumour MRI classifier (glioma / meningioma / no tumour / pituitary) is applied,
without retraining, to lung CT (normal / benign / malignant), and SHAP's Partition explainer with a
blur masker shows where its evidence lies. The published numbers below are copied from the paper
and its public notebook (``shared/reference/seed-studies.md`` §3 and §5.3); brain classes are named
as in this package (``"no_tumour"`` for the paper's "no tumor").

What this module adds to the notebook: the paper's tables as constants, per-image class-probability
tables in the paper's layout, the distribution of predicted brain classes per foreign class, image
regions (organ, lesion, body, outside the body, shortcut) and the share of attribution mass in each
as a tidy frame, ours-vs-paper tables, and the study's figures.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._validation import check_float, check_int, check_option

if TYPE_CHECKING:
    pass

__all__ = [
    "BRAIN_CLASSES", "LUNG_CLASSES", "PAPER004_METRICS", "PAPER004_NOTEBOOK_TEST", "PAPER004_PER_CLASS",
    "PAPER004_TABLE1", "PAPER004_TABLE2", "PAPER004_XLSX_COUNTS", "REGIONS",
    "check_domains", "probability_table", "pick_per_class", "predicted_distribution", "distribution_vs_paper",
    "body_mask", "image_regions", "mass_fractions", "metrics_vs_paper", "per_class_vs_paper",
    "shortcut_accuracy", "shap_grid", "distribution_figure", "mass_figure", "confusion_figure",
    "shortcut_figure",
]

BRAIN_CLASSES = ("glioma", "meningioma", "no_tumour", "pituitary")
LUNG_CLASSES = ("normal", "benign", "malignant")
REAL_DOMAINS = ("brain-tumor-mri", "iq-oth-nccd")

#: The paper's metrics table (Keras ``model.evaluate`` progress-bar values: running averages over
#: batches, not exact whole-set metrics; the paper's own note says so), keyed by split.
PAPER004_METRICS: dict[str, dict[str, float]] = {
    "train": {"loss": 0.0341, "accuracy": 0.9996, "precision": 0.9996, "recall": 0.9992, "auc": 1.0000},
    "val": {"loss": 0.0699, "accuracy": 0.9926, "precision": 0.9933, "recall": 0.9926, "auc": 0.9979},
    "test": {"loss": 0.0621, "accuracy": 0.9900, "precision": 0.9918, "recall": 0.9900, "auc": 0.9982},
}

#: The public notebook's final run on the official ``Testing/`` folder (1,311 images): Keras
#: ``evaluate`` (loss ... auc) and scikit-learn (mcc, cohen_kappa, log_loss, balanced_accuracy).
#: Keras precision/recall are micro averages (they equal accuracy for one-hot top-1 predictions up
#: to thresholding at 0.5); its AUC is the micro-averaged one-vs-rest AUC.
PAPER004_NOTEBOOK_TEST: dict[str, float] = {
    "loss": 0.0571, "accuracy": 0.99237, "precision": 0.99313, "recall": 0.99237, "auc": 0.99893,
    "mcc": 0.98977, "cohen_kappa": 0.98977, "log_loss": 0.02477, "balanced_accuracy": 0.99236,
}

#: The notebook's per-class test precision, recall and support.
PAPER004_PER_CLASS: dict[str, dict[str, float]] = {
    "glioma": {"precision": 0.9867, "recall": 0.9900, "n": 300},
    "meningioma": {"precision": 0.9902, "recall": 0.9902, "n": 306},
    "no_tumour": {"precision": 1.0000, "recall": 0.9926, "n": 405},
    "pituitary": {"precision": 0.9901, "recall": 0.9967, "n": 300},
}

_T1 = [  # actual, glioma, meningioma, no tumour, pituitary, combined tumour, highest
    ("normal", 0.001618, 0.000207, 0.998106, 0.000068, 0.001894, "no_tumour"),
    ("normal", 0.009308, 0.005801, 0.982685, 0.002206, 0.017315, "no_tumour"),
    ("normal", 0.002369, 0.002954, 0.994548, 0.000129, 0.005452, "no_tumour"),
    ("normal", 0.088900, 0.058281, 0.817691, 0.035128, 0.182309, "no_tumour"),
    ("normal", 0.054912, 0.272921, 0.566007, 0.106160, 0.433993, "no_tumour"),
    ("benign", 0.029764, 0.669881, 0.179649, 0.120705, 0.820351, "meningioma"),
    ("benign", 0.002314, 0.773614, 0.223873, 0.000199, 0.776128, "meningioma"),
    ("benign", 0.002289, 0.744679, 0.252881, 0.000151, 0.747119, "meningioma"),
    ("benign", 0.009986, 0.730734, 0.256931, 0.002349, 0.743069, "meningioma"),
    ("benign", 0.009862, 0.663708, 0.321695, 0.004735, 0.678305, "meningioma"),
    ("malignant", 0.000002, 0.999935, 0.000062, 0.000001, 0.999938, "meningioma"),
    ("malignant", 0.000002, 0.999935, 0.000063, 0.000001, 0.999937, "meningioma"),
    ("malignant", 0.000006, 0.999894, 0.000099, 0.000001, 0.999901, "meningioma"),
    ("malignant", 0.000003, 0.999884, 0.000110, 0.000003, 0.999890, "meningioma"),
    ("malignant", 0.000193, 0.999528, 0.000223, 0.000056, 0.999777, "meningioma"),
]
_T2 = [
    ("benign", 0.002886, 0.001316, 0.994657, 0.001140, 0.005343, "no_tumour"),
    ("benign", 0.000345, 0.004903, 0.994573, 0.000179, 0.005427, "no_tumour"),
    ("benign", 0.004296, 0.074044, 0.872770, 0.048890, 0.127230, "no_tumour"),
    ("benign", 0.062278, 0.001284, 0.936270, 0.000168, 0.063730, "no_tumour"),
    ("benign", 0.000498, 0.002880, 0.996582, 0.000039, 0.003418, "no_tumour"),
    ("malignant", 0.269130, 0.279730, 0.342372, 0.108768, 0.657628, "no_tumour"),
    ("malignant", 0.030440, 0.665805, 0.296193, 0.007562, 0.703807, "meningioma"),
    ("malignant", 0.000327, 0.936217, 0.063391, 0.000065, 0.936609, "meningioma"),
    ("malignant", 0.010783, 0.093766, 0.894730, 0.000722, 0.105271, "no_tumour"),
    ("malignant", 0.008686, 0.813801, 0.176570, 0.000943, 0.823430, "meningioma"),
]
_PROB_COLUMNS = ["actual", *(f"p_{c}" for c in BRAIN_CLASSES), "p_tumour", "predicted"]

#: Table 1 ("top probabilities for each class"): 15 hand-picked IQ-OTH/NCCD images, 5 per class.
PAPER004_TABLE1 = pd.DataFrame(_T1, columns=_PROB_COLUMNS)
#: Table 2 ("benign and malignant only, less promising results"): 10 more hand-picked images.
PAPER004_TABLE2 = pd.DataFrame(_T2, columns=_PROB_COLUMNS)

#: Top-1 brain class of every IQ-OTH/NCCD image in the repository's xlsx files, keyed by
#: (lung class, brain class). These came from a model *before* the final one (committed two days
#: earlier); glioma and pituitary were never top-1.
PAPER004_XLSX_COUNTS: dict[tuple[str, str], int] = {
    ("normal", "no_tumour"): 355, ("normal", "meningioma"): 61,
    ("benign", "no_tumour"): 98, ("benign", "meningioma"): 22,
    ("malignant", "no_tumour"): 345, ("malignant", "meningioma"): 216,
}

#: Regions scored by :func:`mass_fractions` (see :func:`image_regions`).
REGIONS = ("organ", "lesion", "body_not_organ", "outside_body", "shortcut")


# --------------------------------------------------------------------------- parameters
def check_domains(dataset: str, foreign_dataset: str, data_root: str | None) -> str:
    """Check that the training and foreign domains are both phantoms or both real; return "phantom" or "real".

    Both real datasets are read from one ``data_root`` that holds both archives (Brain Tumor MRI's
    ``Training/``/``Testing/`` or its ``brain-tumor-mri-dataset/`` folder, and ``The IQ-OTHNCCD
    lung cancer dataset/``; see data/README.md). Mixing a phantom with a real dataset is refused: a
    phantom-trained model on real CT (or the reverse) answers a different question.

    Examples
    --------
    >>> check_domains("brain_mri", "lung_ct", None)
    'phantom'
    >>> check_domains("brain_mri", "iq-oth-nccd", None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: dataset 'brain_mri' is a phantom but foreign_dataset 'iq-oth-nccd' is real; use both phantoms ...
    """
    ctx = "03_shap_transfer"
    check_option("dataset", dataset, ("brain_mri", "brain-tumor-mri"), context=ctx)
    check_option("foreign_dataset", foreign_dataset, ("lung_ct", "iq-oth-nccd"), context=ctx)
    real = (dataset in REAL_DOMAINS, foreign_dataset in REAL_DOMAINS)
    if real[0] != real[1]:
        kind = ["real" if r else "a phantom" for r in real]
        raise ValueError(f"dataset {dataset!r} is {kind[0]} but foreign_dataset {foreign_dataset!r} is "
                         f"{kind[1]}; use both phantoms "
                         f"(brain_mri, lung_ct) or both real datasets (brain-tumor-mri, iq-oth-nccd) with "
                         f"data_root holding both")
    if real[0] and not data_root:
        raise ValueError("dataset and foreign_dataset are real datasets and need data_root: one folder holding "
                         "both Brain Tumor MRI and IQ-OTH/NCCD (data/README.md gives the layouts)")
    if not real[0] and data_root:
        raise ValueError(f"data_root is set ({data_root!r}) but both domains are phantoms, which read nothing "
                         f"from disk; choose dataset='brain-tumor-mri' and foreign_dataset='iq-oth-nccd' or "
                         f"leave data_root unset")
    return "real" if real[0] else "phantom"


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


def pick_per_class(labels, n_per_class: int, *, seed: int = 0, among: np.ndarray | None = None) -> np.ndarray:
    """Indices of up to ``n_per_class`` images of each class, drawn without replacement (seeded), class by class.

    ``among`` restricts the draw to a boolean mask of eligible images. The result is grouped by
    class (in label order), each group sorted.

    Examples
    --------
    >>> pick_per_class([0, 1, 0, 1, 2], 1, seed=0).tolist()
    [2, 3, 4]
    """
    y = np.asarray(labels)
    check_int("n_per_class", n_per_class, min_value=1, context="pick_per_class")
    ok = np.ones(len(y), bool) if among is None else np.asarray(among, bool)
    if ok.shape != y.shape:
        raise ValueError(f"among must be a boolean mask of shape {y.shape}, got {ok.shape}")
    rng = np.random.default_rng(seed)
    out = []
    for c in np.unique(y):
        idx = np.flatnonzero((y == c) & ok)
        out.append(np.sort(rng.choice(idx, size=min(n_per_class, len(idx)), replace=False)))
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, np.int64)


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
    paper_n = {a: sum(v for (aa, _), v in PAPER004_XLSX_COUNTS.items() if aa == a) for a in LUNG_CLASSES}
    out = dist[["actual", "predicted", "share", "n"]].rename(columns={"share": "ours", "n": "n_ours"}).copy()
    out["paper_xlsx"] = [PAPER004_XLSX_COUNTS.get((a, k), 0) / paper_n[a] if a in paper_n else np.nan
                         for a, k in zip(out["actual"], out["predicted"], strict=True)]
    out["n_paper"] = [paper_n.get(a, 0) for a in out["actual"]]
    return out[["actual", "predicted", "ours", "paper_xlsx", "n_ours", "n_paper"]].reset_index(drop=True)


# --------------------------------------------------------------------------- regions and mass
def body_mask(images, *, threshold: float = 0.12, smooth: int = 3, organ=None) -> np.ndarray:
    """The body (head, chest) of each image: the largest bright component with its holes filled.

    Pixels of a ``smooth`` × ``smooth`` box-filtered image above ``threshold`` are foreground; the
    largest connected component is kept (a corner marker or a text tag outside the body is dropped)
    and its holes filled (dark lungs, ventricles and a dark skull are inside the body). ``organ``
    masks, if given, are added so that the organ always lies inside the body.

    Parameters
    ----------
    images : (N, C, H, W) array or tensor in [0, 1] (channels averaged).
    threshold : foreground intensity, in (0, 1).
    smooth : side of the box filter (1 = none), to keep background noise out.
    organ : optional (N, 1, H, W) bool organ masks.

    Returns
    -------
    ndarray, bool, (N, 1, H, W).

    Examples
    --------
    >>> x = np.zeros((1, 1, 9, 9), np.float32); x[0, 0, 2:7, 2:7] = 0.8; x[0, 0, 4, 4] = 0.0
    >>> int(body_mask(x, smooth=1).sum())
    25
    """
    from scipy import ndimage

    check_float("threshold", threshold, min_value=0.0, max_value=1.0, context="body_mask")
    check_int("smooth", smooth, min_value=1, context="body_mask")
    x = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {x.shape}")
    out = np.zeros((x.shape[0], 1, *x.shape[2:]), bool)
    for i in range(len(x)):
        img = x[i].mean(0)
        if smooth > 1:
            img = ndimage.uniform_filter(img, smooth, mode="nearest")
        fg = img > threshold
        lab, n = ndimage.label(fg)
        if n:
            sizes = np.bincount(lab.ravel())[1:]
            fg = lab == (1 + int(sizes.argmax()))
        if organ is not None:
            fg = fg | np.asarray(organ[i, 0], bool)
        out[i, 0] = ndimage.binary_fill_holes(fg)
    return out


def image_regions(images, *, organ=None, lesion=None, shortcut=None, body=None) -> dict[str, np.ndarray]:
    """The regions :func:`mass_fractions` scores, as (N, 1, H, W) bool masks.

    ``organ`` (brain, lungs), ``lesion`` (tumour, nodule), ``body`` (default :func:`body_mask`),
    ``body_not_organ`` = body minus organ, ``outside_body`` = not body, and ``shortcut`` (the
    spurious marker) where given. Missing organ/lesion/shortcut masks (real data) are left out.
    ``organ``, ``body_not_organ`` and ``outside_body`` partition the image.

    Examples
    --------
    >>> x = np.zeros((1, 1, 8, 8), np.float32); x[0, 0, 2:6, 2:6] = 0.9
    >>> org = np.zeros((1, 1, 8, 8), bool); org[0, 0, 3:5, 3:5] = True
    >>> regions = image_regions(x, organ=org, body=body_mask(x, smooth=1))
    >>> {k: int(v.sum()) for k, v in regions.items()}
    {'organ': 4, 'body_not_organ': 12, 'outside_body': 48}
    """
    x = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images)
    shape = (x.shape[0], 1, *x.shape[2:])

    def check(name, m):
        if m is None:
            return None
        m = np.asarray(m.detach().cpu() if hasattr(m, "detach") else m)
        if m.shape != shape:
            raise ValueError(f"{name} masks must have shape {shape} to match images {x.shape}, got {m.shape}")
        return m.astype(bool)

    organ, lesion, shortcut = check("organ", organ), check("lesion", lesion), check("shortcut", shortcut)
    body = check("body", body) if body is not None else body_mask(x, organ=organ)
    if organ is not None:
        body = body | organ
    regions: dict[str, np.ndarray] = {}
    if organ is not None:
        regions["organ"] = organ
    if lesion is not None:
        regions["lesion"] = lesion
    regions["body_not_organ"] = body & ~organ if organ is not None else body
    regions["outside_body"] = ~body
    if shortcut is not None:
        regions["shortcut"] = shortcut
    return regions


def mass_fractions(attributions, regions: Mapping[str, object], *, sign: str = "absolute",
                   channel_reduce: str = "sum", index: Sequence | None = None) -> pd.DataFrame:
    """Share of each map's attribution mass inside each region, as a tidy frame.

    For image ``i`` and region ``R``: ``fraction = sum_{p in R} m_i(p) / sum_p m_i(p)`` with
    ``m = |a|`` (``sign="absolute"``, where the evidence for *and* against lies) or ``m = max(a, 0)``
    (``"positive"``, the evidence for the explained class), after summing channels. This is
    :func:`xaikit.metrics.relevance_mass_accuracy` with that sign, once per region.

    Parameters
    ----------
    attributions : (N, C, H, W) or (N, H, W), finite.
    regions : name → (N, 1, H, W) bool masks (e.g. from :func:`image_regions`).
    sign : "absolute" or "positive".
    channel_reduce : "sum" or "mean" over channels before ``sign``.
    index : image identifiers for the ``image`` column (default 0..N-1).

    Returns
    -------
    DataFrame ``image, region, fraction, area, reason``: ``area`` is the region's share of the image
    (what a map of i.i.d. values would put there on average); ``fraction`` is NaN where undefined,
    with ``reason`` saying why ("empty mask ..." for an image without that region, e.g. the lesion of
    a no-tumour image; "zero total relevance ..." / "no positive relevance ..." for a map with no mass).

    Examples
    --------
    >>> a = np.zeros((1, 1, 2, 2)); a[0, 0, 0, 0] = 3.0; a[0, 0, 1, 1] = -1.0
    >>> m = np.zeros((1, 1, 2, 2), bool); m[0, 0, 0] = True
    >>> mass_fractions(a, {"top": m, "bottom": ~m})[["region", "fraction", "area"]].to_dict("records")
    [{'region': 'top', 'fraction': 0.75, 'area': 0.5}, {'region': 'bottom', 'fraction': 0.25, 'area': 0.5}]
    """
    import torch

    from ..metrics import relevance_mass_accuracy

    check_option("sign", sign, ("absolute", "positive"), context="mass_fractions")
    if not regions:
        raise ValueError("regions of mass_fractions must name at least one mask")
    a = torch.as_tensor(np.asarray(attributions.detach().cpu() if hasattr(attributions, "detach") else attributions))
    if a.ndim == 3:
        a = a.unsqueeze(1)
    if a.ndim != 4:
        raise ValueError(f"attributions of mass_fractions must have shape (N, C, H, W) or (N, H, W), "
                         f"got {tuple(a.shape)}")
    a = a.to(torch.float64)
    n = a.shape[0]
    idx = np.arange(n) if index is None else np.asarray(index)
    if len(idx) != n:
        raise ValueError(f"index has {len(idx)} entries for {n} maps")
    frames = []
    for name, mask in regions.items():
        m = torch.as_tensor(np.asarray(mask.detach().cpu() if hasattr(mask, "detach") else mask))
        res = relevance_mass_accuracy(a, m, sign=sign, channel_reduce=channel_reduce, return_reasons=True)
        area = m.reshape(n, -1).double().mean(1).numpy() if m.shape[0] == n else np.full(n, np.nan)
        frames.append(pd.DataFrame({"image": idx, "region": name, "fraction": res.scores.numpy(),
                                    "area": area, "reason": res.reasons()}))
    return pd.concat(frames, ignore_index=True)


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
    check_option("split", split, tuple(PAPER004_METRICS), context="metrics_vs_paper")
    ours = {"loss": _table_value(table, "loss"), "accuracy": _table_value(table, "accuracy"),
            "precision": _table_value(table, "precision", "macro"),
            "recall": _table_value(table, "sensitivity", "macro"), "auc": _table_value(table, "roc_auc", "macro"),
            "mcc": _table_value(table, "mcc"), "cohen_kappa": _table_value(table, "cohen_kappa"),
            "log_loss": _table_value(table, "log_loss"),
            "balanced_accuracy": _table_value(table, "balanced_accuracy")}
    paper = PAPER004_METRICS[split]
    rows = [{"metric": m, "ours": v, "paper_table": paper.get(m, np.nan),
             "paper_notebook": PAPER004_NOTEBOOK_TEST.get(m, np.nan) if split == "test" else np.nan}
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
    rows = []
    for c in class_names:
        paper = PAPER004_PER_CLASS.get(c, {})
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
    from ..train import evaluate_logits

    check_option("shortcut_class", shortcut_class, list(class_names), context="shortcut_accuracy")
    rows = []
    for (model, test_set), (y, logits) in results.items():
        t = evaluate_logits(y, logits, class_names=class_names)
        rows.append({"model": model, "test_set": test_set, "accuracy": _table_value(t, "accuracy"),
                     "balanced_accuracy": _table_value(t, "balanced_accuracy"),
                     f"recall_{shortcut_class}": _table_value(t, "sensitivity", shortcut_class),
                     "n": int(_table_value(t, "n"))})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- figures
def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def shap_grid(images, maps, classes, probs, class_names: Sequence[str], row_titles: Sequence[str], *,
              outlines=None, max_rows: int = 8):
    """Paper 004's SHAP plots as one grid: per row the image, then the SHAP map of each top-k class.

    ``maps`` (N, k, C, H, W) and ``classes`` (N, k) as :meth:`xaikit.explain.ShapPartition.top_k`
    returns them; ``probs`` (N, K). Red pushes the class's probability up, blue down (shap's
    convention), on one symmetric colour scale per row; ``outlines`` (N, 1, H, W) draws the lesion.

    Examples
    --------
    >>> maps = np.random.default_rng(0).normal(size=(2, 2, 1, 8, 8))
    >>> fig = shap_grid(np.zeros((2, 1, 8, 8)), maps, [[0, 1], [2, 0]], np.full((2, 4), 0.25), BRAIN_CLASSES,
    ...                 ["a", "b"])
    >>> len(fig.axes)
    6
    """
    import matplotlib.pyplot as plt

    images, maps, classes, probs = _np(images), _np(maps), _np(classes), _np(probs)
    n, k = min(len(images), max_rows), maps.shape[1]
    fig, axes = plt.subplots(n, k + 1, figsize=(1.9 * (k + 1), 1.95 * n), squeeze=False)
    for i in range(n):
        img = images[i].mean(0)
        lim = float(np.abs(maps[i]).max()) or 1.0
        axes[i, 0].imshow(img, cmap="gray", vmin=0, vmax=1)
        if outlines is not None and _np(outlines)[i].any():
            axes[i, 0].contour(_np(outlines)[i, 0], levels=[0.5], colors="yellow", linewidths=0.7)
        axes[i, 0].set_ylabel(row_titles[i], fontsize=7)
        for j in range(k):
            ax = axes[i, j + 1]
            ax.imshow(img, cmap="gray", vmin=0, vmax=1)
            ax.imshow(maps[i, j].sum(0), cmap="bwr", vmin=-lim, vmax=lim, alpha=0.65)
            c = int(classes[i, j])
            ax.set_title(f"{class_names[c]} {probs[i, c]:.2f}", fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


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


def confusion_figure(cm, class_names: Sequence[str]):
    """The confusion matrix (counts; rows true, columns predicted), as the paper's Fig. 11b.

    Examples
    --------
    >>> confusion_figure([[3, 1], [0, 4]], ["a", "b"]).axes[0].get_xlabel()
    'predicted'
    """
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
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


def shortcut_figure(images, maps: Mapping[str, object], shortcut_masks, titles: Sequence[str] | None = None, *,
                    max_images: int = 4):
    """Rows: images carrying the marker, then the absolute attribution map of each model × method, the marker outlined.

    Examples
    --------
    >>> sc = np.zeros((1, 1, 8, 8), bool); sc[0, 0, :2, -2:] = True
    >>> fig = shortcut_figure(np.zeros((1, 1, 8, 8)), {"SHAP": np.ones((1, 1, 8, 8))}, sc)
    >>> len(fig.axes)
    2
    """
    import matplotlib.pyplot as plt

    images, sc = _np(images), _np(shortcut_masks)
    n = min(len(images), max_images)
    fig, axes = plt.subplots(n, 1 + len(maps), figsize=(1.9 * (1 + len(maps)), 1.95 * n), squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(images[i].mean(0), cmap="gray", vmin=0, vmax=1)
        axes[i, 0].set_ylabel(titles[i] if titles is not None else f"#{i}", fontsize=7)
        for j, (name, m) in enumerate(maps.items()):
            a = np.abs(_np(m)[i].sum(0))
            ax = axes[i, j + 1]
            ax.imshow(a, cmap="magma", vmin=0, vmax=float(a.max()) or 1.0)
            ax.contour(sc[i, 0], levels=[0.5], colors="cyan", linewidths=0.7)
            if i == 0:
                ax.set_title(name, fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
