"""A content-addressed cache of trained models, with resumable per-epoch checkpoints.

The key is a SHA-256 of the model spec (architecture, channels, classes, initialisation seed,
the SHA-256 of any starting weights), the training and validation data fingerprints, every
training setting that changes the weights (:meth:`TrainConfig.hashed_fields`, the augmentation
pipeline's definition, the device type) and ``CACHE_FORMAT``. One entry is a folder::

    <cache_dir>/models/<arch>-<key>/
        weights.pt      the selected state_dict (plain ``torch.save``; ``create_model(weights=...)`` reads it)
        entry.json      written last: SHA-256 of weights.pt, the spec, history, best epoch, versions
        checkpoint.pt   while training: the state after the last finished epoch (checksummed)

Every file is written atomically (temporary file + rename). An entry whose ``entry.json`` is
missing, unreadable, from another format or key, or whose ``weights.pt`` fails its checksum or
does not fit the model is never loaded: it is deleted with a :class:`CacheWarning` and the model
is retrained (resuming from ``checkpoint.pt`` when a valid one is there) from a freshly built
model, so a rejected entry never leaks into the weights that replace it.

Several processes may share one cache (a sweep's cells): every look-up and training of an entry
runs under an OS file lock, ``<cache_dir>/locks/<arch>-<key>.lock`` (``filelock.FileLock``, an
``flock`` that the kernel releases when its holder dies, so a killed process never leaves a stale
lock). The first process trains; the others wait and then load its entry. Each completed training
appends one JSON line to ``<cache_dir>/trainings.log`` (read it with :func:`training_log`).
Temporary files and checkpoints left by a killed process are removed under the lock.

With the environment variable ``XAIKIT_CACHE_ONLY=1`` (what ``make figures`` sets), a model that
is not in the cache is never trained: :func:`train_cached` raises ``CacheMissError`` (a ``FileNotFoundError``) instead.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import socket
import time
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import torch
from filelock import FileLock, Timeout

from .._seed import seeded
from ._augment import get_augmentation
from ._checkpoint import CacheWarning
from ._config import TrainConfig
from ._fit import EpochCallback, FitResult, fit, resolve_device

__all__ = ["CACHE_FORMAT", "CacheLockTimeout", "CacheMissError", "cache_key", "cache_only", "default_cache_dir",
           "train_cached", "training_log"]

#: Bump when the entry layout or anything that changes trained weights for the same key changes.
CACHE_FORMAT = 1


class CacheMissError(FileNotFoundError):
    """A model had to be trained while training is forbidden (``XAIKIT_CACHE_ONLY=1``)."""


class CacheLockTimeout(TimeoutError):
    """Another live process held a cache entry's lock for longer than ``lock_timeout``."""


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
    """The 20-hex-digit SHA-256 of a JSON-serialisable spec (sorted keys), with ``CACHE_FORMAT`` mixed in.

    Examples
    --------
    >>> cache_key({"arch": "tinycnn"}) == cache_key({"arch": "tinycnn"})
    True
    """
    text = json.dumps({"cache_format": CACHE_FORMAT, **spec}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_meta(meta, key: str) -> None:
    """Raise ``ValueError`` naming the first field of ``entry.json`` that is missing or of the wrong type."""
    if not isinstance(meta, dict):
        raise ValueError(f"entry.json must hold a JSON object, got {type(meta).__name__}")
    if meta.get("cache_format") != CACHE_FORMAT or meta.get("key") != key:
        raise ValueError(f"format/key {meta.get('cache_format')}/{meta.get('key')} != {CACHE_FORMAT}/{key}")
    sha = meta.get("weights_sha256")
    if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)):
        raise ValueError(f"entry.json field 'weights_sha256' must be 64 hex digits, got {sha!r:.80}")
    history = meta.get("history")
    if not (isinstance(history, list) and history and all(isinstance(r, dict) for r in history)):
        raise ValueError(f"entry.json field 'history' must be a non-empty list of objects (one per epoch), "
                         f"got {type(history).__name__}")
    best = meta.get("best_epoch")
    if isinstance(best, bool) or not isinstance(best, int) or not 1 <= best <= len(history):
        raise ValueError(f"entry.json field 'best_epoch' must be an int in [1, {len(history)}], got {best!r:.80}")
    if not isinstance(meta.get("stopped_early", False), bool):
        raise ValueError(f"entry.json field 'stopped_early' must be true or false, got {meta['stopped_early']!r:.80}")


def _load_entry(entry: Path, key: str, model: torch.nn.Module) -> tuple[pd.DataFrame, int, dict] | None:
    """The entry's history, best epoch and metadata, with its weights loaded into ``model``; ``None``
    (the entry deleted, ``model`` possibly changed: rebuild it) when the entry is absent or unusable."""
    meta_path, weights_path = entry / "entry.json", entry / "weights.pt"
    if not meta_path.exists():
        if weights_path.exists():
            warnings.warn(f"cache entry {str(entry)!r} is partial (no entry.json); retraining", CacheWarning,
                          stacklevel=3)
            weights_path.unlink(missing_ok=True)
        return None
    try:
        meta = json.loads(meta_path.read_text())
        _check_meta(meta, key)
        data = weights_path.read_bytes()
        if _sha256(data) != meta["weights_sha256"]:
            raise ValueError("weights.pt does not match its SHA-256 in entry.json")
        model.load_state_dict(torch.load(io.BytesIO(data), map_location="cpu", weights_only=True))
        history = pd.DataFrame(meta["history"])
        return history, int(meta["best_epoch"]), meta
    except Exception as err:  # noqa: BLE001  (whatever is wrong, never load it)
        first = (str(err).splitlines() or [""])[0]
        warnings.warn(f"cache entry {str(entry)!r} is corrupt ({type(err).__name__}: {first}); deleted, retraining",
                      CacheWarning, stacklevel=3)
        meta_path.unlink(missing_ok=True)
        weights_path.unlink(missing_ok=True)
        return None


