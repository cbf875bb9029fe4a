"""The plumbing every study notebook shares: validated parameters, output folder, device, stage timers,
tidy CSVs, figures and the provenance manifest.

A notebook's second cell is one line, ``run = start_run("01_model_complexity", globals())``: it picks the
study's parameters out of the notebook's namespace (the parameters cell papermill filled), validates
them against the :class:`~xaikit.studies.Study` specification, and returns a :class:`StudyRun`.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._spec import Study, get_study

__all__ = ["StudyRun", "start_run"]


class StudyRun:
    """One execution of a study: its validated parameters, where it writes, and what it measured.

    Attributes
    ----------
    study : the :class:`~xaikit.studies.Study` specification.
    params : the validated parameters (list parameters normalised to lists).
    out : the output folder (created).
    device : the resolved ``torch.device`` (``"auto"`` → CUDA when available).
    timings : stage name → seconds, filled by :meth:`stage` (or directly).
    fingerprints : dataset name → fingerprint of the data the run used (for the manifest).
    """

    def __init__(self, study: Study, params: Mapping[str, Any]):
        self.study = study
        self.params = dict(params)
        self.out = Path(self.params["output_dir"])
        self.out.mkdir(parents=True, exist_ok=True)
        self.timings: dict[str, float] = {}
        self.fingerprints: dict[str, str] = {}
        self._device = None

    def __getitem__(self, name: str) -> Any:
        return self.params[name]

    @property
    def seed(self) -> int:
        return int(self.params["seed"])

    @property
    def device(self):
        if self._device is None:
            from ..train import resolve_device

            self._device = resolve_device(self.params["device"])
        return self._device

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name`` (added to ``timings``; repeated stages add up)."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0

    def save_csv(self, frame, name: str) -> Path:
        """Write a tidy frame to ``<out>/<name>`` atomically; return the path."""
        from ..report import write_csv

        return write_csv(frame, self.out / name)

    def write_text(self, text: str, name: str) -> Path:
        """Write ``text`` (e.g. a generated conclusion in markdown) to ``<out>/<name>`` atomically."""
        from ..report import atomic_write_bytes

        return atomic_write_bytes(self.out / name, text.encode("utf-8"))

    def save_figure(self, fig, name: str, *, show: bool = True) -> None:
        """Save ``fig`` to ``<out>/<name>`` and show it in the notebook (``plt.show``). Returns nothing, so a cell
        ending in this call shows the figure, not this machine's path to it."""
        import matplotlib.pyplot as plt

        from ..report import save_figure

        save_figure(fig, self.out / name)
        if show:
            plt.show()

    def finish(self, **provenance: Any) -> dict[str, Any]:
        """Write ``<out>/manifest.json`` (parameters, seed, device, timings, versions, commit and
        ``provenance``) and return the manifest."""
        from ..report import build_manifest, write_json
        from ._runner import _portable_value

        params = {k: _portable_value(v) for k, v in self.params.items()}  # output_dir, replication_dir, ...
        if self.fingerprints and "data_fingerprint" not in provenance:  # the data every stage recorded
            provenance["data_fingerprint"] = dict(self.fingerprints)
        manifest = build_manifest(study=self.study.name, parameters=params, seed=self.seed,
                                  device=str(self.device), timings=self.timings, **provenance)
        write_json(self.out / "manifest.json", manifest)
        return manifest

    def replication(self):
        """Summarise this run and the replication sweep's seeds (``replication_dir``) with
        :func:`xaikit.studies.replicate`; write ``replication_values.csv``, ``replication_summary.csv`` and
        ``replication_verdicts.csv``; return the :class:`~xaikit.studies.Replication`. Call it after
        :meth:`finish` (it reads this run's own folder like any other seed's)."""
        from ._replication import replicate, replication_folders

        folders = replication_folders(self.study.name, self.out, self.seed, self.params.get("replication_dir"))
        rep = replicate(self.study.name, folders)
        self.save_csv(rep.values, "replication_values.csv")
        self.save_csv(rep.summary.drop(columns=["seed_means"], errors="ignore"), "replication_summary.csv")
        self.save_csv(rep.verdicts.merge(rep.consistency[["verdict", "status"]], on="verdict", how="left"),
                      "replication_verdicts.csv")
        return rep

    def written(self) -> list[str]:
        """The files this run has written to ``out`` so far, sorted (hidden files left out)."""
        return sorted(p.name for p in self.out.iterdir() if not p.name.startswith("."))


def start_run(study: str, namespace: Mapping[str, Any], *, precision: int = 3) -> StudyRun:
    """Validate a notebook's parameters against ``study``'s specification and return its :class:`StudyRun`.

    Parameters
    ----------
    study : the study's name (``"01_model_complexity"``).
    namespace : the notebook's ``globals()``: every parameter of the study must be defined there.
    precision : digits pandas shows in the notebook's tables.

    Raises
    ------
    ValueError naming the parameter when a value is missing or invalid.
    """
    spec = get_study(study)
    params = spec.validate({k: namespace[k] for k in spec.parameters if k in namespace})
    try:  # notebook display defaults; plain scripts work without matplotlib/pandas configured
        import matplotlib.pyplot as plt
        import pandas as pd

        plt.rcParams["figure.dpi"] = 96
        pd.set_option("display.precision", precision)
    except ImportError:  # pragma: no cover - both are dependencies
        pass
    return StudyRun(spec, params)
