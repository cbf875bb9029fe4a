"""Execute study notebooks with papermill and regenerate figures from the model cache (the book is built by
:mod:`xaikit.book`)."""
from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path
from typing import Any

from .._validation import check_option
from ._params import validate_params
from ._spec import PHANTOMS

__all__ = ["NOTEBOOK_DIR", "PROFILES", "REAL_COUNTERPART", "ROOT", "hardware_table", "load_profile",
           "parse_value", "portable_path", "real_data_overrides", "regenerate_figures", "run_study", "studies",
           "write_hardware_table"]

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


# The real dataset each phantom stands in for: with a data root, `make book`/`make figures` switch to it.
REAL_COUNTERPART = {"chest_covid": "covid-qu-ex", "chest_multilabel": "chexpert", "brain_mri": "brain-tumor-mri",
                    "lung_ct": "iq-oth-nccd"}


def real_data_overrides(study: str, profile: str, data_root: str | Path | None) -> dict[str, Any]:
    """The overrides that point ``study`` at the real datasets under ``data_root`` (``{}`` without one).

    Every dataset parameter (``dataset``, ``foreign_dataset``) whose profile value is a phantom is
    switched to the real dataset that phantom stands in for (``REAL_COUNTERPART``), and
    ``data_root`` is set, so ``make book PROFILE=paper DATA_ROOT=/data`` runs every study on real data
    (a study without a real counterpart, like the phantom chapter, only receives ``data_root``; a study whose
    dataset has no real counterpart among its choices, like the methods atlas, stays on the phantom).

    Examples
    --------
    >>> real_data_overrides("01_model_complexity", "paper", "/data")
    {'data_root': '/data', 'dataset': 'covid-qu-ex'}
    """
    from ._params import STUDY_PARAMS

    if not data_root:
        return {}
    spec = STUDY_PARAMS.get(study, {})
    params = load_profile(profile, study)
    overrides: dict[str, Any] = {"data_root": str(data_root)}
    for name in ("dataset", "foreign_dataset"):
        real = REAL_COUNTERPART.get(params.get(name))
        if name in spec and real in spec[name].choices:
            overrides[name] = real
    if params.get("dataset") in PHANTOMS and "dataset" not in overrides:
        return {}  # a study that needs the phantom's exact ground truth (the atlas) stays on it
    return overrides


def _tag(overrides: dict[str, Any]) -> str:
    if not overrides:
        return "base"
    text = "-".join(f"{k}={v}" for k, v in sorted(overrides.items()) if k != "output_dir")
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text)[:120] or "base"


def run_study(study: str, profile: str = "smoke", overrides: dict[str, Any] | None = None, *,
              output_dir: str | Path | None = None, notebook_out: str | Path | None = None,
              progress: bool = False) -> Path:
    """Execute ``notebooks/<study>.ipynb`` with a profile and overrides; return the executed notebook's path.

    Parameters, paths and cross-parameter rules (``xaikit.studies._preflight.preflight``) are
    checked before the kernel starts and before any folder is made. Results (CSV, figures,
    ``manifest.json``) go to ``output_dir``, by default
    ``results/<study>/<profile>/<overrides>``; an ``output_dir`` among the overrides is honoured
    (given both ways with different values, it is refused). The executed notebook goes to
    ``notebook_out``, by default ``<output_dir>/<study>.ipynb``.

    Examples
    --------
    ``run_study("01_model_complexity", "smoke", {"seed": 7})`` is what
    ``python -m xaikit run 01_model_complexity --profile smoke -p seed 7`` does.
    """
    from ._preflight import preflight

    check_option("study", study, studies())
    overrides = dict(overrides or {})
    if overrides.get("output_dir") is not None:  # `-p output_dir DIR` means what it says
        given = Path(str(overrides.pop("output_dir")))
        if output_dir is not None and Path(output_dir).resolve() != given.resolve():
            raise ValueError(f"output_dir is given twice with different values: {str(output_dir)!r} and "
                             f"parameter output_dir={str(given)!r}; give it once")
        output_dir = given
    validate_params(study, overrides, partial=True)
    params = load_profile(profile, study)
    params.update(overrides)
    if output_dir is None:
        output_dir = ROOT / "results" / study / profile / _tag(overrides)
    output_dir = Path(output_dir).resolve()
    params["output_dir"] = str(output_dir)
    validate_params(study, params)
    preflight(study, params)
    import papermill as pm

    notebook_out = Path(notebook_out) if notebook_out else output_dir / f"{study}.ipynb"
    notebook_out.parent.mkdir(parents=True, exist_ok=True)
    output_dir.mkdir(parents=True, exist_ok=True)
    tmp_out = notebook_out.with_name(f".partial-{notebook_out.name}")
    pm.execute_notebook(str(NOTEBOOK_DIR / f"{study}.ipynb"), str(tmp_out), parameters=params,
                        cwd=str(ROOT), progress_bar=progress, kernel_name="python3")
    _merge_parameter_cells(tmp_out)
    os.replace(tmp_out, notebook_out)  # only a fully executed notebook appears under its name
    return notebook_out


