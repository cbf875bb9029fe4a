"""Cost of the methods atlas's expensive criteria (issue 21), in forward+backward-pass units per image.

For one model and the saliency explainer, counts the images that go through the model forward and backward
(:class:`xaikit.studies.methods_atlas.analysis.PassCounter`) during deletion and insertion (``steps + 1`` forward
passes each), ROAD (one forward pass per fraction), cascading randomisation (one explanation per block step plus
the reference) and max-sensitivity (one explanation per noisy copy), and times each against one bare
forward+backward pass of the same batch. Prints units per image and seconds per image.

Usage: python benchmarks/bench_atlas.py [--device cpu|cuda] [--arch paper003_resnet18_w8] [--size 48] [--n 8]
"""
from __future__ import annotations

import argparse
import time

import torch

from xaikit._seed import seeded
from xaikit.explain import get_explainer
from xaikit.metrics import deletion_auc, insertion_auc, max_sensitivity, model_randomisation, road
from xaikit.models import create_model
from xaikit.studies.methods_atlas.analysis import PassCounter
from xaikit.studies.model_complexity.analysis import block_layers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--arch", default="paper003_resnet18_w8")
    ap.add_argument("--size", type=int, default=48)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--samples", type=int, default=4)
    args = ap.parse_args()
    device = torch.device(args.device)
    with seeded(0):
        model = create_model(args.arch, 1, 2).to(device).eval()
    x = torch.rand(args.n, 1, args.size, args.size, generator=torch.Generator().manual_seed(0)).to(device)
    y = torch.ones(args.n, dtype=torch.long, device=device)
    explain = get_explainer("saliency").attribute
    maps = explain(model, x, y).detach()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def bare():
        xx = x.clone().requires_grad_(True)
        torch.autograd.grad(model(xx).gather(1, y[:, None]).sum(), xx)

    bare()
    unit_s = float("inf")
    for _ in range(5):  # best of five: the unit must not carry a scheduling hiccup
        sync()
        t0 = time.perf_counter()
        bare()
        sync()
        unit_s = min(unit_s, (time.perf_counter() - t0) / args.n)
    layers = block_layers(model)
    jobs = {
        "deletion": lambda: deletion_auc(model, x, maps, y, steps=args.steps),
        "insertion": lambda: insertion_auc(model, x, maps, y, steps=args.steps),
        "road": lambda: road(model, x, maps, y, output="probability"),
        "randomisation": lambda: model_randomisation(model, x, y, explain, layers=layers, similarity=("ssim",)),
        "max_sensitivity": lambda: max_sensitivity(model, x, y, explain, n_samples=args.samples),
    }
    print(f"{args.arch} at {args.size} px, {args.n} images on {device}; one forward+backward pass: "
          f"{unit_s * 1e3:.2f} ms per image; randomisation steps: {len(layers)}")
    print(f"{'criterion':<16}{'units/image':>12}{'s/image':>10}{'time in units':>15}")
    for name, job in jobs.items():
        sync()
        t0 = time.perf_counter()
        with PassCounter(model) as c:
            job()
        sync()
        s = (time.perf_counter() - t0) / args.n
        print(f"{name:<16}{c.units(args.n):>12.1f}{s:>10.4f}{s / unit_s:>15.1f}")


if __name__ == "__main__":
    main()
