"""Training configuration: one frozen dataclass, validated on construction, hashed into the cache key."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .._validation import check_float, check_int, check_option

__all__ = ["TrainConfig", "SELECT_METRICS", "MONITOR_METRICS"]

#: How ``select`` picks the kept checkpoint (lower loss, higher accuracy/AUC, or the last epoch).
SELECT_METRICS = ("val_loss", "val_accuracy", "val_auc", "last")
#: What LR-on-plateau and early stopping watch.
MONITOR_METRICS = ("val_loss", "val_accuracy", "val_auc")
# Fields that change how training is shown, not what it produces; left out of the cache key.
_NOT_HASHED = ("progress", "device")


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; defaults follow paper 003 (SGD, lr 1e-3, momentum 0.9, batch 64, lowest val loss).

    Parameters
    ----------
    epochs : maximum number of epochs.
    batch_size : training and evaluation batch size. A final training batch of one sample is
        dropped (BatchNorm cannot train on it).
    optimizer : "sgd" (with ``momentum``) or "adam" (with ``amsgrad``).
    lr, momentum, weight_decay, amsgrad : optimizer settings.
    task : "single_label" (softmax cross-entropy, integer labels (N,)) or "multi_label"
        (sigmoid binary cross-entropy, float {0, 1} labels (N, K)).
    select : the checkpoint returned: lowest "val_loss" (paper 003), highest "val_accuracy"
        (paper 004's ModelCheckpoint), highest "val_auc" (macro), or the "last" epoch.
    scheduler : "none" or "plateau" (``ReduceLROnPlateau`` on ``monitor``: multiply the learning
        rate by ``plateau_factor`` after ``plateau_patience`` epochs without an improvement larger
        than 1e-4, never below ``min_lr``; Keras semantics, as paper 004).
    early_stopping : stop after this many epochs without an improvement of ``monitor``; 0 = off.
    monitor : what the scheduler and early stopping watch.
    augment : name of a training augmentation pipeline (see ``xaikit.train.AUGMENTATIONS``).
    seed : seeds the shuffling, the augmentations and every global-RNG draw (dropout) per epoch.
    device : "auto" (CUDA when available), "cpu" or "cuda".
    amp, channels_last : mixed precision (bfloat16 where supported, else float16 with gradient
        scaling) and channels-last memory layout; used on CUDA only.
    progress : show a tqdm bar with the running loss and the validation metrics.

    Examples
    --------
    >>> TrainConfig(epochs=50, batch_size=64, optimizer="sgd", lr=1e-3, momentum=0.9).select
    'val_loss'
    >>> TrainConfig(optimizer="adma")
    Traceback (most recent call last):
    ...
    ValueError: optimizer of TrainConfig must be one of 'sgd', 'adam'; got 'adma'. Did you mean 'adam'?
    """

    epochs: int = 5
    batch_size: int = 64
    optimizer: str = "sgd"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    amsgrad: bool = False
    task: str = "single_label"
    select: str = "val_loss"
    scheduler: str = "none"
    plateau_factor: float = 0.5
    plateau_patience: int = 3
    min_lr: float = 0.0
    early_stopping: int = 0
    monitor: str = "val_loss"
    augment: str = "none"
    seed: int = 42
    device: str = "auto"
    amp: bool = True
    channels_last: bool = True
    progress: bool = False

    def __post_init__(self) -> None:
        from ._augment import AUGMENTATIONS

        ctx = "TrainConfig"
        check_int("epochs", self.epochs, min_value=1, context=ctx)
        check_int("batch_size", self.batch_size, min_value=1, context=ctx)
        check_option("optimizer", self.optimizer, ("sgd", "adam"), context=ctx)
        check_float("lr", self.lr, min_value=0.0, context=ctx)
        check_float("momentum", self.momentum, min_value=0.0, max_value=1.0, context=ctx)
        check_float("weight_decay", self.weight_decay, min_value=0.0, context=ctx)
        check_option("task", self.task, ("single_label", "multi_label"), context=ctx)
        check_option("select", self.select, SELECT_METRICS, context=ctx)
        check_option("scheduler", self.scheduler, ("none", "plateau"), context=ctx)
        check_float("plateau_factor", self.plateau_factor, min_value=0.0, max_value=1.0, context=ctx)
        check_int("plateau_patience", self.plateau_patience, min_value=0, context=ctx)
        check_float("min_lr", self.min_lr, min_value=0.0, context=ctx)
        check_int("early_stopping", self.early_stopping, min_value=0, context=ctx)
        check_option("monitor", self.monitor, MONITOR_METRICS, context=ctx)
        check_option("augment", self.augment, sorted(AUGMENTATIONS), context=ctx)
        check_int("seed", self.seed, min_value=0, context=ctx)
        check_option("device", self.device, ("auto", "cpu", "cuda"), context=ctx)
        for flag in ("amsgrad", "amp", "channels_last", "progress"):
            check_option(flag, getattr(self, flag), (True, False), context=ctx)

    def to_dict(self) -> dict:
        """All fields as a plain dict."""
        return asdict(self)

    def hashed_fields(self) -> dict:
        """The fields that determine the trained weights (all but ``progress`` and ``device``)."""
        return {k: v for k, v in asdict(self).items() if k not in _NOT_HASHED}
