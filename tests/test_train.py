import numpy as np
import pytest
import torch

from xaikit._seed import seeded
from xaikit.models import create_model
from xaikit.train import TrainConfig, fit, state_hash


def _toy(n, seed):
    """Two classes: a bright square in the left or right half of a noisy 16x16 image."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 16, 16, generator=g) * 0.2
    y = torch.randint(0, 2, (n,), generator=g)
    x[y == 0, :, 6:10, 2:6] += 0.8
    x[y == 1, :, 6:10, 10:14] += 0.8
    return x, y


def _fit(seed=0, epochs=3):
    with seeded(seed):
        model = create_model("smallcnn", 1, 2)
    cfg = TrainConfig(epochs=epochs, batch_size=16, optimizer="adam", lr=1e-2, seed=seed, device="cpu")
    return fit(model, _toy(128, 1), _toy(64, 2), cfg)


def test_fit_is_deterministic_on_cpu():
    a, b = _fit(), _fit()
    assert state_hash(a.model) == state_hash(b.model)
    np.testing.assert_array_equal(a.history["val_loss"], b.history["val_loss"])
    assert state_hash(_fit(seed=1).model) != state_hash(a.model)


def test_fit_learns_and_keeps_lowest_validation_loss():
    res = _fit(epochs=4)
    hist = res.history
    assert list(hist["epoch"]) == [1, 2, 3, 4]
    assert res.best_epoch == int(hist.loc[hist["val_loss"].idxmin(), "epoch"])
    assert hist["val_accuracy"].max() > 0.9  # the toy task is linearly separable


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="optimizer of TrainConfig must be one of 'sgd', 'adam'.*Did you mean 'adam'"):
        TrainConfig(optimizer="adma")
    with pytest.raises(ValueError, match="epochs of TrainConfig must be an int >= 1"):
        TrainConfig(epochs=0)
