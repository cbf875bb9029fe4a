"""Build the book: execute every study notebook (after its replication seeds) and run Jupyter Book.

This module sits above :mod:`xaikit.studies` (which runs one study) and :mod:`xaikit.sweep` (which runs a grid
of them on Dask): ``make book`` is ``python -m xaikit book``, which calls :func:`build_book`.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._validation import check_option
from .studies import (
    NOTEBOOK_DIR,
    PROFILES,
    ROOT,
    RUNNING_MARKER,
    get_study,
    real_data_overrides,
    run_study,
    studies,
    write_hardware_table,
)

__all__ = ["build_book", "chapter_with_replication", "replication_plan", "run_replication"]


def replication_plan(profile: str) -> dict[str, Any]:
    """The profile's ``replication`` block: ``seeds`` (the extra seeds each study's chapter is replicated with,
    besides its own), ``workers`` (local Dask workers) and ``studies`` (which; default every study with a
    replication section). Empty seeds: no replication."""
    import yaml

    check_option("profile", profile, PROFILES)
    data = yaml.safe_load((NOTEBOOK_DIR / "profiles" / f"{profile}.yaml").read_text()) or {}
    plan = dict(data.get("replication") or {})
    plan.setdefault("seeds", [])
    plan.setdefault("workers", 1)
    return plan


def _replicates(study: str, plan: dict[str, Any]) -> bool:
    """Whether the plan replicates ``study``: it has a replication section, the plan seeds, and the plan's
    ``studies`` (if given) name it."""
    return ("replication_dir" in get_study(study).parameters and bool(plan["seeds"])
            and (not plan.get("studies") or study in plan["studies"]))


def run_replication(study: str, profile: str, overrides: dict[str, Any], plan: dict[str, Any],
                    results_root: str | Path | None = None) -> Path | None:
    """Run ``study``'s replication sweep over the plan's seeds on the local Dask engine (cells that completed
    before with the same code and parameters are skipped); return the sweep's folder, or None when the study has
    no replication section or the plan no seeds."""
    from .sweep import run_sweep, sweep_dir

    if not _replicates(study, plan):
        return None
    fixed = {k: v for k, v in {**plan.get("fixed", {}), **overrides}.items() if k not in ("seed", "replication_dir")}
    record = run_sweep(study, profile, {"seed": list(plan["seeds"])}, fixed=fixed, sweep="replication",
                       engine="local", workers=int(plan["workers"]), results_root=results_root)
    failed = [cid for cid, c in record["cells"].items() if c["status"] == "failed"]
    if failed:
        print(f"[xaikit]   replication of {study}: cells {failed} failed (their logs are in the sweep record); "
              f"the chapter summarises the seeds that completed", flush=True)
    return sweep_dir(study, profile, "replication", results_root)


@contextmanager
def _single_threaded_kernels():
    """Notebook kernels started inside get one torch / BLAS thread (they share the cores with the sweep's cells)."""
    keys = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
    before = {k: os.environ.get(k) for k in keys}
    os.environ.update(dict.fromkeys(keys, "1"))
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def chapter_with_replication(study: str, profile: str, overrides: dict[str, Any], plan: dict[str, Any],
                             run_chapter, *, results_root: str | Path | None = None) -> Path | None:
    """Run ``study``'s chapter (``run_chapter(overrides)``) and its replication sweep (:func:`run_replication`) at
    the same time: the sweep runs in a thread while the chapter executes with ``replication_dir`` set, one thread
    per kernel, and the chapter's replication section waits for the sweep (the folder holds ``RUNNING_MARKER``
    with this process's id until the sweep ends; :func:`xaikit.studies.wait_for_sweep`). Chapter and seeds
    share the cores instead of the chapter running alone after the sweep, which on small models uses the second
    core poorly. Without replication for this study, only the chapter runs. Returns the sweep's folder or None.
    An error of the sweep is raised after the chapter has finished."""
    from .sweep import sweep_dir

    if not _replicates(study, plan):
        run_chapter(overrides)
        return None
    folder = sweep_dir(study, profile, "replication", results_root)
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / RUNNING_MARKER
    marker.write_text(str(os.getpid()))
    failure: list[BaseException] = []

    def sweep() -> None:
        try:
            run_replication(study, profile, overrides, plan, results_root)
        except BaseException as exc:  # noqa: BLE001  (re-raised in the calling thread)
            failure.append(exc)
        finally:
            marker.unlink(missing_ok=True)

    worker = threading.Thread(target=sweep, name=f"replication-{study}", daemon=True)
    worker.start()
    try:
        with _single_threaded_kernels():
            run_chapter({**overrides, "replication_dir": str(folder)})
    finally:
        worker.join()
    if failure:
        raise failure[0]
    return folder


def build_book(profile: str = "default", data_root: str | None = None, *, strict: bool = True,
               execute: bool = True, source: str | Path | None = None, replicate: bool = True) -> Path:
    """Execute every study notebook into ``book/_generated`` and build the HTML book into ``_build/html``.

    ``source`` is the folder holding ``_config.yml``/``_toc.yml`` (default: the compendium's root); with
    ``execute=False`` the notebooks already under ``<source>/book/_generated`` are used as they are.
    Before the build, ``book/_generated/hardware.md`` is written from the studies' manifests (see
    ``hardware_table``). Warnings are errors when ``strict``. With ``replicate``, each study with a
    replication section runs the profile's replication seeds as a sweep on the local Dask engine
    (:func:`run_replication`) beside its chapter (:func:`chapter_with_replication`), and the chapter summarises
    every seed.
    """
    source = Path(source) if source else ROOT
    timings = {}
    if execute:
        plan = replication_plan(profile)
        for study in studies():
            overrides = real_data_overrides(study, profile, data_root)
            t0 = time.perf_counter()
            generated = source / "book" / "_generated"
            beside = " beside its replication seeds" if replicate and _replicates(study, plan) else ""
            print(f"[xaikit] executing {study} ({profile} profile){beside} ...", flush=True)

            def chapter(values: dict[str, Any], study: str = study, generated: Path = generated) -> None:
                run_study(study, profile, values, output_dir=generated / study,
                          notebook_out=generated / f"{study}.ipynb", progress=False)

            if replicate:
                chapter_with_replication(study, profile, overrides, plan, chapter)
            else:
                chapter(overrides)
            timings[study] = time.perf_counter() - t0
            print(f"[xaikit]   done in {timings[study]:.0f} s", flush=True)
    write_hardware_table(source)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(source), "--keep-going"]
    if strict:
        cmd += ["--warningiserror", "--nitpick"]
    print("[xaikit] building the book ...", flush=True)
    subprocess.run(cmd, check=True, cwd=source)
    index = source / "_build" / "html" / "index.html"
    print(f"[xaikit] book ready: open {index}", flush=True)
    return index


