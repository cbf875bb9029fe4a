"""Evaluation metrics equal scikit-learn's on random data; Youden thresholds equal the ROC-curve argmax."""
import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from xaikit.train import confusion_matrix, evaluate, evaluate_logits, roc_auc, youden_thresholds


def _table(df):
    return {(m, c): v for m, c, v in df.itertuples(index=False)}


@pytest.mark.parametrize("k,seed", [(2, 0), (2, 1), (4, 2), (5, 3)])
def test_single_label_metrics_equal_sklearn(k, seed):
    rng = np.random.default_rng(seed)
    n = 300
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) * 2 + np.eye(k)[y] * rng.uniform(0, 2)  # informative, not perfect
    t = _table(evaluate_logits(torch.from_numpy(y), torch.from_numpy(logits)))
    prob = np.exp(logits - logits.max(1, keepdims=True))
    prob /= prob.sum(1, keepdims=True)
    pred = logits.argmax(1)
    labels = list(range(k))
    close = dict(rel=1e-10, abs=1e-12)
    assert t[("accuracy", "all")] == pytest.approx(skm.accuracy_score(y, pred), **close)
    assert t[("balanced_accuracy", "all")] == pytest.approx(skm.balanced_accuracy_score(y, pred), **close)
    assert t[("cohen_kappa", "all")] == pytest.approx(skm.cohen_kappa_score(y, pred), **close)
    assert t[("mcc", "all")] == pytest.approx(skm.matthews_corrcoef(y, pred), **close)
    assert t[("log_loss", "all")] == pytest.approx(skm.log_loss(y, prob, labels=labels), rel=1e-9)
    assert t[("loss", "all")] == pytest.approx(
        float(torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(y))), rel=1e-9)
    f1 = skm.f1_score(y, pred, labels=labels, average=None, zero_division=0)
    prec = skm.precision_score(y, pred, labels=labels, average=None, zero_division=0)
    sens = skm.recall_score(y, pred, labels=labels, average=None, zero_division=0)
    cm = skm.confusion_matrix(y, pred, labels=labels)
    spec = [(cm.sum() - cm[c].sum() - cm[:, c].sum() + cm[c, c]) / (cm.sum() - cm[c].sum()) for c in labels]
    auc = [skm.roc_auc_score(y == c, prob[:, c]) for c in labels]
    for c in labels:
        assert t[("f1", str(c))] == pytest.approx(f1[c], **close)
        assert t[("precision", str(c))] == pytest.approx(prec[c], **close)
        assert t[("sensitivity", str(c))] == pytest.approx(sens[c], **close)
        assert t[("specificity", str(c))] == pytest.approx(spec[c], **close)
        assert t[("roc_auc", str(c))] == pytest.approx(auc[c], **close)
    assert t[("f1", "macro")] == pytest.approx(skm.f1_score(y, pred, average="macro"), **close)
    macro_auc = skm.roc_auc_score(y, prob[:, 1]) if k == 2 else skm.roc_auc_score(y, prob, multi_class="ovr")
    assert t[("roc_auc", "macro")] == pytest.approx(macro_auc, **close)
    if k == 2:  # class 1's rows are the usual positive-class numbers
        assert t[("sensitivity", "1")] == pytest.approx(skm.recall_score(y, pred), **close)
        assert t[("f1", "1")] == pytest.approx(skm.f1_score(y, pred), **close)
    np.testing.assert_array_equal(confusion_matrix(y, pred, k), cm)


def test_multilabel_metrics_with_youden_thresholds_equal_sklearn():
    rng = np.random.default_rng(7)
    n, k = 400, 5
    y = rng.random((n, k)) < [0.1, 0.3, 0.5, 0.2, 0.4]
    logits = rng.normal(size=(n, k)) + 1.5 * y
    prob = 1 / (1 + np.exp(-logits))
    thr = youden_thresholds(y[:200], prob[:200])  # "validation" half
    t = _table(evaluate_logits(y[200:], logits[200:], task="multi_label", thresholds=thr,
                               class_names=list("abcde")))
    yt, pt = y[200:], prob[200:]
    pred = pt >= thr
    close = dict(rel=1e-10, abs=1e-12)
    for c, name in enumerate("abcde"):
        assert t[("threshold", name)] == thr[c]
        assert t[("roc_auc", name)] == pytest.approx(skm.roc_auc_score(yt[:, c], pt[:, c]), **close)
        assert t[("f1", name)] == pytest.approx(skm.f1_score(yt[:, c], pred[:, c]), **close)
        assert t[("sensitivity", name)] == pytest.approx(skm.recall_score(yt[:, c], pred[:, c]), **close)
        assert t[("specificity", name)] == pytest.approx(skm.recall_score(~yt[:, c], ~pred[:, c]), **close)
        assert t[("cohen_kappa", name)] == pytest.approx(skm.cohen_kappa_score(yt[:, c], pred[:, c]), **close)
        assert t[("mcc", name)] == pytest.approx(skm.matthews_corrcoef(yt[:, c], pred[:, c]), **close)
        assert t[("balanced_accuracy", name)] == pytest.approx(
            skm.balanced_accuracy_score(yt[:, c], pred[:, c]), **close)
        assert t[("log_loss", name)] == pytest.approx(skm.log_loss(yt[:, c], pt[:, c], labels=[0, 1]), rel=1e-9)
    assert t[("roc_auc", "macro")] == pytest.approx(skm.roc_auc_score(yt, pt, average="macro"), **close)
    assert t[("f1", "macro")] == pytest.approx(skm.f1_score(yt, pred, average="macro"), **close)
    assert t[("subset_accuracy", "all")] == pytest.approx(skm.accuracy_score(yt, pred), **close)
    assert t[("loss", "all")] == pytest.approx(float(torch.nn.functional.binary_cross_entropy_with_logits(
        torch.from_numpy(logits[200:]), torch.from_numpy(yt).double())), rel=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_youden_threshold_is_the_first_argmax_of_sklearns_roc_curve(seed):
    rng = np.random.default_rng(seed)
    y = rng.random(60) < 0.4
    s = np.round(rng.random(60) + 0.4 * y, 1)  # rounding makes ties
    fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=False)
    assert youden_thresholds(y, s)[0] == thr[np.argmax(tpr - fpr)]
    assert roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), rel=1e-12)


def test_undefined_cases_are_nan_not_errors():
    assert np.isnan(roc_auc([1, 1, 1], [0.1, 0.2, 0.3]))
    assert np.isnan(youden_thresholds([[1], [1]], [[0.2], [0.7]])[0])
    t = _table(evaluate_logits(torch.tensor([0, 0, 0]), torch.randn(3, 2)))
    assert np.isnan(t[("roc_auc", "0")]) and np.isnan(t[("roc_auc", "macro")])
    with pytest.raises(ValueError, match="class indices in"):
        evaluate_logits(torch.tensor([0, 2]), torch.randn(2, 2))
    with pytest.raises(ValueError, match="thresholds must have one value per class"):
        evaluate_logits(np.zeros((2, 3)), np.zeros((2, 3)), task="multi_label", thresholds=[0.5])
    with pytest.raises(ValueError, match="task of evaluate_logits must be one of"):
        evaluate_logits([0], [[0.0, 1.0]], task="multilabel")


def test_evaluate_runs_the_model_in_eval_mode():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(0.9), torch.nn.Linear(4, 2))
    x, y = torch.rand(8, 1, 2, 2), torch.arange(8) % 2
    a, b = evaluate(model, x, y), evaluate(model, x, y)
    assert a.equals(b) and model.training  # deterministic (dropout off) and the mode is restored
