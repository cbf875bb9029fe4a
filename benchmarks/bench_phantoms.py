"""Time the phantom generators: ``python benchmarks/bench_phantoms.py [--n 1000] [--size 224]``.

Target (issue 3): 1,000 images at 224 x 224 in under 10 s on 2 CPU cores, per phantom.
Pin the cores with ``taskset -c 0,1`` to reproduce the 2-core figure on a larger machine.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import xaikit.data as xd  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--names", nargs="*", default=list(xd.DATASETS))
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{args.n} images at {args.size}x{args.size}, {cores} usable CPU cores")
    xd.DATASETS[args.names[0]](4, image_size=args.size)  # warm-up: imports, allocator
    for name in args.names:
        t = time.perf_counter()
        ds = xd.DATASETS[name](args.n, image_size=args.size, seed=0)
        dt = time.perf_counter() - t
        print(f"{name:18s} {dt:6.2f} s  ({1e3 * dt / args.n:5.2f} ms/image, {ds.images.nbytes / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
