"""Study 3's sentences: every sentence of the chapter whose content depends on a run's numbers."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .analysis import FOREIGN, IN_DOMAIN

__all__ = ["format_ci", "interval", "mass_text", "network_text", "replication_verdicts", "shortcut_text",
           "transfer_text"]


def format_ci(row) -> str:
    """``0.412 (95 % CI 0.380–0.450)`` from a bootstrap row; "n/a" for None."""
    return "n/a" if row is None else f"{row['estimate']:.3f} (95 % CI {row['low']:.3f}–{row['high']:.3f})"


def interval(ci: pd.DataFrame, domain: str, region: str):
    """The bootstrap row of ``domain`` × ``region`` in ``ci``, or None when the run has no such cell."""
    row = ci[(ci["domain"] == domain) & (ci["region"] == region)]
    return row.iloc[0] if len(row) else None


def network_text(arch: str, n_parameters: int, in_channels: int, image_size: int, epochs: int, fit, device) -> str:
    """What network ran, how it was trained, and whether it came from the model cache."""
    return (f"**{arch}** ({n_parameters:,} parameters, {in_channels} input channel{'s' if in_channels > 1 else ''}) "
            f"at **{image_size}×{image_size} px**, trained from scratch for up to {epochs} epochs "
            f"(best validation accuracy at epoch {fit.best_epoch}"
            f"{', early stopping ended training' if fit.stopped_early else ''}; "
            f"{'loaded from the model cache' if fit.from_cache else f'trained on {device} in {fit.seconds:.0f} s'})")


def transfer_text(dist: pd.DataFrame, tumour_share: Mapping[str, float], foreign_names) -> str:
    """The brain model's most frequent answer per foreign class, the tumour shares, and whether they rise from
    normal to benign to malignant (what carried-over evidence would predict)."""
    present = [a for a in foreign_names if int(dist.loc[dist["actual"] == a, "n"].iloc[0]) > 0]
    largest = dist.loc[dist[dist["n"] > 0].groupby("actual")["share"].idxmax()].set_index("actual")
    rising = (tumour_share.get("malignant", np.nan) > tumour_share.get("benign", np.nan)
              > tumour_share.get("normal", np.nan))
    return ("On the foreign domain the brain model's most frequent top-1 answer was: " + "; ".join(
        f"{a}: {largest.loc[a, 'predicted'].replace('_', ' ')} for {largest.loc[a, 'share']:.0%} of "
        f"{int(largest.loc[a, 'n'])} images" for a in present) + ". Shares predicted as a tumour class: " + ", ".join(
        f"{a} {tumour_share[a]:.0%}" for a in present) + ". "
        + ("If brain-tumour evidence carried over to lung lesions, the tumour share would rise from normal to benign "
           "to malignant; here it " + ("does" if rising else "does not")
           + ". Either way the model has no lung classes to answer with."))


def mass_text(ci: pd.DataFrame, area: pd.DataFrame) -> str:
    """Where the absolute SHAP mass falls in each domain: outside the body (do the intervals separate?), inside the
    organ (relative to the organ's area), inside the lesion."""
    def area_of(domain, region):
        return float(area.loc[(area["domain"] == domain) & (area["region"] == region), "area"].iloc[0])

    ob_in, ob_out = interval(ci, IN_DOMAIN, "outside_body"), interval(ci, FOREIGN, "outside_body")
    org_in, org_out = interval(ci, IN_DOMAIN, "organ"), interval(ci, FOREIGN, "organ")
    separated = (ob_in is not None and ob_out is not None
                 and (ob_out["low"] > ob_in["high"] or ob_in["low"] > ob_out["high"]))
    verdict = ("the intervals do not overlap" if separated else "the intervals overlap, so this run cannot "
               "tell the two domains apart on this measure")
    text = (f"Share of |SHAP| mass outside the body: in-domain {format_ci(ob_in)}, foreign {format_ci(ob_out)}; "
            f"{verdict}.")
    if org_in is not None and org_out is not None:  # phantoms: organ masks exist
        text += (
            f" Inside the organ: in-domain {format_ci(org_in)}, foreign {format_ci(org_out)}, so "
            f"{1 - org_out['estimate']:.0%} of the foreign maps' mass lies outside the lungs against "
            f"{1 - org_in['estimate']:.0%} outside the brain in-domain. The organs differ in size, though (on average "
            f"{area_of(IN_DOMAIN, 'organ'):.0%} of a brain image, {area_of(FOREIGN, 'organ'):.0%} of a lung image): "
            f"relative to a map without spatial preference the organ holds "
            f"{org_in['estimate'] / area_of(IN_DOMAIN, 'organ'):.1f}× its share in-domain and "
            f"{org_out['estimate'] / area_of(FOREIGN, 'organ'):.1f}× on the foreign domain.")
    les_in, les_out = interval(ci, IN_DOMAIN, "lesion"), interval(ci, FOREIGN, "lesion")
    if les_in is not None and les_out is not None:
        text += (f" Inside the lesion (images that have one): in-domain {format_ci(les_in)}, "
                 f"foreign {format_ci(les_out)}.")
    return text


def shortcut_text(acc: pd.DataFrame, sc_ci: pd.DataFrame, marker_area: float, gradient_method: str) -> str:
    """The shortcut model's accuracy with and without the marker, the mass its maps put on the marker against the
    clean model's and the marker's area, and whether the methods point at the marker."""
    a = acc.set_index(["model", "test_set"])
    kept, removed = a.loc[("shortcut", "marker kept")], a.loc[("shortcut", "marker removed")]
    clean_kept = a.loc[("clean", "marker kept")]
    est = sc_ci.set_index(["model", "method"])["estimate"] if len(sc_ci) else pd.Series(dtype=float)

    def value(model_name, method):
        return float(est.get((model_name, method), np.nan))

    text = (
        f"The shortcut model scores accuracy {kept['accuracy']:.3f} on test images drawn like its training images "
        f"(the clean model: {clean_kept['accuracy']:.3f}), and {removed['accuracy']:.3f} once the marker is removed; "
        f"its pituitary recall goes from {kept['recall_pituitary']:.2f} to {removed['recall_pituitary']:.2f}. "
        f"On marked pituitary images, the share of |attribution| on the marker (which covers {marker_area:.2%} of the "
        f"image) is {value('shortcut', 'SHAP'):.3f} for SHAP and {value('shortcut', gradient_method):.3f} for "
        f"{gradient_method.replace('_', ' ')} with the shortcut model, against {value('clean', 'SHAP'):.3f} and "
        f"{value('clean', gradient_method):.3f} with the clean model.")
    points = {m: value("shortcut", m) > max(value("clean", m), 2 * marker_area) for m in ("SHAP", gradient_method)}
    learned = kept["recall_pituitary"] - removed["recall_pituitary"] > 0.5
    hits = [m.replace("_", " ") for m, v in points.items() if v]
    subject = {0: "Neither method puts", 1: f"{hits[0]} puts" if hits else "", 2: f"Both {' and '.join(hits)} put"}
    return text + (" " + subject[len(hits)]
                   + " clearly more mass on the marker for the shortcut model than for the clean model and than the "
                   "marker's area would give; "
                   + ("the accuracy collapse without the marker confirms that the model relies on it."
                      if learned else "yet the pituitary recall does not collapse without the marker, so this run "
                      "does not show that the model relies on it."))


def replication_verdicts(folder) -> dict[str, str]:
    """The headline verdicts of a finished run (its folder): does the shortcut model rely on the marker (its
    pituitary recall collapses without it), do the outside-body masses of the two domains separate, does the tumour
    share rise from normal to benign to malignant."""
    from pathlib import Path

    folder = Path(folder)
    acc = pd.read_csv(folder / "shortcut_accuracy.csv").set_index(["model", "test_set"])
    drop = acc.loc[("shortcut", "marker kept"), "recall_pituitary"] - acc.loc[("shortcut", "marker removed"),
                                                                              "recall_pituitary"]
    ci = pd.read_csv(folder / "mass_fractions_ci.csv")
    a, b = interval(ci, IN_DOMAIN, "outside_body"), interval(ci, FOREIGN, "outside_body")
    separated = a is not None and b is not None and (b["low"] > a["high"] or a["low"] > b["high"])
    dist = pd.read_csv(folder / "foreign_distribution.csv")
    share = {x: float(1 - sub[sub["predicted"] == "no_tumour"]["share"].iloc[0])
             for x, sub in dist.groupby("actual", sort=False)}
    rising = share.get("malignant", np.nan) > share.get("benign", np.nan) > share.get("normal", np.nan)
    return {"the shortcut model relies on the marker": "yes" if drop > 0.5 else "no",
            "outside-body SHAP mass separates the domains": "separated" if separated else "overlapping",
            "tumour share rises from normal to benign to malignant": "yes" if rising else "no"}
