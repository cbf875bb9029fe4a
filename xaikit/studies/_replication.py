"""Replication over seeds: the seed is the unit of evidence.

A study's chapter runs one seed in full. With ``replication_dir`` set (``make book`` sets it), the chapter
also reads the cells of a replication sweep (:func:`xaikit.sweep.run_sweep` over ``seed``), one folder per
seed, and summarises each headline quantity over seeds — every seed's value, the mean with a
t-interval (seed as the unit: the values are per-seed numbers already averaged over images), the
between-seed SD — and says for each headline verdict whether it holds in every seed.

A study takes part by defining ``replication_values(folder) -> dict[str, float]`` in its ``analysis`` module
and ``replication_verdicts(folder) -> dict[str, str]`` in its ``text`` module, both read from a finished run's
folder (its CSVs and ``manifest.json``), so the summary never depends on what stayed in memory.
"""
from __future__ import annotations

import importlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RUNNING_MARKER", "Replication", "replicate", "replication_folders", "replication_text",
           "replication_figure", "wait_for_sweep"]

#: A file in a replication sweep's folder while the sweep still runs beside the chapter (``make book`` runs the
#: two at once); it holds the process id of whoever runs the sweep.
RUNNING_MARKER = ".running"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def wait_for_sweep(replication_dir: str | Path, *, poll: float = 1.0, timeout: float | None = None) -> bool:
    """Wait while ``replication_dir`` holds ``RUNNING_MARKER`` and the process named in it lives; return
    whether it waited for a sweep that then finished (False: nothing ran, or the marker was left by a process
    that died, which is not waited for). ``timeout`` (seconds) raises :class:`TimeoutError`."""
    marker = Path(replication_dir) / RUNNING_MARKER
    t0, waited = time.monotonic(), False
    while marker.exists():
        try:
            pid = int(marker.read_text().strip() or 0)
        except (OSError, ValueError):
            pid = 0
        if not marker.exists():
            break
        if pid <= 0 or not _alive(pid):
            return False
        if timeout is not None and time.monotonic() - t0 > timeout:
            raise TimeoutError(f"the replication sweep in {str(replication_dir)!r} still runs after {timeout:g} s")
        waited = True
        time.sleep(poll)
    return waited


def replication_folders(study: str, this_run: str | Path, this_seed: int,
                        replication_dir: str | Path | None) -> dict[int, Path]:
    """seed → result folder: the running chapter's own folder and every completed cell of the sweep under
    ``replication_dir`` (its ``sweep.json``); a cell with the chapter's seed is left out (the chapter is that
    seed). Failed or unfinished cells are left out. A sweep still running beside the chapter (its folder holds
    ``RUNNING_MARKER``) is waited for first (:func:`wait_for_sweep`)."""
    folders = {int(this_seed): Path(this_run)}
    if replication_dir is None:
        return folders
    wait_for_sweep(replication_dir)
    record = Path(replication_dir) / "sweep.json"
    if not record.is_file():
        raise ValueError(f"replication_dir {str(replication_dir)!r} holds no sweep.json: run the replication sweep "
                         f"first (make book does) or leave replication_dir unset")
    data = json.loads(record.read_text())
    if data.get("study") != study:
        raise ValueError(f"replication_dir {str(replication_dir)!r} is a sweep of {data.get('study')!r}, "
                         f"not of {study!r}")
    for cell in data.get("cells", {}).values():
        seed = int(cell["params"]["seed"])
        if cell.get("status") in ("done", "skipped") and seed not in folders:
            folders[seed] = Path(cell["output_dir"])
    return dict(sorted(folders.items()))


@dataclass
class Replication:
    """A study's headline quantities and verdicts over seeds.

    Attributes
    ----------
    values : tidy ``seed, quantity, value``.
    summary : per quantity ``n_seeds, mean, sd, low, high`` (t-interval over seeds, :func:`xaikit.stats.seed_summary`).
    verdicts : tidy ``seed, verdict, value``.
    consistency : per verdict ``status`` ("replicated", "flips", "too few seeds"), the common ``value`` and the
        ``counts`` of each value (:func:`xaikit.stats.replicated`).
    """

    values: Any
    summary: Any
    verdicts: Any
    consistency: Any

    @property
    def n_seeds(self) -> int:
        return int(self.values["seed"].nunique()) if len(self.values) else 0


