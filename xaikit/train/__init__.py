"""Training with a content-addressed model cache and resumable checkpoints, augmentation, evaluation.

Examples
--------
>>> from xaikit.train import TrainConfig, train_cached
>>> config = TrainConfig(epochs=3, batch_size=32, optimizer="sgd", lr=1e-3, momentum=0.9, seed=0)
"""
from ._augment import AUGMENTATIONS, Augment, get_augmentation, per_sample
from ._cache import CACHE_FORMAT, CacheLockTimeout, cache_key, default_cache_dir, train_cached, training_log
from ._checkpoint import CacheWarning
from ._config import TrainConfig
from ._evaluate import confusion_matrix, evaluate, evaluate_logits, roc_auc, youden_thresholds
from ._fit import FitResult, fit, resolve_device, state_hash
from ._predict import predict_logits

__all__ = ["AUGMENTATIONS", "Augment", "CACHE_FORMAT", "CacheLockTimeout", "CacheWarning", "FitResult",
           "TrainConfig", "cache_key", "confusion_matrix", "default_cache_dir", "evaluate", "evaluate_logits",
           "fit", "get_augmentation", "per_sample", "predict_logits", "resolve_device", "roc_auc", "state_hash",
           "train_cached", "training_log", "youden_thresholds"]
