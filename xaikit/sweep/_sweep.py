"""The sweep driver: validate every cell, skip completed ones, submit the rest to Dask, record everything.

The record ``results/<study>/<profile>/_sweeps/<id>/sweep.json`` is rewritten atomically after every
change of a cell's state, so a sweep killed at any moment leaves a readable record, and running the same
sweep again (same id) skips the cells whose manifest shows they completed with the same code and parameters.
"""
from __future__ import annotations

import json
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .._validation import check_float, check_int, check_option
from ._grid import Cell, expand_grid, sweep_id

__all__ = ["DEFAULT_TIMEOUT", "TRANSIENT_ERRORS", "cell_command", "cell_complete", "run_sweep", "sweep_dir"]

DEFAULT_TIMEOUT = 6 * 3600.0
_FINISHED = ("done", "skipped", "failed")
_EXTRA_PACKAGES = ("dask", "distributed", "dask-jobqueue", "filelock")
# Failures of starting a notebook kernel under parallel launches (papermill #239, #511, #776), not of the study:
# a cell whose log shows one is run once more even with retries=0.
TRANSIENT_ERRORS = ("Kernel didn't respond in", "ZMQError: Address already in use", "Kernel died before replying")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _root() -> Path:
    from ..studies import NOTEBOOK_DIR

    return Path(NOTEBOOK_DIR).parent


def sweep_dir(study: str, profile: str, sweep: str, results_root: str | Path | None = None) -> Path:
    """``<results_root>/<study>/<profile>/_sweeps/<sweep>`` (``results_root`` defaults to ``results/``)."""
    root = Path(results_root) if results_root else _root() / "results"
    return root / study / profile / "_sweeps" / sweep


def _cli_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    return repr(value) if isinstance(value, float) else str(value)


def cell_command(study: str, profile: str, cell: Cell, template: list[str] | str | None = None) -> list[str]:
    """The command a cell runs: ``python -m xaikit run STUDY --profile P -p NAME VALUE ... --output-dir DIR``.

    A ``template`` (a list, or a string split like a shell would) replaces it; its items may hold
    ``{python}``, ``{study}``, ``{profile}``, ``{cell_id}``, ``{output_dir}`` and ``{params_json}`` (the
    cell's full validated parameters as JSON).
    """
    if template is None:
        argv = [sys.executable, "-m", "xaikit", "run", study, "--profile", profile]
        for name, value in cell.overrides.items():
            argv += ["-p", name, _cli_value(value)]
        return argv + ["--output-dir", str(cell.output_dir)]
    items = shlex.split(template) if isinstance(template, str) else list(template)
    fields = {"python": sys.executable, "study": study, "profile": profile, "cell_id": cell.id,
              "output_dir": str(cell.output_dir), "params_json": json.dumps(cell.params, sort_keys=True)}
    return [item.format(**fields) for item in items]


def cell_complete(study: str, cell: Cell, commit: str) -> bool:
    """Whether ``cell`` already ran to its end with this code and these parameters.

    True when ``<output_dir>/<study>.ipynb`` exists (the runner renames the executed notebook into place
    only after its last cell ran) and ``<output_dir>/manifest.json`` records ``git_commit == commit`` and
    every one of the cell's parameters with the same value.
    """
    return _incomplete(study, cell, commit) is None


def _incomplete(study: str, cell: Cell, commit: str) -> str | None:
    """Why ``cell`` does not count as completed (``None`` when it does)."""
    out = Path(cell.output_dir)
    if not (out / f"{study}.ipynb").is_file():
        return "no executed notebook"
    try:
        manifest = json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return "no readable manifest.json"
    if manifest.get("git_commit") != commit:
        return f"its manifest records commit {manifest.get('git_commit')!r}, not {commit!r}"
    recorded = json.loads(json.dumps(manifest.get("parameters") or {}, default=str))
    # the manifest stores output_dir relative to the compendium's root (portable_path); the folder is the cell's own
    differ = sorted(k for k, v in cell.params.items()
                    if k != "output_dir" and (k not in recorded or recorded[k] != v))
    return f"its manifest records other values of {differ}" if differ else None