def replicate(study: str, folders: Mapping[int, str | Path], *, min_seeds: int = 3, level: float = 0.95) -> Replication:
    """Read every seed's headline values and verdicts (the study's ``analysis.replication_values`` /
    ``replication_verdicts``) and summarise them over seeds."""
    import pandas as pd

    from ..stats import replicated, seed_summary
    from ._spec import get_study

    package = get_study(study).package
    analysis = importlib.import_module(f"xaikit.studies.{package}.analysis")
    text = importlib.import_module(f"xaikit.studies.{package}.text")
    if not hasattr(analysis, "replication_values"):
        raise ValueError(f"study {study!r} defines no replication_values: it has no headline to replicate")
    values, verdicts = [], []
    for seed, folder in folders.items():
        values += [{"seed": seed, "quantity": q, "value": float(v)}
                   for q, v in analysis.replication_values(Path(folder)).items()]
        verdicts += [{"seed": seed, "verdict": k, "value": v}
                     for k, v in text.replication_verdicts(Path(folder)).items()]
    values = pd.DataFrame(values, columns=["seed", "quantity", "value"])
    verdicts = pd.DataFrame(verdicts, columns=["seed", "verdict", "value"])
    order = list(dict.fromkeys(values["quantity"]))
    summary = seed_summary(values, "value", by="quantity", level=level) if len(values) else pd.DataFrame()
    if len(summary):
        summary = summary.set_index("quantity").loc[order].reset_index()
    rows = []
    for name, sub in verdicts.groupby("verdict", sort=False):
        r = replicated(dict(zip(sub["seed"], sub["value"], strict=True)), min_seeds=min_seeds)
        rows.append({"verdict": name, "status": r["status"], "value": r["verdict"], "n_seeds": r["n_seeds"],
                     "counts": "; ".join(f"{v}: {n}" for v, n in r["counts"].items())})
    consistency = pd.DataFrame(rows, columns=["verdict", "status", "value", "n_seeds", "counts"])
    return Replication(values, summary, verdicts, consistency)


def replication_text(rep: Replication) -> str:
    """What the replication shows: how many seeds, and for every headline verdict whether it held in every seed
    (or flipped, with how often each answer came up)."""
    if rep.n_seeds < 2:
        return ("This run has one seed: no replication was run (``make book`` runs the profile's replication "
                "seeds), so nothing here says whether its verdicts would hold on new data and a new model.")
    parts = []
    for r in rep.consistency.to_dict("records"):
        if r["status"] == "replicated":
            parts.append(f"{r['verdict']}: holds in all {r['n_seeds']} seeds ({r['value']})")
        elif r["status"] == "flips":
            parts.append(f"{r['verdict']}: **not replicated** — it flips between seeds ({r['counts']})")
        else:
            parts.append(f"{r['verdict']}: too few seeds to tell ({r['n_seeds']}; {r['counts']})")
    return (f"Over {rep.n_seeds} seeds (each a new draw of the data and a new model): " + "; ".join(parts) + ".")


def replication_figure(rep: Replication, quantities: Sequence[str] | None = None):
    """Each quantity's per-seed values as points, and the mean over seeds with its t-interval."""
    import matplotlib.pyplot as plt
    import numpy as np

    summary = rep.summary.set_index("quantity") if len(rep.summary) else None
    names = list(quantities or (summary.index if summary is not None else []))
    fig, ax = plt.subplots(figsize=(6.4, 0.35 * max(len(names), 2) + 1.0))
    for i, q in enumerate(names):
        v = rep.values[rep.values["quantity"] == q]
        ax.scatter(v["value"], np.full(len(v), i) + 0.12, s=14, color="grey", zorder=2,
                   label="one seed" if i == 0 else None)
        row = summary.loc[q]
        if np.isfinite(row["low"]):
            ax.errorbar(row["mean"], i - 0.12, xerr=[[row["mean"] - row["low"]], [row["high"] - row["mean"]]],
                        fmt="o", color="black", capsize=3, label="mean, 95 % t-interval" if i == 0 else None)
        else:
            ax.plot(row["mean"], i - 0.12, "o", color="black")
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("value")
    ax.legend(fontsize=7, frameon=False, loc="best")
    fig.tight_layout()
    return fig
