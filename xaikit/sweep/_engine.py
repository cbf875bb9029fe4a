"""Dask engines for sweeps: a local cluster, a running scheduler by address, or SLURM through dask-jobqueue.

Cells never run inside a Dask worker's Python process: each is a fresh subprocess of the study runner
(see ``_cell``), so the worker only waits on it. GPUs are abstract worker resources (``{"GPU": n}``)
that tasks ask for; on a local cluster each worker is pinned to its own devices through
``CUDA_VISIBLE_DEVICES`` in the cell's environment, on SLURM the job's ``--gres`` does that.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

from .._validation import check_int

__all__ = ["Engine", "SLURM_KEYS", "check_engine", "make_engine", "slurm_cluster", "visible_gpus"]

SLURM_KEYS = ("queue", "account", "walltime", "memory", "cores", "gpus_per_job", "jobs", "job_extra_directives",
              "job_script_prologue", "log_directory", "local_directory", "interface", "python", "job_name")
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass
class Engine:
    """A connected Dask client with what sweeps need to know about its workers.

    ``kind`` is ``"local"``, ``"address"`` or ``"slurm"``; ``threads`` is the torch thread count a cell
    gets (``None``: the worker's environment decides); ``task_resources`` are the resources every cell
    asks for; ``gpu_map`` maps a local worker's name to the devices it may see.
    """

    kind: str
    client: Any
    cluster: Any = None
    threads: int | None = None
    task_resources: dict[str, float] = field(default_factory=dict)
    gpu_map: dict[str, str] = field(default_factory=dict)
    description: str = ""

    @property
    def dashboard(self) -> str | None:
        """The Dask dashboard's address, when the scheduler serves one."""
        if self.kind == "local" and importlib.util.find_spec("bokeh") is None:
            return None
        try:
            return self.client.dashboard_link
        except Exception:  # noqa: BLE001 -- a scheduler without a dashboard
            return None

    def close(self) -> None:
        """Close the client, and the cluster when this engine started it."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def visible_gpus() -> list[str]:
    """The CUDA devices this process may use, without initialising CUDA.

    ``$CUDA_VISIBLE_DEVICES`` when set (an empty value means none), else one entry per line of
    ``nvidia-smi -L``, else none. Never touches ``torch.cuda``, so it is safe before forking workers.
    """
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip() and d.strip() != "-1"]
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU ")]


def _check_slurm(config: dict[str, Any] | None, gpus_per_task: int, threads_per_worker: int | None) -> tuple[int, int]:
    config = dict(config or {})
    unknown = sorted(set(config) - set(SLURM_KEYS))
    if unknown:
        raise ValueError(f"slurm block has unknown keys {unknown}; allowed: {', '.join(SLURM_KEYS)}")
    if not config.get("memory"):
        raise ValueError("slurm block needs 'memory' (memory per job, e.g. '16GB')")
    cores = check_int("slurm.cores", config.get("cores", threads_per_worker or 1), min_value=1)
    gpus = check_int("slurm.gpus_per_job", config.get("gpus_per_job", gpus_per_task), min_value=0)
    if gpus_per_task > gpus:
        raise ValueError(f"gpus_per_task ({gpus_per_task}) exceeds slurm.gpus_per_job ({gpus})")
    for key in ("job_extra_directives", "job_script_prologue"):
        if not isinstance(config.get(key, []), list):
            raise ValueError(f"slurm.{key} must be a list of strings, got {config[key]!r}")
    return cores, gpus


def check_engine(engine: str, *, workers: int | None = None, threads_per_worker: int = 1, gpus_per_task: int = 0,
                 slurm: dict[str, Any] | None = None) -> None:
    """Validate :func:`make_engine`'s arguments without starting anything (raises ``ValueError``)."""
    check_int("threads_per_worker", threads_per_worker, min_value=1)
    check_int("gpus_per_task", gpus_per_task, min_value=0)
    if workers is not None:
        check_int("workers", workers, min_value=1)
    if engine == "slurm":
        _check_slurm(slurm, gpus_per_task, threads_per_worker)
    elif engine == "local":
        if gpus_per_task and len(visible_gpus()) < gpus_per_task:
            raise ValueError(f"gpus_per_task={gpus_per_task} but this machine shows {len(visible_gpus())} GPU(s) "
                             "(CUDA_VISIBLE_DEVICES / nvidia-smi)")
    elif not (isinstance(engine, str) and "://" in engine):
        raise ValueError(f"engine must be 'local', 'slurm' or a scheduler address such as 'tcp://host:8786'; "
                         f"got {engine!r}")


def slurm_cluster(config: dict[str, Any], *, gpus_per_task: int = 0, threads_per_worker: int | None = None):
    """A ``dask_jobqueue.SLURMCluster`` from a sweep file's ``slurm`` block, not yet scaled.

    One SLURM job holds one worker that runs one cell at a time with ``cores`` threads (worker resource
    ``cell=1``). Keys: ``queue`` (partition), ``account``, ``walltime`` (default ``"01:00:00"``),
    ``memory`` (required, e.g. ``"16GB"``), ``cores`` (default 1), ``gpus_per_job`` (adds
    ``--gres=gpu:N`` and the worker resource ``GPU=N``; default ``gpus_per_task``), ``jobs`` (how many
    jobs the sweep asks for), ``job_extra_directives``, ``job_script_prologue`` (e.g. ``module load``
    lines), ``log_directory``, ``local_directory``, ``interface``, ``python``, ``job_name``.
    ``cluster.job_script()`` shows the batch script without submitting anything.

    Raises
    ------
    ValueError
        naming the key of the ``slurm`` block that is unknown or invalid, or when ``gpus_per_task``
        exceeds ``gpus_per_job``.
    """
    config = dict(config or {})
    cores, gpus = _check_slurm(config, gpus_per_task, threads_per_worker)
    if importlib.util.find_spec("dask_jobqueue") is None:
        raise ValueError("engine 'slurm' needs dask-jobqueue: pip install 'xaikit[slurm]'")
    from dask_jobqueue import SLURMCluster

    directives = list(config.get("job_extra_directives", []))
    resources = "cell=1" + (f",GPU={gpus}" if gpus else "")
    if gpus:
        directives.append(f"--gres=gpu:{gpus}")
    kwargs = {k: config[k] for k in ("queue", "account", "log_directory", "local_directory", "interface", "python",
                                     "job_name", "job_script_prologue") if config.get(k) is not None}
    env = [f"export {v}={cores}" for v in _THREAD_VARS]
    kwargs["job_script_prologue"] = env + list(kwargs.get("job_script_prologue", []))
    return SLURMCluster(cores=cores, processes=1, memory=str(config["memory"]),
                        walltime=str(config.get("walltime", "01:00:00")), job_extra_directives=directives,
                        worker_extra_args=["--resources", resources], **kwargs)


def make_engine(engine: str = "local", *, workers: int | None = None, threads_per_worker: int = 1,
                gpus_per_task: int = 0, slurm: dict[str, Any] | None = None) -> Engine:
    """Start (or connect to) the Dask engine a sweep runs on.

    Parameters
    ----------
    engine : ``"local"`` (a ``distributed.LocalCluster`` of worker processes), an address such as
        ``"tcp://host:8786"`` (a running scheduler and its workers), or ``"slurm"`` (a
        ``dask_jobqueue.SLURMCluster`` built from ``slurm``, see :func:`slurm_cluster`).
    workers : local worker processes (default: one per GPU slot with ``gpus_per_task``, else the CPU
        count divided by ``threads_per_worker``); SLURM jobs (default: the block's ``jobs``, else 1).
        Ignored for an address.
    threads_per_worker : the CPU threads each worker's cell uses (torch's thread count in the cell). A
        local worker runs one cell at a time whatever this is (its Dask thread pool has one thread).
    gpus_per_task : GPUs each cell asks for (worker resource ``GPU``); 0 for CPU cells.
    slurm : the sweep file's ``slurm`` block (``engine="slurm"`` only).

    Raises
    ------
    ValueError
        naming ``engine``, ``workers``, ``threads_per_worker`` or ``gpus_per_task`` when invalid, or when a
        local cluster is asked for GPUs that this machine does not have.
    """
    check_engine(engine, workers=workers, threads_per_worker=threads_per_worker, gpus_per_task=gpus_per_task,
                 slurm=slurm)
    resources = {"GPU": gpus_per_task} if gpus_per_task else {}
    if engine == "local":
        from distributed import Client, LocalCluster

        gpu_map: dict[str, str] = {}
        if gpus_per_task:
            gpus = visible_gpus()
            slots = len(gpus) // gpus_per_task
            if slots == 0:
                raise ValueError(f"gpus_per_task={gpus_per_task} but this machine shows {len(gpus)} GPU(s) "
                                 "(CUDA_VISIBLE_DEVICES / nvidia-smi)")
            workers = min(workers or slots, slots)
            gpu_map = {str(i): ",".join(gpus[i * gpus_per_task:(i + 1) * gpus_per_task]) for i in range(workers)}
        workers = workers or max(1, (os.cpu_count() or 1) // threads_per_worker)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,  # one cell at a time
                               resources=resources or None, dashboard_address=":0", memory_limit=0,
                               silence_logs=logging.ERROR,
                               env={v: str(threads_per_worker) for v in _THREAD_VARS})
        client = Client(cluster)
        return Engine("local", client, cluster, threads_per_worker, resources, gpu_map,
                      f"local: {workers} worker process(es), one cell each at a time with {threads_per_worker} "
                      "torch thread(s)"
                      + (f", {gpus_per_task} GPU(s) each" if gpus_per_task else ""))
    if engine == "slurm":
        from distributed import Client

        cluster = slurm_cluster(slurm or {}, gpus_per_task=gpus_per_task, threads_per_worker=threads_per_worker)
        jobs = workers or check_int("slurm.jobs", (slurm or {}).get("jobs", 1), min_value=1)
        cluster.scale(jobs=jobs)
        client = Client(cluster)
        cores = int((slurm or {}).get("cores", threads_per_worker))
        return Engine("slurm", client, cluster, cores,
                      {"cell": 1, **resources}, {}, f"slurm: {jobs} job(s)")
    if isinstance(engine, str) and "://" in engine:
        from distributed import Client

        client = Client(engine, timeout="30s")
        return Engine("address", client, None, None, resources, {}, f"scheduler at {engine}")
    raise ValueError(f"engine must be 'local', 'slurm' or a scheduler address such as 'tcp://host:8786'; "
                     f"got {engine!r}")
