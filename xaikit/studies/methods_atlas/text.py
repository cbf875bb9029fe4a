"""Study 4's sentences: Arun-style pass/fail per method, "which method, for what", and the comparison with the
anchors (Arun et al. 2021, Adebayo et al. 2018, CheXlocalize)."""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .analysis import ARUN_CRITERIA, HEADLINE, LOWER_IS_BETTER

__all__ = ["anchor_comparison", "arun_text", "which_method_text"]


def _name(method: str) -> str:
    return method.replace("_", " ")


def _join(names) -> str:
    names = [_name(n) for n in names]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def arun_text(verdicts: pd.DataFrame) -> str:
    """One sentence per method (its verdict on each of Arun et al.'s four criteria) and a closing count.

    ``verdicts`` is :func:`~xaikit.studies.methods_atlas.analysis.arun_verdicts`' frame. The evidence mask (the
    ceiling) is named as such and left out of the count.
    """
    if verdicts.empty:
        return "No method was scored on Arun et al.'s criteria."
    lines = []
    for r in verdicts.to_dict("records"):
        parts = [f"{r[c]} {c}" if r[c] in ("pass", "fail") else f"{c} {r[c]}" for c in ARUN_CRITERIA]
        label = "the evidence mask (ceiling)" if r["method"] == "evidence" else _name(r["method"])
        lines.append(f"{label}: " + ", ".join(parts).replace("pass ", "passes ").replace("fail ", "fails ") + ".")
    methods = verdicts[verdicts["method"] != "evidence"]
    n_all = int(methods["passes_all"].sum())
    failing = methods[(methods[list(ARUN_CRITERIA)] == "fail").any(axis=1)]
    if len(methods) and len(failing) == len(methods):
        close = f"Every one of the {len(methods)} methods fails at least one criterion, as in Arun et al."
    elif n_all:
        close = (f"{n_all} of {len(methods)} methods pass all four criteria "
                 f"({_join(methods.loc[methods['passes_all'], 'method'])}); Arun et al. found none.")
    else:
        close = (f"No method passes all four criteria, but {len(methods) - len(failing)} of {len(methods)} fail none "
                 "outright: their remaining verdicts are inconclusive or not measured in this run.")
    return " ".join(lines) + " " + close


def which_method_text(best: Mapping[str, list[str]], baseline_best: Mapping[str, list[str]] | None = None) -> str:
    """The "which method, for what" section: for each criterion, the methods whose interval is not below the best
    (from :func:`~xaikit.studies.methods_atlas.analysis.best_methods`), as a Markdown list."""
    lines = []
    for crit, metric in HEADLINE.items():
        names = list(best.get(crit, []))
        direction = "lower" if metric in LOWER_IS_BETTER else "higher"
        what = f"**{crit}** ({_name(metric)}, {direction} is better)"
        if not names:
            lines.append(f"- {what}: not measured in this run.")
        elif len(names) == 1:
            lines.append(f"- {what}: {_name(names[0])}, separated from every other method.")
        else:
            lines.append(f"- {what}: {_join(names)} (intervals not separable from the best, {_name(names[0])}).")
        if baseline_best is not None and crit == "localisation" and baseline_best.get(crit):
            lines[-1] += f" Strongest model-free map: {_name(baseline_best[crit][0])}."
    return "\n".join(lines)


def anchor_comparison(verdicts: pd.DataFrame, summary: pd.DataFrame, adebayo: pd.DataFrame,
                      chexlocalize: pd.DataFrame) -> str:
    """Where the phantom agrees or disagrees with Arun et al. (every method fails a criterion), Adebayo et al.
    (guided backprop / guided Grad-CAM insensitive to randomisation) and CheXlocalize (Grad-CAM the best localiser
    of the methods it compared), for the methods this run measured."""
    out = []
    methods = verdicts[verdicts["method"] != "evidence"]
    if len(methods):
        all_fail = bool(((methods[list(ARUN_CRITERIA)] == "fail").any(axis=1)).all())
        out.append("Arun et al.: every saliency method fails at least one criterion; here "
                   + ("so does every method (agrees)." if all_fail else
                      "not every method fails one (disagrees, or undecided where verdicts are inconclusive)."))
    rand = verdicts.set_index("method")["randomisation"].to_dict() if len(verdicts) else {}
    for r in adebayo.to_dict("records"):
        m = r["xaikit_method"]
        v = rand.get(m, "not measured")
        if v == "not measured":
            out.append(f"Adebayo et al.: {r['method']} barely changes under model randomisation; not measured here.")
        else:
            agree = "agrees" if v == "fail" else "disagrees" if v == "pass" else "undecided"
            out.append(f"Adebayo et al.: {r['method']} barely changes under model randomisation; here its "
                       f"randomisation verdict is {v} ({agree}).")
    loc = summary[(summary["metric"] == "iou_otsu") & (summary["kind"] == "method")]
    compared = [m for m in chexlocalize["xaikit_method"] if m in set(loc["method"])]
    if len(compared) >= 2:
        best = loc[loc["method"].isin(compared)].sort_values("mean", ascending=False)["method"].iloc[0]
        expected = chexlocalize.loc[chexlocalize["best_of_methods"].astype(bool), "xaikit_method"].iloc[0]
        agree = "agrees" if best == expected else "disagrees"
        out.append(f"CheXlocalize: {_name(expected)} localises best (IoU after Otsu) of {_join(compared)}; here "
                   f"{_name(best)} does ({agree}).")
    else:
        out.append("CheXlocalize: fewer than two of its methods ran here, so its ranking is not compared.")
    return " ".join(out)
