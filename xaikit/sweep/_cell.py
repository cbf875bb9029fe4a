"""One sweep cell, run inside a Dask worker: a fresh subprocess, its output in a log, killed at its timeout.

The worker's own Python process never imports torch or papermill for a cell (papermill can hang after
the last notebook cell, and CUDA state must not live in a worker): it only starts the command and waits.
"""
from __future__ import annotations

import os
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["run_cell"]

_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _kill_tree(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """Terminate ``proc`` and every process below it (the papermill kernel too), then kill what is left."""
    import psutil

    try:
        tree = [psutil.Process(proc.pid)]
        tree += tree[0].children(recursive=True)
    except psutil.NoSuchProcess:
        return
    for p in tree:
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(tree, timeout=grace)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=grace)


def _worker_name() -> str | None:
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        return None


def run_cell(argv: list[str], log_path: str, *, timeout: float | None = None, env: dict[str, str] | None = None,
             threads: int | None = None, gpu_map: dict[str, str] | None = None,
             cwd: str | None = None) -> dict[str, Any]:
    """Run one cell's command to completion or to its timeout; return what happened.

    Parameters
    ----------
    argv : the command (by default ``python -m xaikit run STUDY ...``).
    log_path : its stdout and stderr go here (the file is created, with its folder).
    timeout : seconds before the command and all its children are terminated (then killed).
    env : variables added to the worker's environment.
    threads : torch's intra-op thread count in the cell (``OMP_NUM_THREADS`` and friends).
    gpu_map : local worker name → ``CUDA_VISIBLE_DEVICES`` value, so each worker sees only its devices.
    cwd : working directory of the command.

    Returns
    -------
    dict
        ``returncode`` (``None`` when killed at the timeout), ``timed_out``, ``wall_s``, ``host``,
        ``worker``, ``started`` and ``finished`` (UTC, ISO 8601), ``log``.
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    if threads:
        full_env.update({v: str(threads) for v in _THREAD_VARS})
    worker = _worker_name()
    if gpu_map and worker in gpu_map:
        full_env["CUDA_VISIBLE_DEVICES"] = gpu_map[worker]
    log = Path(log_path)
    log.parent.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    timed_out = False
    with open(log, "wb") as fh:
        fh.write(f"$ {' '.join(argv)}\n".encode())
        fh.flush()
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=full_env,
                                cwd=cwd)
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_tree(proc)
            proc.wait()
            returncode = None
            fh.write(f"\n[xaikit sweep] killed after its timeout of {timeout} s\n".encode())
        except BaseException:
            _kill_tree(proc)
            raise
    return {"returncode": returncode, "timed_out": timed_out, "wall_s": round(time.perf_counter() - t0, 3),
            "host": socket.gethostname(), "worker": worker, "started": started,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"), "log": str(log),
            "cuda_visible_devices": full_env.get("CUDA_VISIBLE_DEVICES")}