class _Record:
    """The sweep's JSON record, written atomically after every change."""

    def __init__(self, path: Path, data: dict[str, Any]):
        self.path, self.data = path, data

    def cell(self, cid: str) -> dict[str, Any]:
        return self.data["cells"][cid]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("pending", "running", "retrying", "done", "skipped", "failed", "interrupted"), 0)
        for c in self.data["cells"].values():
            counts[c["status"]] = counts.get(c["status"], 0) + 1
        return counts

    def save(self) -> None:
        from ..report import write_json

        self.data["updated"] = _now()
        self.data["summary"] = self.counts()
        write_json(self.path, self.data)


class _Progress:
    """A live line: cells done / failed / running, elapsed and estimated remaining time."""

    def __init__(self, record: _Record, stream: TextIO | None, slots: int):
        self.record, self.stream, self.slots = record, stream, max(1, slots)
        self.t0 = time.perf_counter()
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.last = ""
        self.finished_here = 0

    def line(self) -> str:
        c = self.record.counts()
        elapsed = time.perf_counter() - self.t0
        active = c["running"] + c["retrying"]
        left = c["pending"] + active
        eta = f"~{elapsed / self.finished_here * left:.0f} s left" if self.finished_here and left else "ETA ?"
        if not left:
            eta = "finished"
        total = len(self.record.data["cells"])
        return (f"[sweep {self.record.data['sweep_id']}] {c['done'] + c['skipped']}/{total} done "
                f"({c['skipped']} earlier), {c['failed']} failed, {min(active, self.slots)} running, "
                f"{max(0, active - self.slots) + c['pending']} queued, {elapsed:.0f} s elapsed, {eta}")

    def update(self, final: bool = False) -> None:
        if self.stream is None:
            return
        text = self.line()
        if self.tty:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
        elif text.split(", ")[:4] != self.last.split(", ")[:4]:  # a line per change when not a terminal
            self.stream.write(text + "\n")
        self.stream.flush()
        self.last = text


