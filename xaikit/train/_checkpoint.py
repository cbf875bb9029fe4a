"""Checksummed checkpoint files: damage is detected, and an unusable checkpoint is never loaded."""
from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

import torch

__all__ = ["CHECKPOINT_FORMAT", "CacheWarning", "load_checkpoint", "pack", "unpack"]

#: Bump when the checkpoint's contents change.
CHECKPOINT_FORMAT = 1
_MAGIC = b"XAIKITC1"


class CacheWarning(UserWarning):
    """A cache entry or checkpoint was unusable (corrupt, partial, or from another run) and is ignored."""


def pack(obj) -> bytes:
    """Serialise ``obj`` with ``torch.save`` behind a magic tag and its SHA-256, so damage is detected."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    payload = buf.getvalue()
    return _MAGIC + hashlib.sha256(payload).digest() + payload


def unpack(data: bytes):
    """Inverse of :func:`pack`; ``ValueError`` if the tag or the checksum does not match."""
    if data[:8] != _MAGIC:
        raise ValueError("not an xaikit checkpoint (bad magic bytes)")
    digest, payload = data[8:40], data[40:]
    if hashlib.sha256(payload).digest() != digest:
        raise ValueError("checksum mismatch (truncated or corrupted file)")
    return torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)


def load_checkpoint(path: Path, run_key: str) -> dict | None:
    """The training state saved at ``path`` for ``run_key``; ``None`` (with a :class:`CacheWarning`
    unless the file is simply absent) when it is missing, damaged, or from another run."""
    if not path.is_file():
        return None
    try:
        state = unpack(path.read_bytes())
        if state.get("format") != CHECKPOINT_FORMAT or state.get("run_key") != run_key:
            raise ValueError("it belongs to another run (different model, data or configuration)")
        return state
    except Exception as err:  # noqa: BLE001  (anything unreadable is ignored, never loaded)
        warnings.warn(f"ignoring checkpoint {str(path)!r}: {err}; training starts from epoch 1",
                      CacheWarning, stacklevel=3)
        return None
