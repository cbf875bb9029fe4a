"""Classification metrics from logits, in NumPy, as tidy tables; Youden thresholds for multi-label models.

Definitions follow scikit-learn (tests compare every number with it): one-vs-rest ROC-AUC from
the average-rank (Mann–Whitney) statistic; macro averages over all classes (F1, sensitivity,
specificity) except balanced accuracy, which averages recall over the classes present in the
labels; a 0/0 precision, recall or F1 is 0; an undefined AUC (one class absent) is NaN and is
left out of the macro mean.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from scipy.stats import rankdata

from .._validation import check_option
from ._predict import predict_logits

__all__ = ["confusion_matrix", "evaluate", "evaluate_logits", "roc_auc", "youden_thresholds"]


def _np(a) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def roc_auc(y_true, score) -> float:
    """Area under the ROC curve of binary labels and scores (ties count one half); NaN if a class is absent.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y = _np(y_true).astype(bool).ravel()
    s = _np(score).astype(np.float64).ravel()
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """``C[i, j]`` = number of samples of true class ``i`` predicted as ``j`` (as scikit-learn).

    Examples
    --------
    >>> confusion_matrix([0, 1, 1], [0, 0, 1], 2).tolist()
    [[1, 0], [1, 1]]
    """
    t, p = _np(y_true).astype(np.int64).ravel(), _np(y_pred).astype(np.int64).ravel()
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def youden_thresholds(y_true, scores) -> np.ndarray:
    """Per-class threshold maximising Youden's J = sensitivity + specificity − 1 (paper 002).

    ``y_true`` and ``scores`` are (N, K) (or (N,)); predictions are ``scores >= threshold``.
    Candidates are the distinct scores; among equal J the highest threshold wins (the first
    maximum along scikit-learn's ``roc_curve``). A class without positives or negatives in
    ``y_true`` gets NaN. Fit on the validation set, then apply to the test set.

    Examples
    --------
    >>> youden_thresholds([[0], [0], [1], [1]], [[0.1], [0.3], [0.4], [0.9]]).tolist()
    [0.4]
    """
    y, s = _np(y_true).astype(bool), _np(scores).astype(np.float64)
    y, s = (y[:, None], s[:, None]) if y.ndim == 1 else (y, s)
    out = np.full(y.shape[1], np.nan)
    for k in range(y.shape[1]):
        pos, neg = y[:, k].sum(), (~y[:, k]).sum()
        if pos == 0 or neg == 0:
            continue
        order = np.argsort(-s[:, k], kind="stable")
        sk, yk = s[order, k], y[order, k]
        last = np.r_[np.flatnonzero(np.diff(sk) != 0), len(sk) - 1]  # end of each run of equal scores
        j = np.cumsum(yk)[last] / pos - np.cumsum(~yk)[last] / neg
        out[k] = sk[last][np.argmax(j)] if j.max() > 0 else np.inf
    return out


