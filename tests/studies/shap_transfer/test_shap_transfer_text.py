"""Study 3's conclusion sentences: every branch reached on synthetic frames whose answer is known."""
import numpy as np
import pandas as pd
import pytest

from xaikit.studies.shap_transfer.analysis import FOREIGN, IN_DOMAIN, predicted_distribution, shortcut_drop
from xaikit.studies.shap_transfer.text import format_ci, interval, mass_text, shortcut_text, transfer_text

NAMES = ["normal", "benign", "malignant"]


def _dist(tumour_rows):
    """Probabilities whose top-1 is no_tumour for the first rows of each class, meningioma for the rest."""
    probs, labels = [], []
    for c, (n_tumour, n) in enumerate(tumour_rows):
        for i in range(n):
            probs.append([0.1, 0.6, 0.2, 0.1] if i < n_tumour else [0.1, 0.1, 0.7, 0.1])
            labels.append(c)
    dist = predicted_distribution(np.array(probs), np.array(labels))
    share = {a: float(1 - dist[(dist.actual == a) & (dist.predicted == "no_tumour")]["share"].iloc[0]) for a in NAMES}
    return dist, share


def test_transfer_text_says_whether_the_tumour_share_rises():
    dist, share = _dist([(0, 4), (2, 4), (3, 4)])
    assert share == {"normal": 0.0, "benign": 0.5, "malignant": 0.75}
    text = transfer_text(dist, share, NAMES)
    assert "here it does." in text and "malignant: meningioma for 75% of 4 images" in text
    dist, share = _dist([(3, 4), (2, 4), (1, 4)])
    assert "here it does not." in transfer_text(dist, share, NAMES)


def test_transfer_text_skips_an_empty_class():
    dist, share = _dist([(0, 4), (0, 0), (4, 4)])
    text = transfer_text(dist, share, NAMES)
    assert "benign" not in text.split("Shares predicted")[0] and "malignant 100%" in text


def _ci(rows):
    return pd.DataFrame(rows, columns=["domain", "region", "estimate", "low", "high"])


AREA = pd.DataFrame({"domain": [IN_DOMAIN, FOREIGN], "region": ["organ", "organ"], "area": [0.5, 0.25]})


def test_mass_text_separated_overlapping_and_organ_ratio():
    apart = _ci([(IN_DOMAIN, "outside_body", 0.1, 0.05, 0.15), (FOREIGN, "outside_body", 0.5, 0.4, 0.6)])
    assert "the intervals do not overlap" in mass_text(apart, AREA)
    close = _ci([(IN_DOMAIN, "outside_body", 0.1, 0.05, 0.45), (FOREIGN, "outside_body", 0.5, 0.4, 0.6)])
    assert "the intervals overlap" in mass_text(close, AREA)
    with_organ = _ci([(IN_DOMAIN, "outside_body", 0.1, 0.05, 0.15), (FOREIGN, "outside_body", 0.5, 0.4, 0.6),
                      (IN_DOMAIN, "organ", 0.8, 0.7, 0.9), (FOREIGN, "organ", 0.25, 0.2, 0.3)])
    text = mass_text(with_organ, AREA)
    # 0.8 of the mass in an organ covering 0.5 of the image: 1.6x its share; 0.25 in 0.25: 1.0x
    assert "holds 1.6× its share in-domain and 1.0× on the foreign domain" in text
    assert "75% of the foreign maps' mass lies outside the lungs against 20%" in text
    assert "Inside the lesion" not in text
    lesion = pd.concat([with_organ, _ci([(IN_DOMAIN, "lesion", 0.3, 0.2, 0.4), (FOREIGN, "lesion", 0.1, 0.0, 0.2)])])
    assert "Inside the lesion (images that have one): in-domain 0.300 (95 % CI 0.200–0.400)" in mass_text(lesion, AREA)


def test_interval_and_format_ci():
    ci = _ci([(IN_DOMAIN, "organ", 0.5, 0.4, 0.6)])
    assert format_ci(interval(ci, IN_DOMAIN, "organ")) == "0.500 (95 % CI 0.400–0.600)"
    assert interval(ci, FOREIGN, "organ") is None and format_ci(None) == "n/a"


def _acc(kept, removed, recall_kept, recall_removed, clean=0.9):
    return pd.DataFrame({"model": ["clean", "clean", "shortcut", "shortcut"],
                         "test_set": ["marker kept", "marker removed"] * 2,
                         "accuracy": [clean, clean, kept, removed],
                         "recall_pituitary": [0.9, 0.9, recall_kept, recall_removed]})


def _sc(shortcut_shap, shortcut_grad, clean_shap=0.01, clean_grad=0.01):
    return pd.DataFrame({"model": ["shortcut", "shortcut", "clean", "clean"],
                         "method": ["SHAP", "saliency", "SHAP", "saliency"],
                         "estimate": [shortcut_shap, shortcut_grad, clean_shap, clean_grad]})


@pytest.mark.parametrize("shap,grad,subject", [(0.5, 0.4, "Both SHAP and saliency put"), (0.5, 0.001, "SHAP puts"),
                                               (0.001, 0.5, "saliency puts"), (0.001, 0.001, "Neither method puts")])
def test_shortcut_text_names_the_methods_that_point_at_the_marker(shap, grad, subject):
    text = shortcut_text(_acc(0.95, 0.6, 1.0, 0.1), _sc(shap, grad), 0.01, "saliency")
    assert f" {subject} clearly more mass" in text
    assert "the accuracy collapse without the marker confirms" in text


def test_shortcut_text_reliance_needs_a_recall_collapse_and_beats_twice_the_area():
    text = shortcut_text(_acc(0.95, 0.9, 1.0, 0.8), _sc(0.5, 0.5), 0.01, "saliency")
    assert "does not show that the model relies on it" in text
    # mass 0.015 on a marker covering 0.01: above the clean model but below twice the area, so not "pointing"
    assert "Neither method puts" in shortcut_text(_acc(0.95, 0.6, 1.0, 0.1), _sc(0.015, 0.015), 0.01, "saliency")
    empty = shortcut_text(_acc(0.95, 0.6, 1.0, 0.1), pd.DataFrame(), 0.01, "saliency")
    assert "is nan for SHAP" in empty and "Neither method puts" in empty
    assert shortcut_drop(_acc(0.95, 0.6, 1.0, 0.1)) == pytest.approx(0.35)
