"""Join a sweep's per-cell tidy tables into one long table per table name."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._sweep import sweep_dir

__all__ = ["aggregate"]

_COMPLETED = ("done", "skipped")


def _column_value(value: Any) -> Any:
    return "+".join(map(str, value)) if isinstance(value, (list, tuple)) else value


def aggregate(study: str, profile: str, sweep: str, *, results_root: str | Path | None = None,
              write: bool = True) -> dict[str, Any]:
    """One long table per CSV name from every completed cell of a sweep.

    For each CSV a cell wrote (``<cell output_dir>/**/*.csv``, named by its path relative to the cell's
    folder, without ``.csv``), the cells' tables are stacked in the grid's order, each row
    prefixed with ``cell`` (the cell id), ``commit`` (the cell manifest's ``git_commit``), ``seed`` (the
    cell's seed) and one column per grid parameter (list values joined with ``+``). When a table already
    has a column of one of those names, the added column is called ``sweep_<name>`` instead. Failed
    cells are left out (the record says which).

    Parameters
    ----------
    study, profile, sweep : which sweep (its record is ``results/<study>/<profile>/_sweeps/<sweep>/sweep.json``).
    results_root : the ``results/`` folder (default: the compendium's).
    write : also write each table to ``.../_sweeps/<sweep>/aggregate/<name>.csv``.

    Returns
    -------
    dict
        table name → ``pandas.DataFrame``.

    Raises
    ------
    ValueError
        naming ``sweep`` when it has no record or no completed cell.
    """
    import pandas as pd

    from ..report import write_csv

    folder = sweep_dir(study, profile, sweep, results_root)
    path = folder / "sweep.json"
    if not path.is_file():
        raise ValueError(f"sweep {sweep!r} of {study} ({profile} profile) has no record at {path}")
    record = json.loads(path.read_text())
    grid = list(record.get("grid", {}))
    order = record.get("cell_order") or list(record["cells"])  # the grid's order (the JSON's keys are sorted)
    cells = {cid: record["cells"][cid] for cid in order if record["cells"][cid]["status"] in _COMPLETED}
    if not cells:
        raise ValueError(f"sweep {sweep!r} has no completed cell to aggregate (statuses: "
                         f"{sorted({c['status'] for c in record['cells'].values()})})")
    parts: dict[str, list[pd.DataFrame]] = {}
    for cid, cell in cells.items():
        out = Path(cell["output_dir"])
        try:
            commit = json.loads((out / "manifest.json").read_text()).get("git_commit")
        except (OSError, ValueError):
            commit = None
        extra = {"cell": cid, "commit": commit, "seed": cell["params"].get("seed")}
        extra.update({name: _column_value(cell["overrides"][name]) for name in grid})
        for csv in sorted(p for p in out.rglob("*.csv") if not p.name.startswith(".")):
            name = csv.relative_to(out).with_suffix("").as_posix()
            df = pd.read_csv(csv)
            added = {(f"sweep_{k}" if k in df.columns else k): v for k, v in extra.items()}
            front = pd.DataFrame({k: [v] * len(df) for k, v in added.items()}, index=df.index)
            parts.setdefault(name, []).append(pd.concat([front, df], axis=1))
    tables = {name: pd.concat(dfs, ignore_index=True) for name, dfs in parts.items()}
    if write:
        for name, df in tables.items():
            write_csv(df, folder / "aggregate" / f"{name}.csv")
    return tables
