"""Build the book: execute every study notebook (after its replication seeds) and run Jupyter Book.

This module sits above :mod:`xaikit.studies` (which runs one study) and :mod:`xaikit.sweep` (which runs a grid
of them on Dask): ``make book`` is ``python -m xaikit book``, which calls :func:`build_book`.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ._validation import check_option
from .studies import NOTEBOOK_DIR, PROFILES, ROOT, real_data_overrides, run_study, studies, write_hardware_table

__all__ = ["build_book", "replication_plan", "run_replication"]


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


def run_replication(study: str, profile: str, overrides: dict[str, Any], plan: dict[str, Any],
                    results_root: str | Path | None = None) -> Path | None:
    """Run ``study``'s replication sweep over the plan's seeds on the local Dask engine (cells that completed
    before with the same code and parameters are skipped); return the sweep's folder, or None when the study has
    no replication section or the plan no seeds."""
    from .studies import get_study
    from .sweep import run_sweep, sweep_dir

    if "replication_dir" not in get_study(study).parameters or not plan["seeds"]:
        return None
    if plan.get("studies") and study not in plan["studies"]:
        return None
    fixed = {k: v for k, v in {**plan.get("fixed", {}), **overrides}.items() if k not in ("seed", "replication_dir")}
    record = run_sweep(study, profile, {"seed": list(plan["seeds"])}, fixed=fixed, sweep="replication",
                       engine="local", workers=int(plan["workers"]), results_root=results_root)
    failed = [cid for cid, c in record["cells"].items() if c["status"] == "failed"]
    if failed:
        print(f"[xaikit]   replication of {study}: cells {failed} failed (their logs are in the sweep record); "
              f"the chapter summarises the seeds that completed", flush=True)
    return sweep_dir(study, profile, "replication", results_root)


def build_book(profile: str = "default", data_root: str | None = None, *, strict: bool = True,
               execute: bool = True, source: str | Path | None = None, replicate: bool = True) -> Path:
    """Execute every study notebook into ``book/_generated`` and build the HTML book into ``_build/html``.

    ``source`` is the folder holding ``_config.yml``/``_toc.yml`` (default: the compendium's root); with
    ``execute=False`` the notebooks already under ``<source>/book/_generated`` are used as they are.
    Before the build, ``book/_generated/hardware.md`` is written from the studies' manifests (see
    ``hardware_table``). Warnings are errors when ``strict``. With ``replicate``, each study with a
    replication section first runs the profile's replication seeds as a sweep on the local Dask engine
    (:func:`run_replication`), and its chapter summarises every seed.
    """
    source = Path(source) if source else ROOT
    timings = {}
    if execute:
        plan = replication_plan(profile)
        for study in studies():
            overrides = real_data_overrides(study, profile, data_root)
            t0 = time.perf_counter()
            folder = run_replication(study, profile, overrides, plan) if replicate else None
            if folder is not None:
                overrides["replication_dir"] = str(folder)
                print(f"[xaikit]   replication seeds of {study} done in {time.perf_counter() - t0:.0f} s", flush=True)
            print(f"[xaikit] executing {study} ({profile} profile) ...", flush=True)
            generated = source / "book" / "_generated"
            run_study(study, profile, overrides, output_dir=generated / study,
                      notebook_out=generated / f"{study}.ipynb", progress=False)
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


