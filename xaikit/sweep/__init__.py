"""Parameter sweeps on Dask: a grid of study runs, each a fresh runner process, on one machine or a cluster.

``python -m xaikit sweep STUDY --grid seed=42,43,44`` runs every cell of the grid as a Dask task on a
local cluster (``distributed.LocalCluster``), a running scheduler (``tcp://host:port``) or SLURM
(``dask_jobqueue.SLURMCluster``); ``python -m xaikit aggregate`` joins the cells' tables. ``import
xaikit.sweep`` imports neither dask nor torch: the engine is started only when a sweep runs.
"""
from ._aggregate import aggregate
from ._cell import run_cell
from ._engine import SLURM_KEYS, Engine, check_engine, make_engine, slurm_cluster, visible_gpus
from ._grid import Cell, cell_id, coerce_value, expand_grid, load_sweep_file, parse_grid, parse_value, sweep_id
from ._sweep import DEFAULT_TIMEOUT, TRANSIENT_ERRORS, cell_command, cell_complete, run_sweep, sweep_dir

__all__ = ["DEFAULT_TIMEOUT", "SLURM_KEYS", "TRANSIENT_ERRORS", "Cell", "Engine", "aggregate", "cell_command",
           "cell_complete", "cell_id", "check_engine", "coerce_value", "expand_grid", "load_sweep_file", "make_engine",
           "parse_grid", "parse_value", "run_cell", "run_sweep", "slurm_cluster", "sweep_dir", "sweep_id",
           "visible_gpus"]
