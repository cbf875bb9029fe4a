"""What a sweep costs (issue 16): per-cell overhead over the CLI run sequentially, and the 2-worker speed-up.

Runs the same grid of cells (by default four seeds of the cheapest study, ``00_phantoms``, smoke profile)
three ways, each into a fresh results folder so nothing is skipped:

1. ``python -m xaikit run STUDY -p seed S`` for each cell, one after another (the baseline; torch uses
   every core, its default);
2. ``run_sweep`` on a local cluster of 1 worker process with as many threads as cores (the same torch
   thread count as the baseline; cluster start-up included);
3. ``run_sweep`` on a local cluster of W worker processes with cores / W threads each (the same cores).

The overhead per cell is (2 - 1) / cells: the price of Dask, the record and the subprocess wrapper when
nothing runs in parallel. The speed-up is (2) / (3): what running W cells at once gains over giving
every core to one cell at a time. On a machine shared with other work the timings move with its load.

Usage: python benchmarks/bench_sweep.py [--study 00_phantoms] [--profile smoke] [--seeds 42,43,44,45] [--workers 2]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from xaikit.sweep import run_sweep


def sequential(study: str, profile: str, seeds: list[int], root: Path) -> list[float]:
    """Wall time of each ``python -m xaikit run`` of the cells, one after another."""
    times = []
    for seed in seeds:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "xaikit", "run", study, "--profile", profile, "-p", "seed", str(seed),
                        "--output-dir", str(root / f"seed={seed}")], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return times


def sweep(study: str, profile: str, seeds: list[int], root: Path, workers: int, threads: int) -> tuple[float, dict]:
    """Wall time of a whole sweep of the cells on a fresh local cluster (start-up and shut-down included)."""
    t0 = time.perf_counter()
    record = run_sweep(study, profile, {"seed": seeds}, results_root=root, workers=workers,
                       threads_per_worker=threads, quiet=True)
    wall = time.perf_counter() - t0
    bad = [cid for cid, c in record["cells"].items() if c["status"] != "done"]
    if bad:
        raise RuntimeError(f"cells {bad} did not complete; see their logs under {root}")
    return wall, record


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--study", default="00_phantoms")
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--seeds", default="42,43,44,45")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    n = len(seeds)
    cores = os.cpu_count() or 1
    t_w = max(1, cores // args.workers)
    print(f"{args.study} ({args.profile} profile), {n} cells (seeds {args.seeds}), {os.cpu_count()} CPU(s)",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        tmp = Path(tmp)
        seq = sequential(args.study, args.profile, seeds, tmp / "seq")
        t_seq = sum(seq)
        print(f"  CLI, one after another : {t_seq:7.1f} s  ({t_seq / n:.1f} s per cell; "
              f"{', '.join(f'{t:.1f}' for t in seq)})", flush=True)
        t1, rec1 = sweep(args.study, args.profile, seeds, tmp / "w1", 1, cores)
        cell1 = sum(c["wall_s"] for c in rec1["cells"].values())
        print(f"  sweep, 1 worker x {cores} threads : {t1:7.1f} s  (cells' own wall time {cell1:.1f} s)", flush=True)
        tw, recw = sweep(args.study, args.profile, seeds, tmp / f"w{args.workers}", args.workers, t_w)
        cellw = sum(c["wall_s"] for c in recw["cells"].values())
        print(f"  sweep, {args.workers} workers x {t_w} thread(s): {tw:7.1f} s  (cells' own wall time {cellw:.1f} s)",
              flush=True)
    print(f"\noverhead per cell of a 1-worker sweep over the CLI run sequentially: {(t1 - t_seq) / n:+.1f} s "
          f"({(t1 - t_seq) / t_seq * 100:+.1f} % of the sequential time; of it, outside the cells' subprocesses: "
          f"{(t1 - cell1) / n:.1f} s per cell)")
    print(f"speed-up of {args.workers} local workers over 1 on the {n}-cell grid: {t1 / tw:.2f}x")


if __name__ == "__main__":
    main()
