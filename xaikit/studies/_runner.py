"""Execute study notebooks with papermill, and build the book."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .._validation import check_option
from ._params import validate_params

__all__ = ["NOTEBOOK_DIR", "PROFILES", "ROOT", "build_book", "load_profile", "parse_value", "run_study",
           "studies"]

ROOT = Path(os.environ.get("XAIKIT_ROOT", Path(__file__).resolve().parents[2]))
NOTEBOOK_DIR = ROOT / "notebooks"
PROFILES = ("smoke", "default", "paper")


def studies() -> list[str]:
    """Names of the study notebooks in ``notebooks/`` (file names without ``.ipynb``), sorted."""
    if not NOTEBOOK_DIR.is_dir():
        raise FileNotFoundError(
            f"no notebooks folder at {NOTEBOOK_DIR}: run from a clone of the compendium or set XAIKIT_ROOT"
        )
    return sorted(p.stem for p in NOTEBOOK_DIR.glob("[0-9]*.ipynb"))


def load_profile(profile: str, study: str) -> dict[str, Any]:
    """The parameters a profile sets for ``study``: the profile's ``common`` block updated by its study block."""
    import yaml

    check_option("profile", profile, PROFILES)
    path = NOTEBOOK_DIR / "profiles" / f"{profile}.yaml"
    data = yaml.safe_load(path.read_text()) or {}
    params = dict(data.get("common", {}))
    params.update(data.get(study, {}))
    params["profile"] = profile
    return params


def parse_value(text: str) -> Any:
    """Parse a command-line value as papermill's ``-p`` does: int, float, bool, None, else the string."""
    low = text.strip().lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _tag(overrides: dict[str, Any]) -> str:
    if not overrides:
        return "base"
    text = "-".join(f"{k}={v}" for k, v in sorted(overrides.items()) if k != "output_dir")
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text)[:120] or "base"


def run_study(study: str, profile: str = "smoke", overrides: dict[str, Any] | None = None, *,
              output_dir: str | Path | None = None, notebook_out: str | Path | None = None,
              progress: bool = False) -> Path:
    """Execute ``notebooks/<study>.ipynb`` with a profile and overrides; return the executed notebook's path.

    Parameters are validated before the kernel starts. Results (CSV, figures,
    ``manifest.json``) go to ``output_dir``, by default
    ``results/<study>/<profile>/<overrides>``; the executed notebook goes to
    ``notebook_out``, by default ``<output_dir>/<study>.ipynb``.

    Examples
    --------
    ``run_study("01_model_complexity", "smoke", {"seed": 7})`` is what
    ``python -m xaikit run 01_model_complexity --profile smoke -p seed 7`` does.
    """
    import papermill as pm

    check_option("study", study, studies())
    overrides = dict(overrides or {})
    validate_params(study, overrides, partial=True)
    params = load_profile(profile, study)
    params.update(overrides)
    if output_dir is None:
        output_dir = ROOT / "results" / study / profile / _tag(overrides)
    output_dir = Path(output_dir).resolve()
    params["output_dir"] = str(output_dir)
    validate_params(study, params)
    notebook_out = Path(notebook_out) if notebook_out else output_dir / f"{study}.ipynb"
    notebook_out.parent.mkdir(parents=True, exist_ok=True)
    output_dir.mkdir(parents=True, exist_ok=True)
    tmp_out = notebook_out.with_name(f".partial-{notebook_out.name}")
    pm.execute_notebook(str(NOTEBOOK_DIR / f"{study}.ipynb"), str(tmp_out), parameters=params,
                        cwd=str(ROOT), progress_bar=progress, kernel_name="python3")
    os.replace(tmp_out, notebook_out)  # only a fully executed notebook appears under its name
    return notebook_out


def build_book(profile: str = "default", data_root: str | None = None, *, strict: bool = True,
               execute: bool = True, source: str | Path | None = None) -> Path:
    """Execute every study notebook into ``book/_generated`` and build the HTML book into ``_build/html``.

    ``source`` is the folder holding ``_config.yml``/``_toc.yml`` (default: the compendium's root); with
    ``execute=False`` the notebooks already under ``<source>/book/_generated`` are used as they are.
    Warnings are errors when ``strict``.
    """
    source = Path(source) if source else ROOT
    timings = {}
    if execute:
        overrides = {} if not data_root else {"data_root": str(data_root)}
        for study in studies():
            t0 = time.perf_counter()
            print(f"[xaikit] executing {study} ({profile} profile) ...", flush=True)
            generated = source / "book" / "_generated"
            run_study(study, profile, overrides, output_dir=generated / study,
                      notebook_out=generated / f"{study}.ipynb", progress=False)
            timings[study] = time.perf_counter() - t0
            print(f"[xaikit]   done in {timings[study]:.0f} s", flush=True)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(source), "--keep-going"]
    if strict:
        cmd += ["--warningiserror", "--nitpick"]
    print("[xaikit] building the book ...", flush=True)
    subprocess.run(cmd, check=True, cwd=source)
    index = source / "_build" / "html" / "index.html"
    print(f"[xaikit] book ready: open {index}", flush=True)
    return index
