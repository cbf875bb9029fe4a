"""INFORMER's cost per image (issue 9), relative to one forward+backward pass of the inspected model.

For C = 5 classes the monitor computes C class-specific maps per image (``class_maps``), the class
distinctiveness d (a batched Gram matrix) and the flags; the baselines need one forward pass (entropy)
or n_copies forward passes (TTA). Each is timed per image and divided by the time of one forward+backward
pass of the same model on the same batch (the cost of a single Input×Gradient map).

Usage: python benchmarks/bench_qc.py [--device cpu|cuda] [--arch densenet121] [--size 64] [--n 16] [--repeats 3]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
from bench_explain import timeit  # best-of-N wall time with CUDA syncs, shared with the explainer benchmark

from xaikit._seed import seeded
from xaikit.explain import class_maps
from xaikit.models import create_model
from xaikit.qc import EntropyMonitor, Informer, TTAMonitor, class_distinctiveness


def forward_backward(model, x):
    """One forward pass and one backward pass to the input (the unit of cost)."""
    xb = x.detach().requires_grad_(True)
    torch.autograd.grad(model(xb)[:, 0].sum(), xb)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--arch", default="densenet121")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tta-copies", type=int, default=10)
    ap.add_argument("--methods", default="input_x_gradient,lrp")
    args = ap.parse_args()
    dev = torch.device(args.device)
    c = 5
    with seeded(0):
        model = create_model(args.arch, 1, c).eval().to(dev)
    x = torch.rand(args.n, 1, args.size, args.size, generator=torch.Generator().manual_seed(0)).to(dev)
    y = np.random.default_rng(0).integers(0, 2, (args.n, c))
    print(f"device={dev} threads={torch.get_num_threads()} {args.arch} {args.size}px N={args.n} C={c}", flush=True)
    t_unit = timeit(lambda: forward_backward(model, x), args.repeats, dev) / args.n
    print(f"  one forward+backward pass: {t_unit * 1e3:8.2f} ms/image (= 1.00x)", flush=True)
    print("\nmonitor cost per image (score + flag), relative to one forward+backward pass", flush=True)
    for method in args.methods.split(","):
        mon = Informer(method, batch_size=args.n)
        maps = mon.maps(model, x)
        mon.fit(y, y, maps=maps)
        t_maps = timeit(lambda m=method: class_maps(model, x, method=m, batch_size=args.n), args.repeats, dev)
        t_d = timeit(lambda mp=maps: class_distinctiveness(mp), args.repeats, dev)
        t_all = timeit(lambda mn=mon: mn.flag(model=model, x=x), args.repeats, dev)
        per = t_all / args.n
        print(f"  INFORMER_{method:18s} {per * 1e3:8.2f} ms/image  {per / t_unit:6.2f}x   "
              f"(maps {t_maps / args.n * 1e3:.2f} ms, d {t_d / args.n * 1e3:.3f} ms)", flush=True)
    ent = EntropyMonitor(batch_size=args.n).fit(y, y, scores=np.ones((args.n, c)))
    per = timeit(lambda: ent.flag(model=model, x=x), args.repeats, dev) / args.n
    print(f"  {'entropy':27s} {per * 1e3:8.2f} ms/image  {per / t_unit:6.2f}x", flush=True)
    tta = TTAMonitor(n_copies=args.tta_copies, batch_size=args.n * args.tta_copies)
    tta.fit(y, y, scores=np.ones((args.n, c)))
    per = timeit(lambda: tta.flag(model=model, x=x), args.repeats, dev) / args.n
    label = f"tta ({args.tta_copies} copies)"
    print(f"  {label:27s} {per * 1e3:8.2f} ms/image  {per / t_unit:6.2f}x", flush=True)


if __name__ == "__main__":
    main()
