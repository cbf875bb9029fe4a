"""Sweep grids: ``--grid k=v1,v2`` arguments and sweep files, expanded into validated cells."""
from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..studies import parse_value  # the one parser of command-line values, shared with `xaikit run`

__all__ = ["Cell", "cell_id", "coerce_value", "expand_grid", "load_sweep_file", "parse_grid", "parse_value", "sweep_id"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

SWEEP_FILE_KEYS = ("grid", "parameters", "slurm")


def coerce_value(study: str, name: str, value: Any) -> Any:
    """Undo :func:`parse_value` where it guessed wrong: a "choice" parameter whose choices include the text.

    ``-p augment none`` parses as ``None``, but ``augment``'s choices hold the string ``"none"``;
    this returns the choice spelled like the text (any case). Other values come back unchanged.

    Examples
    --------
    >>> coerce_value("02_informer_qc", "augment", parse_value("none"))
    'none'
    """
    from ..studies import STUDY_PARAMS

    spec = STUDY_PARAMS.get(study, {}).get(name)
    if spec is None or spec.kind != "choice" or value in spec.choices or isinstance(value, (list, tuple)):
        return value
    text = "none" if value is None else str(value).lower()
    match = [c for c in spec.choices if isinstance(c, str) and c.lower() == text]
    return match[0] if match else value


def _grid_value(text: str) -> Any:
    # "a+b" is one cell whose (list) parameter holds a and b: commas already separate the grid's values
    if "+" in text and not re.fullmatch(r"[0-9eE.+-]+", text):
        return [parse_value(t) for t in text.split("+")]
    return parse_value(text)


def parse_grid(items: list[str] | tuple[str, ...]) -> dict[str, list[Any]]:
    """Parse repeated ``--grid NAME=V1,V2,...`` arguments into ``{name: [values]}``.

    Commas separate the grid's values; ``+`` joins the items of one value of a list parameter
    (``archs=resnet18+resnet34,resnet50`` is two cells: both ResNets, then ResNet-50 alone).
    Values are parsed like ``-p`` values (see :func:`parse_value`).

    Raises
    ------
    ValueError
        naming the ``--grid`` argument when it is not ``NAME=VALUES``, a name repeats, or a value is empty.

    Examples
    --------
    >>> parse_grid(["seed=42,43", "archs=resnet18+resnet34,resnet50"])
    {'seed': [42, 43], 'archs': [['resnet18', 'resnet34'], 'resnet50']}
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, sep, values = str(item).partition("=")
        name = name.strip()
        if not sep or not _NAME.match(name):
            raise ValueError(f"--grid must be NAME=VALUE1,VALUE2,... (e.g. seed=42,43,44); got {item!r}")
        if name in grid:
            raise ValueError(f"--grid names {name!r} twice; give all its values in one argument: {name}=a,b,c")
        texts = [v.strip() for v in values.split(",")]
        if not values.strip() or any(not t for t in texts):
            raise ValueError(f"--grid {name}= has an empty value in {values!r}")
        grid[name] = [_grid_value(t) for t in texts]
    return grid


def load_sweep_file(path: str | Path) -> dict[str, Any]:
    """Read a sweep file: YAML with ``grid`` (name → list of values), ``parameters`` (fixed overrides for
    every cell) and ``slurm`` (the SLURM cluster block, see :func:`xaikit.sweep.slurm_cluster`), all optional.

    Raises
    ------
    ValueError
        naming ``sweep_file`` when it is missing, not a mapping, has an unknown top-level key, or a grid
        entry is not a non-empty list.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"sweep_file {str(path)!r} does not exist")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"sweep_file {str(path)!r} must hold a mapping with keys {', '.join(SWEEP_FILE_KEYS)}")
    unknown = sorted(set(data) - set(SWEEP_FILE_KEYS))
    if unknown:
        raise ValueError(f"sweep_file {str(path)!r} has unknown keys {unknown}; allowed: {', '.join(SWEEP_FILE_KEYS)}")
    grid = data.get("grid") or {}
    if not isinstance(grid, dict):
        raise ValueError(f"sweep_file {str(path)!r}: 'grid' must map parameter names to lists of values")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"sweep_file {str(path)!r}: grid entry {name!r} must be a non-empty list, got {values!r}")
    for key in ("parameters", "slurm"):
        if not isinstance(data.get(key) or {}, dict):
            raise ValueError(f"sweep_file {str(path)!r}: {key!r} must be a mapping")
    return {"grid": dict(grid), "parameters": dict(data.get("parameters") or {}),
            "slurm": dict(data.get("slurm") or {})}


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))