def _binary_counts(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-column TP, FP, FN, TN of boolean (N, K) arrays."""
    return (y & p).sum(0), (~y & p).sum(0), (y & ~p).sum(0), (~y & ~p).sum(0)


def _div(a, b) -> np.ndarray:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


def _kappa_mcc(cm: np.ndarray) -> tuple[float, float]:
    n = cm.sum()
    t, p = cm.sum(1), cm.sum(0)
    po, pe = np.trace(cm) / n, (t * p).sum() / n**2
    kappa = float((po - pe) / (1 - pe)) if pe != 1 else float("nan")
    c = np.trace(cm)
    cov_tp, cov_tt, cov_pp = c * n - (t * p).sum(), n**2 - (t * t).sum(), n**2 - (p * p).sum()
    mcc = float(cov_tp / np.sqrt(cov_tt * cov_pp)) if cov_tt * cov_pp > 0 else 0.0
    return kappa, mcc


def _per_class_rows(names, values: dict[str, np.ndarray]) -> list[dict]:
    return [{"metric": m, "class": str(names[k]), "value": float(v[k])}
            for m, v in values.items() for k in range(len(names))]


def evaluate_logits(y_true, logits, *, task: str = "single_label", thresholds=None,
                    class_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Classification metrics of ``logits`` against ``y_true`` as a tidy table (metric, class, value).

    Single-label (softmax): loss (cross-entropy from the logits), log_loss (from probabilities
    clipped to [eps, 1 − eps], as scikit-learn), accuracy, balanced_accuracy, cohen_kappa, mcc,
    n (class "all"); roc_auc, f1, precision, sensitivity, specificity per class one-vs-rest and
    their "macro" means. For two classes, class 1's rows are the usual positive-class numbers.

    Multi-label (sigmoid, ``y_true`` (N, K) in {0, 1}): ``thresholds`` (K,) on probabilities
    (default 0.5; fit them with :func:`youden_thresholds` on the validation set); per class
    roc_auc, accuracy, balanced_accuracy, f1, precision, sensitivity, specificity, cohen_kappa,
    mcc, log_loss, threshold; their macro means; loss (mean BCE) and subset_accuracy ("all").

    Examples
    --------
    >>> t = evaluate_logits(torch.tensor([0, 1, 1]), torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))
    >>> round(float(t.set_index(["metric", "class"]).loc[("accuracy", "all"), "value"]), 3)
    0.667
    """
    check_option("task", task, ("single_label", "multi_label"), context="evaluate_logits")
    z = _np(logits).astype(np.float64)
    y = _np(y_true)
    if z.ndim != 2 or len(z) != len(y) or len(z) == 0:
        raise ValueError(f"logits must be (N, K) with N = len(y_true) > 0, got {z.shape} and {len(y)} labels")
    n, k = z.shape
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f"class_names has {len(names)} names for {k} logit columns")
    eps = np.finfo(np.float64).eps
    if task == "single_label":
        y = y.astype(np.int64).ravel()
        if y.min() < 0 or y.max() >= k:
            raise ValueError(f"single-label y_true must hold class indices in [0, {k - 1}]")
        logp = z - z.max(1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
        prob = np.exp(logp)
        pred = z.argmax(1)
        cm = confusion_matrix(y, pred, k)
        onehot = np.eye(k, dtype=bool)[y]
        tp, fp, fn, tn = _binary_counts(onehot, np.eye(k, dtype=bool)[pred])
        sens, spec, prec = _div(tp, tp + fn), _div(tn, tn + fp), _div(tp, tp + fp)
        f1 = _div(2 * tp, 2 * tp + fp + fn)
        auc = np.array([roc_auc(onehot[:, c], prob[:, c]) for c in range(k)])
        kappa, mcc = _kappa_mcc(cm)
        present = cm.sum(1) > 0
        p_true = np.clip(prob[np.arange(n), y], eps, 1 - eps)
        overall = {"n": n, "loss": float(-logp[np.arange(n), y].mean()), "log_loss": float(-np.log(p_true).mean()),
                   "accuracy": float((pred == y).mean()), "balanced_accuracy": float(sens[present].mean()),
                   "cohen_kappa": kappa, "mcc": mcc}
        per_class = {"roc_auc": auc, "f1": f1, "precision": prec, "sensitivity": sens, "specificity": spec}
    else:
        y = y.astype(bool)
        if y.shape != z.shape:
            raise ValueError(f"multi-label y_true must have the logits' shape {z.shape}, got {y.shape}")
        prob = 1 / (1 + np.exp(-z))
        thr = np.full(k, 0.5) if thresholds is None else np.asarray(_np(thresholds), np.float64).ravel()
        if thr.shape != (k,):
            raise ValueError(f"thresholds must have one value per class ({k}), got shape {thr.shape}")
        pred = prob >= thr
        tp, fp, fn, tn = _binary_counts(y, pred)
        sens, spec, prec = _div(tp, tp + fn), _div(tn, tn + fp), _div(tp, tp + fp)
        kappa_mcc = [_kappa_mcc(np.array([[tn[c], fp[c]], [fn[c], tp[c]]])) for c in range(k)]
        pc = np.clip(prob, eps, 1 - eps)
        bce = -(y * np.log(pc) + ~y * np.log1p(-pc))
        loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        per_class = {"roc_auc": np.array([roc_auc(y[:, c], prob[:, c]) for c in range(k)]),
                     "accuracy": (tp + tn) / n, "balanced_accuracy": (sens + spec) / 2,
                     "f1": _div(2 * tp, 2 * tp + fp + fn), "precision": prec, "sensitivity": sens,
                     "specificity": spec, "cohen_kappa": np.array([km[0] for km in kappa_mcc]),
                     "mcc": np.array([km[1] for km in kappa_mcc]), "log_loss": bce.mean(0), "threshold": thr}
        overall = {"n": n, "loss": float(loss.mean()), "subset_accuracy": float((pred == y).all(1).mean())}
    rows = [{"metric": m, "class": "all", "value": float(v)} for m, v in overall.items()]
    rows += _per_class_rows(names, per_class)
    rows += [{"metric": m, "class": "macro", "value": float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")}
             for m, v in per_class.items() if m != "threshold"]
    return pd.DataFrame(rows, columns=["metric", "class", "value"])


def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, *, task: str = "single_label",
             thresholds=None, class_names: Sequence[str] | None = None, batch_size: int = 256) -> pd.DataFrame:
    """:func:`evaluate_logits` of ``model``'s logits on ``x`` (eval mode, batched).

    Examples
    --------
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    >>> table = evaluate(model, torch.rand(6, 1, 2, 2), torch.tensor([0, 1, 0, 1, 0, 1]))
    >>> sorted(table["metric"].unique())[:3]
    ['accuracy', 'balanced_accuracy', 'cohen_kappa']
    """
    return evaluate_logits(y, predict_logits(model, x, batch_size), task=task, thresholds=thresholds,
                           class_names=class_names)
