"""Concept bottlenecks and surrogate trees against the phantom generator's truth and analytic cases."""
import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from xaikit._seed import seeded
from xaikit.data import FINDINGS, chest_covid, chest_multilabel
from xaikit.interpret import (
    ZONES,
    ConceptBottleneck,
    concept_accuracy,
    fit_concept_bottleneck,
    fit_surrogate,
    intervention_curve,
    phantom_concepts,
)

ZONE_COLS = [f"lesion_{z}" for z in ZONES]


@pytest.fixture(scope="module")
def chest():
    return chest_covid(40, image_size=32, seed=3)


def test_phantom_concepts_follow_the_masks(chest):
    c = phantom_concepts(chest)
    # The label is exactly "some zone holds an opacity"; counts and areas are zero exactly for healthy images.
    np.testing.assert_array_equal(c[ZONE_COLS].any(axis=1).to_numpy(), chest.labels == 1)
    np.testing.assert_array_equal(c["n_lesions"].to_numpy() > 0, chest.labels == 1)
    # Independent check of one zone: opacity pixels left of the lungs' mean column and above their median row.
    i = int(np.flatnonzero(chest.labels == 1)[0])
    rows, cols = np.nonzero(chest.organ_masks[i, 0])
    les_r, les_c = np.nonzero(chest.masks[i, 0])
    expect = bool(((les_c < cols.mean()) & (les_r < np.median(rows))).any())
    assert c.loc[i, "lesion_right_upper"] == expect
    with pytest.raises(ValueError, match="ds must be a single-label lesion phantom"):
        phantom_concepts(dataclasses.replace(chest, organ_masks=None))


def _or_head_cbm(n_concepts: int) -> ConceptBottleneck:
    """A bottleneck whose task head is exactly OR of its binary concepts (class 1 iff any concept is 1)."""
    with seeded(0):
        cbm = ConceptBottleneck(nn.Sequential(nn.Flatten(), nn.Linear(32 * 32, n_concepts)), n_concepts, 2)
    with torch.no_grad():
        cbm.head.weight.copy_(torch.tensor([[0.0] * n_concepts, [10.0] * n_concepts]))
        cbm.head.bias.copy_(torch.tensor([0.0, -5.0]))
    return cbm.eval()


def test_intervention_with_true_concepts_recovers_every_label(chest):
    cbm = _or_head_cbm(len(ZONES))
    x = torch.from_numpy(chest.images)
    c = torch.tensor(phantom_concepts(chest)[ZONE_COLS].to_numpy())
    y = torch.from_numpy(chest.labels)
    curve = intervention_curve(cbm, x, c, y)
    assert list(curve["n_intervened"]) == list(range(len(ZONES) + 1))
    assert curve["accuracy"].iloc[-1] == 1.0  # the head is exactly OR: true concepts give the true label
    assert curve["accuracy"].iloc[0] < 1.0  # an untrained concept net does not
    with pytest.raises(ValueError, match="order must list distinct concept indices"):
        intervention_curve(cbm, x, c, y, order=[0, 0])


def test_joint_training_learns_concepts_and_task():
    # Concept k: quadrant k is bright. Task: class 1 iff quadrant 0 or 3 is bright (a function of the concepts).
    gen = torch.Generator().manual_seed(0)
    c = (torch.rand(256, 4, generator=gen) < 0.4).float()
    x = 0.1 * torch.rand(256, 1, 8, 8, generator=gen)
    for k, (r, q) in enumerate([(0, 0), (0, 4), (4, 0), (4, 4)]):
        x[:, 0, r:r + 4, q:q + 4] += 0.8 * c[:, k, None, None]
    y = ((c[:, 0] + c[:, 3]) > 0).long()
    with seeded(1):
        cbm = ConceptBottleneck(nn.Sequential(nn.Flatten(), nn.Linear(64, 4)), 4, 2)
    fit_concept_bottleneck(cbm, x[:192], c[:192], y[:192], epochs=150, batch_size=192, lr=0.1, seed=0)
    assert (concept_accuracy(cbm, x[192:], c[192:]) >= 0.95).all()
    curve = intervention_curve(cbm, x[192:], c[192:], y[192:])
    assert curve["accuracy"].iloc[0] >= 0.95 and curve["accuracy"].iloc[-1] >= 0.95
    with pytest.raises(ValueError, match="epochs of fit_concept_bottleneck"):
        fit_concept_bottleneck(cbm, x, c, y, epochs=0)


def test_surrogate_recovers_a_threshold_rule():
    rng = np.random.default_rng(0)
    f = pd.DataFrame({"a": rng.random(300), "b": rng.random(300), "c": rng.integers(0, 2, 300)})
    s = fit_surrogate(f, (f["b"] > 0.3).astype(int), true_features=["b"], max_depth=3)
    assert s.used == ("b",) and s.fidelity == 1.0 and s.n_leaves == 2 and s.depth == 1
    b = np.sort(f["b"].to_numpy())
    lo, hi = b[b <= 0.3].max(), b[b > 0.3].min()  # the tree can only place its threshold in this gap
    assert lo <= s.tree.tree_.threshold[0] <= hi
    assert s.recall == 1.0 and s.precision == 1.0


def test_surrogate_of_the_generator_names_lesion_features_not_the_heart(chest):
    c = phantom_concepts(chest).astype(float)
    s = fit_surrogate(c, chest.labels, true_features=[*ZONE_COLS, "n_lesions", "lesion_area"], max_depth=4)
    assert s.fidelity == 1.0 and s.precision == 1.0 and "ctr" not in s.used
    # A held-out fidelity and size controls reach the tree.
    half = len(c) // 2
    held = fit_surrogate(c.iloc[:half], chest.labels[:half], eval_features=c.iloc[half:],
                         eval_predictions=chest.labels[half:], max_depth=1)
    assert held.depth <= 1 and 0.0 <= held.fidelity <= 1.0
    with pytest.raises(ValueError, match="true_features must be columns"):
        fit_surrogate(c, chest.labels, true_features=["heart"])
    with pytest.raises(ValueError, match="max_depth of fit_surrogate"):
        fit_surrogate(c, chest.labels, max_depth=0)


def test_surrogate_finds_the_generators_cardiomegaly_threshold():
    ds = chest_multilabel(60, image_size=32, seed=2)
    c = phantom_concepts(ds)
    assert list(c.columns) == ["ctr", *[f"{f}_area" for f in FINDINGS]]
    feats = c.drop(columns="cardiomegaly_area")  # the heart mask's area would be a second, redundant truth
    s = fit_surrogate(feats, ds.labels[:, 0], true_features=["ctr"], max_depth=2)
    # The generator draws cardiomegaly hearts with a ratio >= 0.505 (default preset), the others <= 0.485.
    assert s.used == ("ctr",) and s.fidelity == 1.0 and s.n_leaves == 2
    assert 0.485 <= s.tree.tree_.threshold[0] <= 0.505