def cell_id(overrides: dict[str, Any]) -> str:
    """A readable, deterministic folder name for one cell: ``name=value`` pairs in name order.

    List values are joined with ``+``; characters outside ``[A-Za-z0-9_.=+-]`` become ``_``; names
    longer than 80 characters are cut and completed with a hash of the full overrides.

    Examples
    --------
    >>> cell_id({"seed": 43, "archs": ["resnet18", "resnet34"]})
    'archs=resnet18+resnet34-seed=43'
    """
    if not overrides:
        return "base"
    parts = []
    for key in sorted(overrides):
        value = overrides[key]
        text = "+".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        parts.append(f"{key}={text}")
    name = re.sub(r"[^A-Za-z0-9_.=+-]+", "_", "-".join(parts))
    if len(name) > 80:
        name = name[:69] + "-" + hashlib.sha256(_canonical(overrides).encode()).hexdigest()[:10]
    return name


def sweep_id(study: str, profile: str, grid: dict[str, list[Any]], fixed: dict[str, Any]) -> str:
    """The default sweep id: the grid's names and a hash of study, profile, grid and fixed parameters, so
    that running the same sweep again finds (and resumes) its record.

    Examples
    --------
    >>> sweep_id("00_phantoms", "smoke", {"seed": [1, 2]}, {}) == sweep_id("00_phantoms", "smoke", {"seed": [1, 2]}, {})
    True
    """
    digest = hashlib.sha256(_canonical([study, profile, grid, fixed]).encode()).hexdigest()[:10]
    names = "+".join(sorted(grid)) or "base"
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", f"{names}-{digest}")


@dataclass
class Cell:
    """One grid cell: its id, the overrides it sets (grid values and fixed parameters) and where it writes."""

    id: str
    overrides: dict[str, Any]
    output_dir: Path
    params: dict[str, Any] = field(default_factory=dict)  # the full, validated parameters the notebook receives


def expand_grid(study: str, profile: str, grid: dict[str, list[Any]], fixed: dict[str, Any] | None,
                cells_dir: str | Path) -> list[Cell]:
    """Every combination of the grid's values (the first name varies slowest), each validated in full.

    Each cell's parameters are the profile's for ``study``, updated by ``fixed`` and the cell's grid
    values, with ``output_dir = <cells_dir>/<cell id>``; all of them are checked with
    ``xaikit.studies.validate_params`` before the first cell starts, so a bad value anywhere in
    the grid fails at once.

    Raises
    ------
    ValueError
        from the validation, prefixed with the offending cell's id; or when ``grid`` names a parameter
        also in ``fixed`` or ``output_dir``.
    """
    from ..studies import load_profile, validate_params

    fixed = {k: coerce_value(study, k, v) for k, v in (fixed or {}).items()}
    grid = {k: [coerce_value(study, k, v) for v in values] for k, values in grid.items()}
    for name in ("output_dir",):
        if name in grid or name in fixed:
            raise ValueError(f"grid: {name!r} is set by the sweep for each cell and cannot be swept or fixed")
    both = sorted(set(grid) & set(fixed))
    if both:
        raise ValueError(f"grid: {both} are both swept and fixed; give each parameter in one place")
    base = load_profile(profile, study)
    names = list(grid)
    cells, seen = [], {}
    for values in itertools.product(*(grid[n] for n in names)):
        overrides = {**fixed, **dict(zip(names, values, strict=True))}
        cid = cell_id(dict(zip(names, values, strict=True)))
        if cid in seen:
            raise ValueError(f"grid: cells {seen[cid]} and {overrides} get the same id {cid!r}; "
                             "remove duplicate values")
        seen[cid] = overrides
        out = (Path(cells_dir) / cid).resolve()
        params = {**base, **overrides, "output_dir": str(out)}
        try:
            params = validate_params(study, params)
        except ValueError as err:
            raise ValueError(f"grid cell {cid}: {err}") from None
        cells.append(Cell(cid, overrides, out, json.loads(json.dumps(params, default=str))))
    return cells