def _remove_debris(entry: Path, *, checkpoint: bool) -> None:
    """Delete temporary files of interrupted atomic writes (and a leftover checkpoint) in ``entry``.

    Only called under the entry's lock, so no live writer owns them.
    """
    if not entry.is_dir():
        return
    for tmp in entry.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
    if checkpoint:
        (entry / "checkpoint.pt").unlink(missing_ok=True)


@contextmanager
def _entry_lock(cache_root: Path, name: str, timeout: float | None):
    """Hold ``<cache_root>/locks/<name>.lock`` (an OS lock, released by the kernel if the holder dies)."""
    lock_path = cache_root / "locks" / f"{name}.lock"
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only cache (figures from a shared copy): nobody can train into it
        yield
        return
    lock = FileLock(lock_path, timeout=-1 if timeout is None else timeout)
    try:
        lock.acquire()
    except Timeout:
        raise CacheLockTimeout(
            f"another process has held the cache lock {str(lock_path)!r} for over {timeout} s (it is training "
            "this entry; the OS releases the lock if that process dies, so the lock is not stale)") from None
    try:
        yield
    finally:
        lock.release()


def _log_training(cache_root: Path, key: str, arch: str, seconds: float, resumed_from: int) -> None:
    """Append one JSON line for a completed training (a single ``O_APPEND`` write, so lines never interleave)."""
    line = json.dumps({"key": key, "arch": arch, "pid": os.getpid(), "host": socket.gethostname(),
                       "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": round(seconds, 3),
                       "resumed_from": resumed_from}) + "\n"
    cache_root.mkdir(parents=True, exist_ok=True)
    fd = os.open(cache_root / "trainings.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def training_log(cache_dir: str | Path | None = None) -> list[dict]:
    """Every completed training recorded in ``<cache_dir>/trainings.log``, oldest first.

    One dict per training that :func:`train_cached` finished and cached: ``key``, ``arch``,
    ``pid``, ``host``, ``time``, ``seconds``, ``resumed_from``. Cache hits are not recorded, so the
    length of the list counts trainings (what a sweep uses to show that each model trained once).
    A line that cannot be decoded is skipped.

    Parameters
    ----------
    cache_dir : the cache root (default :func:`default_cache_dir`).

    Examples
    --------
    >>> import tempfile
    >>> x, y = torch.rand(16, 1, 8, 8), torch.arange(16) % 2
    >>> cfg = TrainConfig(epochs=1, batch_size=8, device="cpu")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = [train_cached("tinycnn", 1, 2, (x, y), (x, y), cfg, cache_dir=d) for _ in range(2)]
    ...     [row["arch"] for row in training_log(d)]
    ['tinycnn']
    """
    path = Path(cache_dir if cache_dir is not None else default_cache_dir()) / "trainings.log"
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


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
                 callbacks: Sequence[EpochCallback] = (), refresh: bool = False,
                 lock_timeout: float | None = None) -> FitResult:
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
    lock_timeout : seconds to wait for another process that holds this entry's lock (it is
        training the same model); ``None`` (default) waits as long as it takes. A killed holder
        releases the lock at once.

    Raises
    ------
    CacheMissError
        When ``$XAIKIT_CACHE_ONLY`` is set (see ``cache_only``) and the model is not in the
        cache (or ``refresh`` asks to retrain it): nothing is trained.
    CacheLockTimeout
        When another live process held the entry's lock for longer than ``lock_timeout``.

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
    root = Path(cache_dir if cache_dir is not None else default_cache_dir())
    entry = root / "models" / f"{arch}-{key}"

    def build() -> torch.nn.Module:
        with seeded(init_seed):
            return create_model(arch, in_channels, num_classes, weights=weights)

    model = build()
    with _entry_lock(root, entry.name, lock_timeout):
        if refresh:
            (entry / "checkpoint.pt").unlink(missing_ok=True)
        else:
            existed = (entry / "entry.json").exists()
            hit = _load_entry(entry, key, model)
            if hit is not None:
                _remove_debris(entry, checkpoint=True)  # a process killed after entry.json, before cleaning up
                history, best_epoch, meta = hit
                return FitResult(model=model.to(device).eval(), history=history, best_epoch=best_epoch,
                                 seconds=time.perf_counter() - t0, from_cache=True, resumed_from=0,
                                 stopped_early=bool(meta.get("stopped_early", False)), key=key)
            if existed:  # a rejected entry may have loaded some weights into it: never train from them
                model = build()
        if cache_only():
            raise CacheMissError(
                f"XAIKIT_CACHE_ONLY is set, so {arch!r} is not trained, but it is not in the cache: no valid entry "
                f"at {str(entry)!r} (key {key}; the key covers the architecture, the data fingerprints, the "
                "training config and the device type)")
        _remove_debris(entry, checkpoint=False)
        result = fit(model, _tensors(train_set), _tensors(val_set), config, checkpoint=entry / "checkpoint.pt",
                     callbacks=callbacks, run_key=key)
        _write_entry(entry, key, spec, result)
        (entry / "checkpoint.pt").unlink(missing_ok=True)
        result.seconds = time.perf_counter() - t0
        _log_training(root, key, arch, result.seconds, result.resumed_from)
    return result
