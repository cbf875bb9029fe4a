"""Attention maps and the added attributions on the chest phantom (issue 20, items 1-2). Prints, on this machine:

1. the accuracy of ``vit_tiny_phantom`` and of a CNN trained briefly from scratch on ``chest_covid``;
2. for each method, on COVID-19 test images (target: covid), the relevance mass accuracy of the positive part
   (positive relevance inside the lesion masks over all positive relevance; a random map scores the masks'
   area fraction, printed beside it), relevance rank accuracy, and seconds per image.

Usage: python benchmarks/bench_families.py [--n 1000] [--vit-epochs 30] [--cnn-epochs 10] [--n-explain 24]
"""
from __future__ import annotations

import argparse
import time

import torch

from xaikit._seed import seeded
from xaikit.data import load
from xaikit.explain import get_explainer
from xaikit.metrics import relevance_mass_accuracy, relevance_rank_accuracy
from xaikit.models import create_model
from xaikit.train import TrainConfig, fit, predict_logits

VIT_METHODS = [("attention_last", {}), ("attention_rollout", {}), ("attention_grad_rollout", {}),
               ("saliency", {})]
CNN_METHODS = [("grad_cam", {}), ("hires_cam", {}), ("grad_cam_plus_plus", {}), ("score_cam", {}),
               ("deeplift", {}), ("guided_backprop", {}), ("rise", {"n_masks": 1000}), ("saliency", {})]


def tensors(split):
    return torch.from_numpy(split.images), torch.from_numpy(split.labels)


def train(name: str, data, epochs: int, lr: float, seed: int):
    with seeded(seed):
        model = create_model(name, 1, 2)
    t0 = time.perf_counter()
    res = fit(model, tensors(data["train"]), tensors(data["val"]),
              TrainConfig(epochs=epochs, batch_size=32, optimizer="adam", lr=lr, select="val_accuracy",
                          device="cpu", seed=seed))
    x, y = tensors(data["test"])
    acc = float((predict_logits(res.model, x).argmax(1) == y).float().mean())
    print(f"{name:18s} epochs {epochs:3d} (best {res.best_epoch}) test accuracy {acc:.3f} "
          f"({len(y)} images)  train {time.perf_counter() - t0:.0f} s", flush=True)
    return res.model.eval()


def score(model, name, params, x, masks, target):
    label = name + "".join(f" {k}={v}" for k, v in params.items())
    explainer = get_explainer(name, **params)
    explainer.attribute(model, x[:1], target[:1])  # warm-up
    t0 = time.perf_counter()
    a = explainer.attribute(model, x, target)
    per_image = (time.perf_counter() - t0) / len(x)
    rma = relevance_mass_accuracy(a, masks, sign="positive").nanmean().item()
    rra = relevance_rank_accuracy(a, masks).nanmean().item()
    print(f"  {label:30s} RMA+ {rma:.3f}  RRA {rra:.3f}  {per_image:8.4f} s/image", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--difficulty", default="default")
    ap.add_argument("--vit-epochs", type=int, default=30)
    ap.add_argument("--cnn", default="smallcnn")
    ap.add_argument("--cnn-epochs", type=int, default=10)
    ap.add_argument("--n-explain", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = {s: load("chest_covid", s, n=args.n, image_size=args.size, seed=args.seed, difficulty=args.difficulty)
            for s in ("train", "val", "test")}
    print(f"chest_covid {args.difficulty} {args.size}px n={args.n} threads={torch.get_num_threads()}", flush=True)
    vit = train("vit_tiny_phantom", data, args.vit_epochs, 1e-3, args.seed)
    cnn = train(args.cnn, data, args.cnn_epochs, 1e-3, args.seed)

    test = data["test"]
    covid = torch.from_numpy(test.labels == 1).nonzero().squeeze(1)[:args.n_explain]
    x = torch.from_numpy(test.images)[covid]
    masks = torch.from_numpy(test.masks)[covid]
    target = torch.ones(len(x), dtype=torch.long)
    print(f"\n{len(x)} COVID-19 test images; random-map RMA+ = lesion area fraction "
          f"{masks.float().mean((1, 2, 3)).mean().item():.3f}", flush=True)
    print("vit_tiny_phantom")
    for name, params in VIT_METHODS:
        score(vit, name, params, x, masks, target)
    print(args.cnn)
    for name, params in CNN_METHODS:
        score(cnn, name, params, x, masks, target)
    # Score-CAM on the rectified activations (the default CAM layer of a plain CNN is its last Conv2d)
    relus = [n for n, m in cnn.named_modules() if isinstance(m, torch.nn.ReLU)]
    score(cnn, "score_cam", {"layer": relus[-1]}, x, masks, target)


if __name__ == "__main__":
    main()
