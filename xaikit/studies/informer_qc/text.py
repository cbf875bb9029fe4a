"""Study 2's sentences: every sentence of the chapter whose content depends on a run's numbers."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .analysis import method_label

__all__ = ["best_pair", "evaluation_text", "localisation_text", "model_text", "replication_verdicts", "summary_text",
           "verdict"]


def best_pair(means: pd.Series, informers: Sequence[str]) -> tuple[str, str]:
    """The INFORMER variant and the baseline (entropy or TTA) with the highest mean test F1 (first on ties)."""
    best_informer = max(informers, key=means.__getitem__)
    best_baseline = max(["entropy", "tta"], key=means.__getitem__)
    return best_informer, best_baseline


def verdict(diff: float, p: float, *, alpha: float = 0.05) -> str:
    """"beats" when INFORMER's mean F1 is higher and the paired test is significant at ``alpha``, otherwise
    "does not beat" (a higher but non-significant mean does not beat the baseline)."""
    return "beats" if diff > 0 and p <= alpha else "does not beat"


def model_text(arch: str, source: str, epochs: int, image_size: int, device, fit, mean_auc: Mapping[str, float],
               paper: Mapping[str, float]) -> str:
    """The inspected model: what it is, how it was trained, its mean AUC beside the paper's."""
    return (f"**Model:** {arch}, {source}, {epochs} epoch(s) at {image_size} px on {device} "
            f"({'loaded from the cache' if fit.from_cache else f'{fit.seconds:.0f} s'}). Mean AUC: validation "
            f"{mean_auc['validation']:.3f}, test {mean_auc['test']:.3f} (paper: {paper['val_auc']}, "
            f"{paper['test_auc']}).")


def summary_text(means: pd.Series, tests: pd.DataFrame, flags: Mapping[str, int], informers: Sequence[str], *,
                 n_test: int, n_boot: int) -> str:
    """The headline: the classifier's mean F1, the best INFORMER variant against the best baseline with the paired
    t-test over the bootstrapped sets, and the number of flags per monitor."""
    best_informer, best_baseline = best_pair(means, informers)
    row = tests[(tests["method"] == best_informer) & (tests["baseline"] == best_baseline)].iloc[0]
    diff = means[best_informer] - means[best_baseline]
    return (
        f"On this test set ({n_test} images), the classifier alone has a mean F1 of {means['no_qc']:.3f}. After "
        f"quality control, {method_label(best_informer)} reaches {means[best_informer]:.3f} and the best baseline, "
        f"{method_label(best_baseline)}, {means[best_baseline]:.3f}: INFORMER {verdict(diff, row['p'])} it "
        f"(difference {diff:+.3f}; paired t-test over {n_boot} bootstrapped sets p = {row['p']:.3g}). Flags on the "
        f"test set: " + ", ".join(f"{method_label(m)} {n}" for m, n in flags.items()) + ".")


def localisation_text(localisation: pd.DataFrame) -> str:
    """Per INFORMER variant: how often the maps of flagged and of unflagged predictions beat a uniform map on the
    finding's mask; a sentence saying the check needs masks when there are none."""
    if not len(localisation):
        return "No masks: the localisation check was not run."
    parts = []
    for name, sub in localisation.groupby("method", sort=False):
        hr, nf = sub.groupby("flagged")["hit"].mean(), int(sub["flagged"].sum())
        parts.append(f"{method_label(name)}: flagged predictions of present findings have a map that beats a uniform "
                     f"map on the finding's mask in {hr.get(True, np.nan):.0%} of {nf} cases, unflagged ones in "
                     f"{hr.get(False, np.nan):.0%} of {len(sub) - nf}")
    return "; ".join(parts) + (". If the rationale held, the flagged share would be the lower one; with few "
                               "flagged cases these shares are rough.")


def replication_verdicts(folder) -> dict[str, str]:
    """The headline verdicts of a finished run (its folder): does each monitor detect wrong predictions (declared
    direction, mean per-finding AUROC interval), does it beat random flags at its own rate, and is each INFORMER
    variant's mean F1 higher or lower than predictive entropy's (paired bootstrap interval over images)."""
    import json
    from pathlib import Path

    folder = Path(folder)
    out = {}
    det = pd.read_csv(folder / "error_detection_auroc.csv")
    for r in det[(det["class"] == "mean") & (det["direction_source"] == "declared")].to_dict("records"):
        out[f"{method_label(r['method'])} detects wrong predictions"] = r["verdict"]
    rnd = pd.read_csv(folder / "beats_random.csv")
    for r in rnd[rnd["class"] == "mean"].to_dict("records"):
        out[f"{method_label(r['method'])} beats random flags at its rate"] = "yes" if r["beats"] else "no"
    paired = pd.read_csv(folder / "paired_bootstrap_f1.csv")
    for r in paired[(paired["class"] == "mean") & (paired["baseline"] == "entropy")].to_dict("records"):
        out[f"{method_label(r['method'])} against Pred. Entropy (paired CI)"] = r["verdict"]
    means = pd.Series(json.loads((folder / "manifest.json").read_text())["mean_f1"])
    out["monitor with the highest mean F1"] = method_label(means.drop("no_qc").idxmax())
    return out


def evaluation_text(ev, performance: pd.DataFrame, class_names, *, seeds: pd.DataFrame | None = None) -> str:
    """The chapter's verdicts from the evaluation a reviewer accepts (:func:`xaikit.qc.qc_conclusion`): the
    classifier's regime, error detection with the declared direction, each monitor against random flags at its
    own rate, and the paired bootstrap CIs of the F1 differences."""
    from ...qc import qc_conclusion
    from .analysis import classifier_auc

    declared = ev.detection[ev.detection["direction_source"] == "declared"]
    return qc_conclusion(declared, ev.vs_random, ev.paired, classifier_auc=classifier_auc(performance, class_names),
                         seeds=seeds, label=method_label)
