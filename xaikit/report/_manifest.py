"""Provenance manifests: what produced a result, on what, and how long it took."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["build_manifest", "git_commit", "package_versions"]

TRACKED_PACKAGES = ("xaikit", "torch", "torchvision", "captum", "zennit", "shap", "quantus", "numpy",
                    "scipy", "pandas", "scikit-learn", "papermill", "jupyter-book")


def git_commit(cwd: str | Path | None = None) -> str:
    """The current git commit (with ``-dirty`` when the tree has changes), or ``"unknown"``."""
    cwd = Path(cwd) if cwd else Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("-dirty" if dirty else "")


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (``"not installed"`` where absent)."""
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere), or ``"unknown"``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def build_manifest(*, study: str, parameters: dict[str, Any], seed: int, device: str,
                   timings: dict[str, float], data_fingerprint: str | None = None,
                   model_hashes: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    """A JSON-ready provenance record for one notebook run."""
    import torch

    dev = str(device)
    return {
        "study": study,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": parameters,
        "seed": seed,
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "device": dev,
        "device_name": torch.cuda.get_device_name(0) if dev.startswith("cuda") else cpu_name(),
        "cpu_name": cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "packages": package_versions(),
        "data_fingerprint": data_fingerprint,
        "model_hashes": model_hashes or {},
        "timings_s": {k: round(float(v), 3) for k, v in timings.items()},
        **extra,
    }
