"""Study 1's sentences: the verdicts on paper 003's hypotheses and what the checks beyond the paper add."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..._validation import check_float
from .analysis import arch_label

__all__ = ["beyond_paper_text", "headline", "hypothesis_verdicts", "localisation_text", "paired_text", "parity_check",
           "replication_verdicts"]


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


def headline(scores: pd.DataFrame, summary: pd.DataFrame, margin: pd.DataFrame, method: str) -> dict[str, Any]:
    """The conclusion's numbers for the headline method: its mean RRA on COVID-19 images over all models, the
    random map's expectation there, and how many of its RRA cells beat the random map."""
    rra = summary[(summary["metric"] == "relevance_rank_accuracy") & (summary["method"] == method)]
    mean = float(scores.loc[(scores["metric"] == "relevance_rank_accuracy") & (scores["method"] == method)
                            & (scores["class"] == "covid"), "score"].mean())
    beats = margin[(margin["metric"] == "relevance_rank_accuracy") & (margin["method"] == method)]
    return {"rra_covid_mean": mean, "rra_covid_random": float(rra.loc[rra["class"] == "covid", "random"].mean()),
            "n_beats_random": f"{int(beats['beats random'].sum())} of {len(beats)}"}


def replication_verdicts(folder) -> dict[str, str]:
    """The verdicts on the paper's two hypotheses that a finished run (its folder's manifest) recorded."""
    import json
    from pathlib import Path

    v = json.loads((Path(folder) / "manifest.json").read_text())["verdicts"]
    out = {"hypothesis 1 (more parameters, better classification)": v["h1"],
           "hypothesis 2 (the paper's unpaired tests)": v["h2"]}
    if "h2_paired" in v:
        out["hypothesis 2 (paired tests, models at accuracy parity)"] = v["h2_paired"]
        out["accuracy parity"] = v["parity"]
    return out


def parity_check(performance: pd.DataFrame, *, bar: float = 0.90, max_gap: float = 0.05) -> dict[str, Any]:
    """:func:`xaikit.stats.accuracy_parity` of the run's models (one seed), with model names as in the tables."""
    from ...stats import accuracy_parity

    perf = performance.assign(arch=performance["arch"].map(arch_label))
    out = accuracy_parity(perf, seed=None, bar=bar, max_gap=max_gap)
    names = dict(zip(perf["arch"], performance["arch"], strict=True))
    out["eligible_archs"] = [names[m] for m in out["eligible"]]
    return out


def paired_text(friedman: pd.DataFrame, parity: Mapping[str, Any], *, alpha: float = 0.05) -> dict[str, Any]:
    """Hypothesis 2 from the paired design: Friedman across the eligible models on the same images, per cell with
    the paper's target (true label). No verdict unless the models are in the same accuracy regime."""
    f = friedman[friedman["target"] == "true"] if "target" in friedman else friedman
    n, sig = len(f), int((f["p"] < alpha).sum())
    if not parity["allow_claims"]:
        return {"h2_paired": "not assessed", "n_cells": n, "n_significant": sig,
                "text": parity["text"] + (f" The paired tests are shown ({sig} of {n} cells differ at α = {alpha:g}), "
                                          "but no verdict on hypothesis 2 is drawn from them.")}
    verdict = "differ" if sig > n / 2 else "no consistent difference"
    return {"h2_paired": verdict, "n_cells": n, "n_significant": sig,
            "text": parity["text"] + (f" Friedman tests across them on the same images find a difference in {sig} of "
                                      f"{n} metric × class × method cells at α = {alpha:g}: "
                                      + ("the models' explanations differ in most cells."
                                         if verdict == "differ" else "no consistent difference between the models."))}


def localisation_text(table: pd.DataFrame) -> str:
    """How many model × method cells localise the lesions beyond the strongest model-free baseline (COVID-19
    images), and what the healthy cells measure instead."""
    covid = table[table["class"] == "covid"]
    counts = covid["verdict"].value_counts()
    strongest = covid.groupby("metric")["strongest_baseline"].first().to_dict()
    named = "; ".join(f"{'RRA' if m == 'relevance_rank_accuracy' else 'PAR'}: {b.replace('_', ' ')}"
                      for m, b in strongest.items())
    return (f"Against the strongest model-free map of each metric ({named}), {int(counts.get('localises', 0))} of "
            f"{len(covid)} model × method cells on COVID-19 images localise the lesions (interval above the "
            f"baseline's), {int(counts.get('inconclusive', 0))} are inconclusive and "
            f"{int(counts.get('below baseline', 0))} fall below it. On healthy images the mask is the lungs, so those "
            f"cells measure attention to the lungs, not localisation.")
