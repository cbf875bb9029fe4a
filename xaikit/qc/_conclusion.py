"""The study's conclusion as sentences generated from its numbers, so every claim is tested code."""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

__all__ = ["REGIME", "qc_conclusion"]

#: The classifier regime of paper 002 the study must reach before its QC numbers speak to the paper:
#: every finding's test AUC at least ``per_class``, their mean at least ``macro``.
REGIME = {"per_class": 0.80, "macro": 0.85}


def _need(frame: pd.DataFrame, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} of qc_conclusion lacks columns {missing} (has {list(frame.columns)})")
    return frame


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _ci(row) -> str:
    return f"{row['auroc']:.2f} [{row['low']:.2f}, {row['high']:.2f}]"


def qc_conclusion(detection: pd.DataFrame, vs_random: pd.DataFrame, paired: pd.DataFrame, *,
                  classifier_auc: Mapping[str, float] | None = None, seeds: pd.DataFrame | None = None,
                  label: Callable[[str], str] = str, level: float = 0.95) -> str:
    """Markdown sentences that state the study's verdicts from its numbers.

    Parameters
    ----------
    detection : :func:`xaikit.qc.error_detection_auroc` rows (declared direction) with a ``method`` column;
        the "mean" rows (mean of per-class AUROCs) are used.
    vs_random : :func:`xaikit.qc.beats_random` rows with a ``method`` column.
    paired : :func:`xaikit.qc.paired_bootstrap_f1` rows; the class-mean rows are used.
    classifier_auc : test AUC per finding (the regime sentence; see ``REGIME``).
    seeds : per-seed class-mean F1 differences: columns seed, method, baseline, diff. With at least three
        seeds, each comparison is said to replicate when its difference has the sign of the pooled verdict in
        every seed; with fewer, no verdict is claimed to replicate.
    label : display name of a method; ``level`` : the intervals' level (for the text).

    Returns
    -------
    str: one paragraph of markdown.

    Examples
    --------
    >>> det = pd.DataFrame([{"method": "entropy", "class": "mean", "auroc": 0.65, "low": 0.6, "high": 0.7,
    ...                      "verdict": "detects"}])
    >>> rnd = pd.DataFrame([{"method": "entropy", "class": "mean", "beats": True}])  # noqa: E501
    >>> qc_conclusion(det, rnd, pd.DataFrame(columns=["method", "baseline", "class", "diff", "low", "high",
    ...                                               "verdict"])).split(". ")[0]
    'Entropy detects wrong predictions in the direction its rationale declares (mean per-class AUROC 0.65 [0.60, 0.70])'
    """
    _need(detection, "detection", ("method", "class", "auroc", "low", "high", "verdict"))
    _need(vs_random, "vs_random", ("method", "class", "beats"))
    _need(paired, "paired", ("method", "baseline", "class", "diff", "low", "high", "verdict"))
    pct = f"{100 * level:.0f}%"
    out = []
    if classifier_auc is not None:
        auc = {str(k): float(v) for k, v in classifier_auc.items()}
        macro = float(np.mean(list(auc.values())))
        weak = [k for k, v in auc.items() if v < REGIME["per_class"]]
        text = (f"The classifier's macro test AUC is {macro:.3f} (per finding {min(auc.values()):.3f}–"
                f"{max(auc.values()):.3f})")
        if weak or macro < REGIME["macro"]:
            out.append(text + f": below the paper's regime (every finding ≥ {REGIME['per_class']:.2f}, macro ≥ "
                       f"{REGIME['macro']:.2f})" + (f", with {_join(weak)} under {REGIME['per_class']:.2f}" if weak
                                                     else "") + "; the quality-control results below describe a "
                       "weaker classifier than the paper's.")
        else:
            out.append(text + ", within the paper's regime.")
    det = detection[detection["class"] == "mean"]
    groups = {v: det[det["verdict"] == v] for v in ("detects", "opposite", "chance", "undefined")}
    for verdict, verb, tail in (
            ("detects", "detect", "wrong predictions in the direction its rationale declares (mean per-class AUROC "),
            ("opposite", "rank", "wrong predictions opposite to the declared rationale (mean per-class AUROC "),
            ("chance", "cannot be told from chance at detecting", "wrong predictions (mean per-class AUROC ")):
        g = groups[verdict]
        if not len(g):
            continue
        verb = verb if len(g) > 1 or verb.startswith("cannot") else verb + "s"
        ci = "; ".join(f"{label(r['method'])} {_ci(r)}" if len(g) > 1 else _ci(r) for _, r in g.iterrows())
        end = {"detects": ").", "opposite": f", {pct} interval below 0.5): the signal exists but points the "
                                            "other way.", "chance": f", {pct} interval around 0.5)."}[verdict]
        out.append(_cap(f"{_join([label(m) for m in g['method']])} {verb} {tail}{ci}{end}"))
    if len(groups["undefined"]):
        out.append("Error detection is undefined for " + _join([label(m) for m in groups["undefined"]["method"]])
                   + " (a class without wrong or without right predictions).")
    rnd = vs_random[vs_random["class"] == "mean"]
    winners = [label(m) for m in rnd.loc[rnd["beats"].astype(bool), "method"]]
    if len(rnd) and len(winners) == len(rnd):
        out.append("Every monitor beats random flags at its own per-class rate, so each helps by detecting errors "
                   "rather than by rewriting predictions.")
    elif winners:
        verb, its = ("beats", "its") if len(winners) == 1 else ("beat", "their")
        out.append(f"Only {_join(winners)} {verb} random flags at {its} own per-class rate; the others do no better "
                   "than flagging as many predictions at random.")
    elif len(rnd):
        out.append("No monitor beats random flags at its own per-class rate: any gain in F1 comes from flipping "
                   "predictions, not from detecting which are wrong.")
    pm = paired[paired["class"] == "mean"]
    for _, r in pm.iterrows():
        ci = f"{r['diff']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}]"
        if r["verdict"] == "no difference":
            out.append(_cap(f"{label(r['method'])} and {label(r['baseline'])} do not differ in mean F1 "
                       f"(difference {ci}, paired bootstrap over images)."))
        else:
            out.append(_cap(f"{label(r['method'])}'s mean F1 is {r['verdict']} than {label(r['baseline'])}'s "
                            f"(difference {ci}, paired bootstrap over images)."))
    if seeds is None or len(seeds) == 0 or seeds["seed"].nunique() < 3:
        n = 0 if seeds is None or len(seeds) == 0 else int(seeds["seed"].nunique())
        out.append(f"These verdicts rest on one test set ({n} seed{'s' if n != 1 else ''} run; at least 3 are needed): "
                   "none is claimed to replicate.")
    else:
        _need(seeds, "seeds", ("seed", "method", "baseline", "diff"))
        n = int(seeds["seed"].nunique())
        for _, r in pm.iterrows():
            d = seeds[(seeds["method"] == r["method"]) & (seeds["baseline"] == r["baseline"])]["diff"].to_numpy()
            if len(d) == 0:
                continue
            sign = 1 if r["verdict"] == "higher" else -1 if r["verdict"] == "lower" else 0
            pair = f"{label(r['method'])} vs {label(r['baseline'])}"
            if sign == 0:
                agree = int((np.sign(d) > 0).sum())
                out.append(_cap(f"{pair}: no verdict to replicate ({agree} of {len(d)} seeds favour "
                                f"{label(r['method'])})."))
            else:
                agree = int((np.sign(d) == sign).sum())
                held = "replicates in every seed" if agree == len(d) == n else \
                    f"holds in {agree} of {len(d)} seeds only: it does not replicate"
                out.append(_cap(f"{pair}: the verdict {held}."))
    return " ".join(out)