def portable_path(path: str | Path) -> str:
    """``path`` relative to the compendium's root when it lies inside it (``book/_generated/01_...``), else as
    given: what a rendered page or a manifest shows instead of this machine's absolute path."""
    try:
        return Path(path).resolve().relative_to(ROOT.resolve()).as_posix()
    except ValueError:
        return str(path)


def _portable_value(value: Any) -> Any:
    """An absolute path string as :func:`portable_path` shows it; any other value as it is."""
    return portable_path(value) if isinstance(value, str) and Path(value).is_absolute() else value


def _merge_parameter_cells(notebook: Path) -> None:
    """Fold papermill's injected-parameters cell into the notebook's own parameters cell.

    The rendered chapter then shows one parameters cell with the values that ran, and paths (``output_dir``,
    ``replication_dir``, and papermill's record of the run in the notebook's metadata, which the book publishes
    with the page's source) relative to the compendium's root rather than this machine's absolute path.
    """
    import nbformat

    try:
        nb = nbformat.read(str(notebook), as_version=4)
    except Exception:  # noqa: BLE001 -- not a readable notebook (e.g. a stand-in runner's output): leave it as is
        return
    tags = [c.get("metadata", {}).get("tags", []) for c in nb.cells]
    injected = [i for i, t in enumerate(tags) if "injected-parameters" in t]
    own = [i for i, t in enumerate(tags) if "parameters" in t]
    if not injected or not own:
        return
    papermill = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if key in papermill:
            papermill[key] = _portable_value(papermill[key])
    if isinstance(papermill.get("parameters"), dict):
        papermill["parameters"] = {k: _portable_value(v) for k, v in papermill["parameters"].items()}
    source = nb.cells[injected[0]].source
    lines = []
    for line in source.splitlines():
        name, sep, value = line.partition(" = ")
        if sep and name.isidentifier():
            try:
                literal = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError):
                literal = None
            if _portable_value(literal) != literal:  # output_dir, replication_dir, ...
                line = f"{name} = {_portable_value(literal)!r}"
        lines.append(line)
    nb.cells[own[0]].source = "\n".join(["# Parameters (the values of this run)", *[ln for ln in lines
                                                                                  if not ln.startswith("# ")]])
    del nb.cells[injected[0]]
    nbformat.write(nb, str(notebook))


