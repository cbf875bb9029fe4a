"""Study 2's conclusion sentences: every branch reached on synthetic frames whose answer is known."""
import numpy as np
import pandas as pd
import pytest

from xaikit.studies.informer_qc.text import best_pair, localisation_text, model_text, summary_text, verdict

INFORMERS = ["informer_input_x_gradient", "informer_lrp"]


def _means(ixg, lrp, entropy, tta, no_qc=0.5):
    return pd.Series({"no_qc": no_qc, "informer_input_x_gradient": ixg, "informer_lrp": lrp, "entropy": entropy,
                      "tta": tta})


@pytest.mark.parametrize("diff,p,word", [(0.02, 0.01, "beats"), (0.02, 0.2, "does not beat"),
                                         (-0.02, 0.01, "does not beat"), (0.0, 0.0, "does not beat")])
def test_verdict_needs_a_higher_mean_and_significance(diff, p, word):
    assert verdict(diff, p) == word


def test_best_pair_takes_the_highest_mean_and_the_first_on_ties():
    assert best_pair(_means(0.6, 0.7, 0.65, 0.64), INFORMERS) == ("informer_lrp", "entropy")
    assert best_pair(_means(0.6, 0.6, 0.64, 0.64), INFORMERS) == ("informer_input_x_gradient", "entropy")


def test_summary_text_reads_the_best_pair_and_its_test():
    tests = pd.DataFrame({"method": ["informer_lrp", "informer_lrp"], "baseline": ["entropy", "tta"],
                          "p": [0.003, 0.5]})
    text = summary_text(_means(0.6, 0.7, 0.65, 0.64), tests, {"informer_lrp": 3, "entropy": 5}, INFORMERS,
                        n_test=78, n_boot=30)
    assert "INFORMER_lrp reaches 0.700 and the best baseline, Pred. Entropy, 0.650: INFORMER beats it" in text
    assert "(difference +0.050; paired t-test over 30 bootstrapped sets p = 0.003)" in text
    assert "(78 images)" in text and "INFORMER_lrp 3, Pred. Entropy 5." in text


def test_localisation_text_with_and_without_masks():
    assert localisation_text(pd.DataFrame()) == "No masks: the localisation check was not run."
    loc = pd.DataFrame({"method": "informer_lrp", "flagged": [True, True, False, False, False],
                        "hit": [True, False, True, True, False]})
    text = localisation_text(loc)
    assert "in 50% of 2 cases, unflagged ones in 67% of 3" in text
    only_unflagged = loc.assign(flagged=False)
    assert "in nan% of 0 cases" in localisation_text(only_unflagged)


def test_model_text_says_where_the_model_came_from():
    class Fit:
        from_cache, seconds = False, 12.3
    text = model_text("smallcnn", "trained from scratch", 10, 64, "cpu", Fit, {"validation": 0.71, "test": 0.69},
                      {"val_auc": 0.806, "test_auc": 0.796})
    assert "smallcnn, trained from scratch, 10 epoch(s) at 64 px on cpu (12 s)" in text
    Fit.from_cache = True
    assert "loaded from the cache" in model_text("a", "b", 1, 32, "cpu", Fit, {"validation": np.nan, "test": 0.5},
                                                 {"val_auc": 0.8, "test_auc": 0.8})
