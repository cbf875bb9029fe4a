"""The classifier recipe studies 1 and 4 share: the phantom's split and the training configuration, built from the
same parameters. With equal values the two studies train identical models from identical data, so the atlas
(study 4) loads study 1's trained models from the model cache instead of training them again."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["VAL_SHARE", "classifier_config", "split_fractions"]

#: The validation share of a phantom's split (the checkpoint and early stopping are chosen on it).
VAL_SHARE = 0.2


def split_fractions(test_share: float) -> tuple[float, float, float]:
    """Train / validation / test fractions of a phantom: ``test_share`` held out for testing, ``VAL_SHARE`` for
    validation, the rest for training.

    Examples
    --------
    >>> split_fractions(0.2)
    (0.6, 0.2, 0.2)
    """
    if not 0.0 < test_share < 1.0 - VAL_SHARE:
        raise ValueError(f"test_share must lie in (0, {1.0 - VAL_SHARE:g}) (validation takes {VAL_SHARE:g}), "
                         f"got {test_share!r}")
    return (round(1.0 - VAL_SHARE - test_share, 10), VAL_SHARE, float(test_share))


def classifier_config(p: Mapping[str, Any], seed: int):
    """The :class:`~xaikit.train.TrainConfig` of a study's classifiers: ``epochs`` (a cap with early stopping),
    ``batch_size``, ``optimizer`` (default Adam), ``lr``, ``momentum`` (default 0.9, used by SGD), the checkpoint
    with the lowest validation cross-entropy (paper 003), and with ``early_stopping`` > 0 a stop once the
    validation loss has not improved for that many epochs."""
    from ..train import TrainConfig

    extra = dict(early_stopping=p["early_stopping"], monitor="val_loss") if p.get("early_stopping") else {}
    return TrainConfig(epochs=p["epochs"], batch_size=p["batch_size"], optimizer=p.get("optimizer", "adam"),
                       lr=p["lr"], momentum=p.get("momentum", 0.9), seed=seed, device=p["device"], select="val_loss",
                       **extra)