def run_sweep(study: str, profile: str = "smoke", grid: dict[str, list[Any]] | None = None, *,
              fixed: dict[str, Any] | None = None, sweep: str | None = None, results_root: str | Path | None = None,
              engine: str = "local", workers: int | None = None, threads_per_worker: int = 1,
              gpus_per_task: int = 0, slurm: dict[str, Any] | None = None, timeout: float | None = DEFAULT_TIMEOUT,
              retries: int = 0, resume: bool = False, dry_run: bool = False, client: Any = None,
              command: list[str] | str | None = None, stream: TextIO | None = None,
              quiet: bool = False) -> dict[str, Any]:
    """Run every cell of a parameter grid of one study on a Dask engine; return the sweep record.

    Parameters
    ----------
    study, profile : the study notebook and the profile every cell starts from.
    grid : parameter name → values; the cells are every combination (see :func:`xaikit.sweep.expand_grid`).
    fixed : overrides shared by every cell.
    sweep : the sweep id (default: derived from study, profile, grid and fixed, see
        :func:`xaikit.sweep.sweep_id`); the record is ``<results>/<study>/<profile>/_sweeps/<id>/sweep.json``
        and cell ``C`` writes to ``.../_sweeps/<id>/cells/C``.
    results_root : the ``results/`` folder (default: the compendium's).
    engine : ``"local"``, ``"slurm"``, a scheduler address (see :func:`xaikit.sweep.make_engine`), or an
        :class:`xaikit.sweep.Engine` already started (left open afterwards).
    workers, threads_per_worker, gpus_per_task, slurm : see :func:`xaikit.sweep.make_engine`.
    timeout : seconds before a cell is killed (``None``: never).
    retries : how many times a failed cell is run again before it is recorded as failed. A cell whose
        notebook kernel failed to start (its log shows one of ``TRANSIENT_ERRORS``) gets one more run.
    resume : continue the sweep ``sweep`` from its record: its grid and fixed parameters are read from
        ``sweep.json`` when ``grid`` is not given. Completed cells are skipped either way.
    dry_run : validate and print the cells (and which would be skipped); start nothing.
    client : an existing ``distributed.Client`` to submit to (then ``engine`` and its options are unused).
    command : a cell command template instead of the study runner (see :func:`cell_command`).
    stream : where the progress line and messages go (default: standard output).
    quiet : print nothing.

    Returns
    -------
    dict
        The record written to ``sweep.json``: ``cells`` maps each cell id to its ``status`` (``done``,
        ``skipped`` (completed earlier), ``failed``), ``attempts``, ``wall_s``, ``host``, ``log``, ...

    Raises
    ------
    ValueError
        naming the argument or the grid cell, before any cell starts.
    """
    from ..report import TRACKED_PACKAGES, git_commit, package_versions

    check_option("study", study, _studies())
    stream = None if quiet else (stream or sys.stdout)
    retries = check_int("retries", retries, min_value=0)
    if timeout is not None:
        timeout = check_float("timeout", timeout, min_value=1e-3)
    grid, fixed = dict(grid or {}), dict(fixed or {})
    if resume:
        if not sweep:
            raise ValueError("resume needs the sweep id (--sweep-id) of the sweep to continue")
        previous = sweep_dir(study, profile, sweep, results_root) / "sweep.json"
        if not previous.is_file():
            raise ValueError(f"sweep {sweep!r} has no record at {previous}; nothing to resume")
        if not grid:
            old = json.loads(previous.read_text())
            grid, fixed = old["grid"], {**old.get("fixed", {}), **fixed}
    from ._engine import Engine, check_engine

    given = engine if isinstance(engine, Engine) else None
    if given is not None:
        client = given.client
    elif client is None and not dry_run:
        check_engine(engine, workers=workers, threads_per_worker=threads_per_worker, gpus_per_task=gpus_per_task,
                     slurm=slurm)
    sid = sweep or sweep_id(study, profile, grid, fixed)
    folder = sweep_dir(study, profile, sid, results_root)
    cells = expand_grid(study, profile, grid, fixed, folder / "cells")  # every cell validated here
    commit = git_commit()  # what the cells' manifests record (build_manifest calls it the same way)
    old_cells = {}
    if (folder / "sweep.json").is_file():
        try:
            old_cells = json.loads((folder / "sweep.json").read_text()).get("cells", {})
        except ValueError:
            old_cells = {}
    data = {"sweep_id": sid, "study": study, "profile": profile, "created": _now(), "grid": grid, "fixed": fixed,
            "engine": {"requested": engine if client is None else (given.kind if given else "client"),
                       "workers": workers, "threads_per_worker": threads_per_worker, "gpus_per_task": gpus_per_task},
            "timeout_s": timeout, "retries": retries, "git_commit": commit, "python": sys.version.split()[0],
            "versions": package_versions(TRACKED_PACKAGES + _EXTRA_PACKAGES), "command": command,
            "cell_order": [c.id for c in cells], "cells": {}}
    for cell in cells:
        done = cell_complete(study, cell, commit)
        old = old_cells.get(cell.id, {})
        entry = {"overrides": cell.overrides, "params": cell.params, "output_dir": str(cell.output_dir),
                 "status": "skipped" if done else "pending", "attempts": 0, "wall_s": None, "host": None,
                 "worker": None, "log": None, "returncode": None, "error": None}
        if done:  # keep what the run that completed it recorded
            entry.update({k: old[k] for k in ("wall_s", "host", "worker", "log", "attempts") if k in old})
        data["cells"][cell.id] = entry
    record = _Record(folder / "sweep.json", data)
    say = (lambda text: (stream.write(text + "\n"), stream.flush())) if stream is not None else (lambda text: None)
    if dry_run:
        say(f"sweep {sid}: {len(cells)} cell(s) of {study} ({profile} profile) -> {folder}")
        for cell in cells:
            state = "skip (completed)" if data["cells"][cell.id]["status"] == "skipped" else "run"
            say(f"  {cell.id:40s} {state:17s} {json.dumps(cell.overrides, default=str)}")
        return data
    record.save()
    todo = [c for c in cells if data["cells"][c.id]["status"] == "pending"]
    if not todo:
        say(f"sweep {sid}: all {len(cells)} cell(s) already completed; record: {record.path}")
        return data

    from ._cell import run_cell
    from ._engine import make_engine

    eng, own = given, False
    if client is None:
        own = True
        eng = make_engine(engine, workers=workers, threads_per_worker=threads_per_worker,
                          gpus_per_task=gpus_per_task, slurm=slurm)
        client = eng.client
        data["engine"].update(kind=eng.kind, description=eng.description, dashboard=eng.dashboard)
        say(f"sweep {sid}: {eng.description}" + (f"; dashboard: {eng.dashboard}" if eng.dashboard else ""))
    data["engine"]["scheduler"] = getattr(client, "scheduler", None) and client.scheduler.address
    resources = dict(eng.task_resources) if eng else ({"GPU": gpus_per_task} if gpus_per_task else {})
    threads = eng.threads if eng else threads_per_worker
    gpu_map = eng.gpu_map if eng else {}
    slots = sum(client.nthreads().values()) or 1
    progress = _Progress(record, stream, slots)
    logs = folder / "logs"
    pending: dict[Any, Cell] = {}

    def submit(cell: Cell) -> None:
        entry = record.cell(cell.id)
        entry["attempts"] += 1
        entry["status"] = "running" if entry["attempts"] == 1 else "retrying"
        log = logs / f"{cell.id}.attempt{entry['attempts']}.log"
        entry["log"] = str(log)
        argv = cell_command(study, profile, cell, command)
        fut = client.submit(run_cell, argv, str(log), timeout=timeout, threads=threads, gpu_map=gpu_map,
                            cwd=str(_root()), resources=resources or None, pure=False,
                            key=f"xaikit-cell-{sid}-{cell.id}-{entry['attempts']}-{time.time_ns()}")
        pending[fut] = cell

    from distributed import wait

    try:
        for cell in todo:
            submit(cell)
        record.save()
        progress.update()
        while pending:
            try:
                finished = wait(list(pending), timeout=1.0, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                finished = set()
            for fut in finished:
                cell = pending.pop(fut)
                entry = record.cell(cell.id)
                try:
                    result = fut.result()
                except Exception as err:  # noqa: BLE001 -- a worker lost or the task raised: the cell failed
                    result = {"returncode": None, "error": f"{type(err).__name__}: {err}"}
                entry.update({k: result[k] for k in ("returncode", "wall_s", "host", "worker", "started", "finished",
                                                     "cuda_visible_devices") if k in result})
                if result.get("timed_out"):
                    entry["error"] = f"killed after its timeout of {timeout} s"
                elif result.get("error"):
                    entry["error"] = result["error"]
                elif result.get("returncode") != 0:
                    entry["error"] = f"exited with status {result.get('returncode')}; see its log"
                else:
                    why = _incomplete(study, cell, commit)
                    entry["error"] = why and f"exited 0, but {why} (did the code change during the sweep?)"
                if entry["error"] is None:
                    entry["status"] = "done"
                    progress.finished_here += 1
                elif entry["attempts"] <= retries:
                    submit(cell)
                elif not entry.get("transient_retry") and _transient(entry.get("log")):
                    entry["transient_retry"] = True  # a kernel that did not start: once more, beyond --retries
                    submit(cell)
                else:
                    entry["status"] = "failed"
                    progress.finished_here += 1
                record.save()
            progress.update()
    except BaseException:
        for cell in pending.values():
            record.cell(cell.id)["status"] = "interrupted"
        record.save()
        raise
    finally:
        for fut in list(pending):
            fut.cancel()
        if own:
            eng.close()
    progress.update(final=True)
    failed = [cid for cid, c in data["cells"].items() if c["status"] == "failed"]
    if failed:
        say(f"sweep {sid}: {len(failed)} cell(s) failed: " + ", ".join(
            f"{cid} (log: {data['cells'][cid]['log']})" for cid in failed))
    say(f"record: {record.path}")
    return data


def _transient(log: str | None) -> bool:
    try:
        text = Path(log).read_text(errors="replace")[-20000:] if log else ""
    except OSError:
        return False
    return any(marker in text for marker in TRANSIENT_ERRORS)


def _studies() -> list[str]:
    from ..studies import studies

    return studies()
