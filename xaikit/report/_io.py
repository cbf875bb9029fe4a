"""Atomic writes: a temporary file in the same folder, then ``os.replace``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .._io import atomic_write_bytes

__all__ = ["atomic_write_bytes", "write_json", "write_csv"]


def write_json(path: str | Path, obj: Any) -> Path:
    """Atomically write ``obj`` as indented JSON."""
    return atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


def write_csv(df, path: str | Path) -> Path:
    """Atomically write a DataFrame as CSV (no index)."""
    return atomic_write_bytes(path, df.to_csv(index=False).encode())
