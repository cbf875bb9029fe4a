"""INFORMER's cost per image (issue 9), relative to one forward+backward pass of the inspected model.

For C = 5 classes the monitor computes C class-specific maps per image (``class_maps``), the class
distinctiveness d (a batched Gram matrix) and the flags; the baselines need one forward pass (entropy)
or n_copies forward passes (TTA). Each is timed per image and divided by the time of one forward+backward
pass of the same model on the same batch (the cost of a single Input×Gradient map). With LRP among the
methods, ``class_maps(lrp)`` is also timed three ways (issue 17; target: at most 3x a forward+backward for 5
classes): image × class rows through zennit's rules (before), the K output relevances batched through one backward
pass with zennit's rules, and the same with our shortcuts (after: ZPlus without its zero negative-input half, and no
plain backward of modules whose rule replaces it; see ``xaikit.explain.LRP``).

Usage: python benchmarks/bench_qc.py [--device cpu|cuda] [--arch densenet121] [--size 64] [--n 16] [--repeats 3]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
from bench_explain import timeit  # best-of-N wall time with CUDA syncs, shared with the explainer benchmark

from xaikit._seed import seeded
from xaikit.explain import LRP, class_maps
from xaikit.models import create_model
from xaikit.qc import EntropyMonitor, Informer, TTAMonitor, class_distinctiveness


def forward_backward(model, x):
    """One forward pass and one backward pass to the input (the unit of cost)."""
    xb = x.detach().requires_grad_(True)
    torch.autograd.grad(model(xb)[:, 0].sum(), xb)


def lrp_rows_unbatched(model, x, n_classes, rows):
    """The pre-issue-17 path of ``class_maps(method="lrp")``: image × class rows through zennit's rules, one hooked
    forward and backward per row batch (K times the forward work)."""
    explainer = zennit_lrp()
    rows_x = x.repeat_interleave(n_classes, dim=0)
    rows_t = torch.arange(n_classes, device=x.device).repeat(len(x))
    out = [explainer.attribute(model, rows_x[i:i + rows], rows_t[i:i + rows]) for i in range(0, len(rows_x), rows)]
    return torch.cat(out).view(len(x), n_classes, *x.shape[1:])


def zennit_lrp() -> LRP:
    """The LRP explainer with zennit's rules unchanged (ZPlus with both halves, every module's own backward run)."""
    explainer = LRP()
    explainer.fast_rules = False
    return explainer


def lrp_before_after(model, x, n_classes, t_unit, repeats, dev) -> None:
    """class_maps(lrp, K classes) per image relative to one forward+backward: row path (before), batched with
    zennit's rules, batched with our shortcuts (after)."""
    n = len(x)
    runs = {"before (image x class rows)": lambda: lrp_rows_unbatched(model, x, n_classes, n),
            "one batched backward, zennit's rules": lambda: class_maps(model, x, method=zennit_lrp(), batch_size=n),
            "after (batched, our rule shortcuts)": lambda: class_maps(model, x, method="lrp", batch_size=n)}
    maps = {name: run() for name, run in runs.items()}
    reference = maps["before (image x class rows)"]
    print(f"\nclass_maps(lrp, {n_classes} classes) relative to one forward+backward pass", flush=True)
    for name, run in runs.items():
        t = timeit(run, repeats, dev) / n
        err = float((maps[name] - reference).abs().max() / reference.abs().max().clamp_min(1e-30))
        print(f"  {name:38s} {t * 1e3:8.2f} ms/image  {t / t_unit:6.2f}x   max |diff| / max |before| {err:.1e}",
              flush=True)


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
    if "lrp" in args.methods.split(","):
        lrp_before_after(model, x, c, t_unit, args.repeats, dev)
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