def _short_commit(commit: str) -> str:
    sha, _, dirty = str(commit).partition("-")
    return sha[:10] + (f"-{dirty}" if dirty else "")


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def hardware_table(generated: str | Path) -> str:
    """A Markdown table of the hardware and software behind every study under ``generated``.

    One row per ``<generated>/<study>/manifest.json`` (sorted by study): profile, device and its
    name, platform, torch version, commit, when it ran and its timings. Returns a sentence instead
    of a table when no manifest exists yet.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     hardware_table(d).startswith("No study")
    True
    """
    rows = []
    for path in sorted(Path(generated).glob("*/manifest.json")):
        try:
            m = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            rows.append(f"| {_cell(path.parent.name)} | manifest unreadable: {_cell(type(err).__name__)} "
                        "| | | | | | | |")
            continue
        timings = m.get("timings_s") or {}
        top = sorted(timings.items(), key=lambda kv: -float(kv[1]))[:3]
        stages = "; ".join(f"{k} {float(v):.1f}" for k, v in top)
        packages = m.get("packages") or {}
        cells = [m.get("study", path.parent.name), (m.get("parameters") or {}).get("profile", "?"),
                 m.get("device", "?"), m.get("device_name") or m.get("cpu_name", "?"), m.get("platform", "?"),
                 packages.get("torch", "?"), _short_commit(m.get("git_commit", "?")),
                 m.get("created", "?"), f"{sum(float(v) for v in timings.values()):.1f}",
                 stages]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    if not rows:
        return ("No study has been executed into this book yet, so there is no hardware to report: "
                "`make book` writes one row per study here.\n")
    head = ("| study | profile | device | device name | platform | torch | commit | run at (UTC) | total s "
            "| longest stages (s) |\n|---|---|---|---|---|---|---|---|---|---|\n")
    return head + "\n".join(rows) + "\n"


def write_hardware_table(source: str | Path | None = None) -> Path:
    """Write ``hardware_table`` of ``<source>/book/_generated`` to ``hardware.md`` there; return its path.

    The file is rewritten only when its content changes (so an unchanged table does not make
    Sphinx re-read the page that includes it), and it is always present after this call, which
    keeps the reproducibility chapter's ``{include}`` from breaking before any study has run.
    """
    generated = Path(source or ROOT) / "book" / "_generated"
    generated.mkdir(parents=True, exist_ok=True)
    path = generated / "hardware.md"
    text = hardware_table(generated)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def regenerate_figures(profile: str = "default", only: list[str] | None = None, *, data_root: str | None = None,
                       output_root: str | Path | None = None) -> dict[str, Path]:
    """Re-execute study notebooks to regenerate their figures and tables from the model cache, never training.

    Each notebook runs with ``XAIKIT_CACHE_ONLY=1`` in its kernel's environment, so every
    :func:`xaikit.train.train_cached` call must find its model in the cache (``$XAIKIT_CACHE_DIR`` or
    ``data/cache``); a miss stops the run with an error naming the model instead of training it.
    Results go to ``<output_root>/<study>`` or, by default, where ``run_study`` puts a run without
    overrides (``results/<study>/<profile>/base``). Returns the executed notebooks by study.

    Raises
    ------
    FileNotFoundError
        When a study would have had to train a model (not cached for these parameters): build the
        cache first with ``make book PROFILE=<profile>`` (or ``python -m xaikit run``).

    Examples
    --------
    ``regenerate_figures("default")`` is what ``make figures`` (``python -m xaikit figures``) does.
    """
    import papermill as pm

    names = studies() if not only else [check_option("study", s, studies()) for s in only]
    previous = os.environ.get("XAIKIT_CACHE_ONLY")
    os.environ["XAIKIT_CACHE_ONLY"] = "1"  # papermill kernels inherit the environment
    done = {}
    try:
        for study in names:
            out = None if output_root is None else Path(output_root) / study
            print(f"[xaikit] figures of {study} ({profile} profile, cached models only) ...", flush=True)
            try:
                done[study] = run_study(study, profile, real_data_overrides(study, profile, data_root),
                                        output_dir=out, progress=False)
            except pm.PapermillExecutionError as err:
                if err.ename == "CacheMissError":
                    raise FileNotFoundError(
                        f"figures of {study} ({profile} profile) need a model that is not in the cache, and "
                        f"figures never train: {err.evalue} -- run `make book PROFILE={profile}` (or "
                        f"`python -m xaikit run {study} --profile {profile}`) first") from None
                raise
    finally:
        if previous is None:
            os.environ.pop("XAIKIT_CACHE_ONLY", None)
        else:
            os.environ["XAIKIT_CACHE_ONLY"] = previous
    return done
