"""Attribution overheads (issue 6). Prints, on this machine:

1. each gradient method's time vs the same number of bare forward+backward passes (target <= 1.1x);
2. ``class_maps`` with C = 5 vs 5 separate calls (target >= 3x faster);
3. ``shap_partition``: the share of its time spent inside the model at 224 px (target >= 80 %).

Usage: python benchmarks/bench_explain.py [--device cpu|cuda] [--size 64] [--n 16] [--repeats 3]
"""
from __future__ import annotations

import argparse
import time

import torch

from xaikit._seed import seeded
from xaikit.explain import class_maps, get_explainer
from xaikit.models import create_model


def timeit(fn, repeats: int, device: torch.device) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def bare_passes(model, x, target, passes: int):
    """``passes`` forward+backward passes w.r.t. the input, batched as the explainer batches them."""
    xb = x.repeat(passes, 1, 1, 1).requires_grad_(True)
    out = model(xb).gather(1, target.repeat(passes)[:, None]).sum()
    torch.autograd.grad(out, xb)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--shap-size", type=int, default=224)
    args = ap.parse_args()
    dev = torch.device(args.device)
    with seeded(0):
        model = create_model("resnet18", 1, 5).eval().to(dev)
    x = torch.rand(args.n, 1, args.size, args.size, generator=torch.Generator().manual_seed(0)).to(dev)
    target = torch.zeros(args.n, dtype=torch.long, device=dev)
    print(f"device={dev} threads={torch.get_num_threads()} resnet18 {args.size}px N={args.n}")

    print("\n1. gradient methods vs bare forward+backward passes (ratio; target <= 1.1)")
    cases = [("saliency", {}, 1), ("input_x_gradient", {}, 1),
             ("integrated_gradients", {"n_steps": 25}, 25), ("gradient_shap", {"n_samples": 5}, 5),
             ("smoothgrad", {"nt_samples": 16, "stdevs": 0.1}, 16)]
    for name, params, passes in cases:
        explainer = get_explainer(name, **params)
        t_method = timeit(lambda e=explainer: e.attribute(model, x, target), args.repeats, dev)
        t_bare = timeit(lambda p=passes: bare_passes(model, x, target, p), args.repeats, dev)
        print(f"  {name:22s} {t_method * 1e3:9.1f} ms  bare {t_bare * 1e3:9.1f} ms  ratio {t_method / t_bare:5.2f}")

    print("\n2. class_maps, C = 5, vs 5 separate calls (speed-up; target >= 3)")
    for name in ("input_x_gradient", "saliency"):
        explainer = get_explainer(name)
        t_sep = timeit(lambda e=explainer: [e.attribute(model, x, c) for c in range(5)], args.repeats, dev)
        t_cm = timeit(lambda n=name: class_maps(model, x, method=n, batch_size=args.n), args.repeats, dev)
        print(f"  {name:22s} separate {t_sep * 1e3:8.1f} ms  class_maps {t_cm * 1e3:8.1f} ms  "
              f"speed-up {t_sep / t_cm:4.2f}x")

    print(f"\n3. shap_partition at {args.shap_size} px: share of time inside the model (target >= 80 %)")
    inside = [0.0]
    forward = model.forward

    def timed_forward(*a, **k):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = forward(*a, **k)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        inside[0] += time.perf_counter() - t0
        return out

    xs = torch.rand(2, 1, args.shap_size, args.shap_size, generator=torch.Generator().manual_seed(1)).to(dev)
    explainer = get_explainer("shap_partition", max_evals=500, batch_size=100)
    explainer.attribute(model, xs[:1], 0)  # warm-up: numba compiles shap's partition tree builder once
    model.forward = timed_forward
    t0 = time.perf_counter()
    explainer.attribute(model, xs, 0)
    total = time.perf_counter() - t0
    model.forward = forward
    print(f"  total {total:.2f} s, inside the model {inside[0]:.2f} s: {100 * inside[0] / total:.0f} %")


if __name__ == "__main__":
    main()
