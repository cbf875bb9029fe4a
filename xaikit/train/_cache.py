"""A content-addressed cache of trained models, with resumable per-epoch checkpoints.

The key is a SHA-256 of the model spec (architecture, channels, classes, initialisation seed,
the SHA-256 of any starting weights), the training and validation data fingerprints, every
training setting that changes the weights (:meth:`TrainConfig.hashed_fields`, the augmentation
pipeline's definition, the device type) and :data:`CACHE_FORMAT`. One entry is a folder::

    <cache_dir>/models/<arch>-<key>/
        weights.pt      the selected state_dict (plain ``torch.save``; ``create_model(weights=...)`` reads it)
        entry.json      written last: SHA-256 of weights.pt, the spec, history, best epoch, versions
        checkpoint.pt   while training: the state after the last finished epoch (checksummed)

Every file is written atomically (temporary file + rename). An entry whose ``entry.json`` is
missing, unreadable, from another format or key, or whose ``weights.pt`` fails its checksum or
does not fit the model is never loaded: it is deleted with a :class:`CacheWarning` and the model
is retrained (resuming from ``checkpoint.pt`` when a valid one is there).

With the environment variable ``XAIKIT_CACHE_ONLY=1`` (what ``make figures`` sets), a model that
is not in the cache is never trained: :func:`train_cached` raises ``CacheMissError`` (a ``FileNotFoundError``) instead.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import torch

from .._seed import seeded
from ._augment import get_augmentation
from ._checkpoint import CacheWarning
from ._config import TrainConfig
from ._fit import EpochCallback, FitResult, fit, resolve_device

__all__ = ["CACHE_FORMAT", "CacheMissError", "cache_key", "cache_only", "default_cache_dir", "train_cached"]

#: Bump when the entry layout or anything that changes trained weights for the same key changes.
CACHE_FORMAT = 1


class CacheMissError(FileNotFoundError):
    """A model had to be trained while training is forbidden (``XAIKIT_CACHE_ONLY=1``)."""


def cache_only() -> bool:
    """Whether ``$XAIKIT_CACHE_ONLY`` forbids training: true for ``1``, ``true``, ``yes`` or ``on`` (any case)."""
    return os.environ.get("XAIKIT_CACHE_ONLY", "").strip().lower() in ("1", "true", "yes", "on")


def default_cache_dir() -> Path:
    """``$XAIKIT_CACHE_DIR``, else ``<compendium root>/data/cache`` (root: ``$XAIKIT_ROOT`` or the checkout)."""
    if os.environ.get("XAIKIT_CACHE_DIR"):
        return Path(os.environ["XAIKIT_CACHE_DIR"])
    root = Path(os.environ.get("XAIKIT_ROOT", Path(__file__).resolve().parents[2]))
    return root / "data" / "cache"


def _fingerprint(data) -> str:
    """An ImageSet's own fingerprint, or a SHA-256 of an ``(x, y)`` pair of tensors/arrays."""
    if hasattr(data, "fingerprint") and hasattr(data, "tensors"):
        return f"imageset:{data.fingerprint()}"
    h = hashlib.sha256()
    for t in data:
        t = torch.as_tensor(t).detach().cpu().contiguous()
        h.update(f"{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return f"tensors:{h.hexdigest()[:16]}"


def _tensors(data) -> tuple[torch.Tensor, torch.Tensor]:
    return data.tensors() if hasattr(data, "tensors") else tuple(torch.as_tensor(t) for t in data)


def cache_key(spec: dict) -> str:
    """The 20-hex-digit SHA-256 of a JSON-serialisable spec (sorted keys), with :data:`CACHE_FORMAT` mixed in.

    Examples
    --------
    >>> cache_key({"arch": "tinycnn"}) == cache_key({"arch": "tinycnn"})
    True
    """
    text = json.dumps({"cache_format": CACHE_FORMAT, **spec}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _load_entry(entry: Path, key: str, model: torch.nn.Module) -> tuple[pd.DataFrame, int, dict] | None:
    meta_path, weights_path = entry / "entry.json", entry / "weights.pt"
    if not meta_path.exists():
        if weights_path.exists():
            warnings.warn(f"cache entry {str(entry)!r} is partial (no entry.json); retraining", CacheWarning,
                          stacklevel=3)
            weights_path.unlink(missing_ok=True)
        return None
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("cache_format") != CACHE_FORMAT or meta.get("key") != key:
            raise ValueError(f"format/key {meta.get('cache_format')}/{meta.get('key')} != {CACHE_FORMAT}/{key}")
        data = weights_path.read_bytes()
        if _sha256(data) != meta["weights_sha256"]:
            raise ValueError("weights.pt does not match its SHA-256 in entry.json")
        model.load_state_dict(torch.load(io.BytesIO(data), map_location="cpu", weights_only=True))
        history = pd.DataFrame(meta["history"])
        return history, int(meta["best_epoch"]), meta
    except Exception as err:  # noqa: BLE001  (whatever is wrong, never load it)
        warnings.warn(f"cache entry {str(entry)!r} is corrupt ({type(err).__name__}: {err}); deleted, retraining",
                      CacheWarning, stacklevel=3)
        meta_path.unlink(missing_ok=True)
        weights_path.unlink(missing_ok=True)
        return None


def _write_entry(entry: Path, key: str, spec: dict, result: FitResult) -> None:
    from .._io import atomic_write_bytes

    buf = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in result.model.state_dict().items()}, buf)
    data = buf.getvalue()
    atomic_write_bytes(entry / "weights.pt", data)
    meta = {"cache_format": CACHE_FORMAT, "key": key, "weights_sha256": _sha256(data), "spec": spec,
            "best_epoch": result.best_epoch, "train_seconds": result.seconds, "stopped_early": result.stopped_early,
            "history": result.history.to_dict(orient="records"),
            "versions": {"torch": torch.__version__, "python": platform.python_version()},
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    atomic_write_bytes(entry / "entry.json", (json.dumps(meta, indent=1, default=str) + "\n").encode())


def train_cached(arch: str, in_channels: int, num_classes: int, train_set, val_set,
                 config: TrainConfig = TrainConfig(), *, cache_dir: str | Path | None = None,
                 weights: str | Path | None = None, init_seed: int | None = None,
                 callbacks: Sequence[EpochCallback] = (), refresh: bool = False) -> FitResult:
    """Build ``arch`` under a seed, then load it from the cache or train it with :func:`fit` and cache it.

    Parameters
    ----------
    arch, in_channels, num_classes : passed to :func:`xaikit.models.create_model`.
    train_set, val_set : :class:`xaikit.data.ImageSet` (fingerprinted with ``.fingerprint()``) or
        ``(x, y)`` pairs (fingerprinted by hashing the tensors).
    config : a :class:`TrainConfig`.
    cache_dir : the cache root (default :func:`default_cache_dir`, i.e. ``data/cache``); entries
        live under ``<cache_dir>/models/``.
    weights : optional local starting weights; their SHA-256 enters the key.
    init_seed : seed of the model's initialisation (default ``config.seed``), as
        ``with seeded(init_seed): create_model(...)``.
    callbacks : passed to :func:`fit` (not part of the key).
    refresh : ignore (and overwrite) an existing entry.

    Raises
    ------
    CacheMissError
        When ``$XAIKIT_CACHE_ONLY`` is set (see ``cache_only``) and the model is not in the
        cache (or ``refresh`` asks to retrain it): nothing is trained.

    Returns
    -------
    FitResult with ``from_cache=True`` and the stored history when the entry was loaded (no
    training), else the fresh result (``resumed_from > 0`` when an interrupted run was resumed).
    ``key`` is the cache key; ``seconds`` the wall time of this call.

    Examples
    --------
    >>> import tempfile
    >>> x, y = torch.rand(16, 1, 8, 8), torch.arange(16) % 2
    >>> cfg = TrainConfig(epochs=1, batch_size=8, device="cpu")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     first = train_cached("tinycnn", 1, 2, (x, y), (x, y), cfg, cache_dir=d)
    ...     again = train_cached("tinycnn", 1, 2, (x, y), (x, y), cfg, cache_dir=d)
    >>> first.from_cache, again.from_cache
    (False, True)
    """
    from ..models import create_model

    t0 = time.perf_counter()
    init_seed = config.seed if init_seed is None else init_seed
    device = resolve_device(config.device)
    augment = get_augmentation(config.augment)
    spec = {
        "model": {"arch": arch, "in_channels": in_channels, "num_classes": num_classes, "init_seed": init_seed,
                  "weights_sha256": None if weights is None else _sha256(Path(weights).read_bytes())},
        "data": {"train": _fingerprint(train_set), "val": _fingerprint(val_set)},
        "config": config.hashed_fields(), "augment_pipeline": repr(augment), "device_type": device.type,
    }
    key = cache_key(spec)
    entry = Path(cache_dir if cache_dir is not None else default_cache_dir()) / "models" / f"{arch}-{key}"
    with seeded(init_seed):
        model = create_model(arch, in_channels, num_classes, weights=weights)
    if refresh:
        (entry / "checkpoint.pt").unlink(missing_ok=True)
    else:
        hit = _load_entry(entry, key, model)
        if hit is not None:
            history, best_epoch, meta = hit
            return FitResult(model=model.to(device).eval(), history=history, best_epoch=best_epoch,
                             seconds=time.perf_counter() - t0, from_cache=True, resumed_from=0,
                             stopped_early=bool(meta.get("stopped_early", False)), key=key)
    if cache_only():
        raise CacheMissError(
            f"XAIKIT_CACHE_ONLY is set, so {arch!r} is not trained, but it is not in the cache: no valid entry at "
            f"{str(entry)!r} (key {key}; the key covers the architecture, the data fingerprints, the training "
            "config and the device type)")
    result = fit(model, _tensors(train_set), _tensors(val_set), config, checkpoint=entry / "checkpoint.pt",
                 callbacks=callbacks, run_key=key)
    _write_entry(entry, key, spec, result)
    (entry / "checkpoint.pt").unlink(missing_ok=True)
    result.seconds = time.perf_counter() - t0
    return result
