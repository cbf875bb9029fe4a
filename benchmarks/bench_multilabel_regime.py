"""Study 2's classifier regime (issue 17): per-finding test AUC of ``chest_multilabel`` at 64 px per network and epochs.

Trains each architecture for each number of epochs on the default-difficulty phantom (CPU threads as given) and
prints the wall time and the per-finding and macro test AUC, to choose the default profile's model: every
finding ≥ 0.80 and macro ≥ 0.85 (paper 002's regime) with validation and test sets of ≥ 300 images, within a
~3-minute training budget on 2 cores.

With ``--study`` it runs study 2's own recipe instead: the splits ``load("chest_multilabel", split, n=n_images,
seed=seed)`` gives the study (70/20/10), ``xaikit.train.fit`` with Adam at a fixed ``--lr``, ``--batch-size``, the
last epoch (as ``informer_qc.analysis.train_model``), for each ``--epochs`` and ``--seeds``.

Usage: python benchmarks/bench_multilabel_regime.py [--archs smallcnn,cnn4] [--epochs 6,10] [--n-train 1600]
       [--n-test 400] [--size 64] [--threads 2]
       python benchmarks/bench_multilabel_regime.py --study [--archs smallcnn] [--epochs 10] [--n-images 3000]
       [--lr 0.001] [--batch-size 32] [--seeds 42] [--threads 1]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

import xaikit.data as xd
from xaikit.models import create_model


def cnn4(out: int) -> nn.Module:
    """A slightly bigger CNN than smallcnn: four conv blocks 32-64-96-128 (about 200k parameters)."""
    def block(i, o):
        return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*block(1, 32), *block(32, 64), *block(64, 96), *block(96, 128),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, out))


def train_eval(arch: str, epochs: int, train, test, seed: int = 0) -> tuple[list[float], float]:
    torch.manual_seed(seed)
    model = cnn4(5) if arch == "cnn4" else create_model(arch, 1, 5)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    x, y = train.tensors()
    y = y.float()
    steps = epochs * ((len(x) + 63) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    g = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(x), generator=g).split(64):
            loss = nn.functional.binary_cross_entropy_with_logits(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    seconds = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        xt, yt = test.tensors()
        p = torch.sigmoid(torch.cat([model(b) for b in xt.split(256)])).numpy()
    return [float(roc_auc_score(yt.numpy()[:, j], p[:, j])) for j in range(5)], seconds


def study_recipe(arch: str, epochs: int, n_images: int, size: int, lr: float, batch_size: int,
                 seed: int) -> tuple[list[float], float, float, dict]:
    """Study 2's splits and training (``informer_qc.analysis.load_splits`` / ``train_model``); test AUC per finding,
    the data-generation and training seconds, and the split sizes."""
    from xaikit.data import load
    from xaikit.train import TrainConfig, fit, predict_logits

    t0 = time.perf_counter()
    splits = {s: load("chest_multilabel", s, image_size=size, seed=seed, n=n_images, difficulty="default",
                      label_noise=0.0) for s in ("train", "val", "test")}
    gen = time.perf_counter() - t0
    config = TrainConfig(epochs=epochs, batch_size=batch_size, optimizer="adam", lr=lr, task="multi_label",
                         select="last", augment="none", seed=seed, device="cpu")
    torch.manual_seed(seed)
    model = create_model(arch, 1, 5)
    t0 = time.perf_counter()
    result = fit(model, splits["train"].tensors(), splits["val"].tensors(), config)
    seconds = time.perf_counter() - t0
    xt, yt = splits["test"].tensors()
    p = torch.sigmoid(predict_logits(result.model, xt)).numpy()
    aucs = [float(roc_auc_score(yt.numpy()[:, j], p[:, j])) for j in range(5)]
    curve = " ".join(f"{v:.3f}" for v in result.history["val_auc"])
    print(f"    validation macro AUC per epoch: {curve}", flush=True)
    return aucs, gen, seconds, {s: len(d) for s, d in splits.items()}


def main_study(args) -> None:
    print(f"study 2 recipe: chest_multilabel {args.size}px n_images={args.n_images} Adam lr={args.lr} "
          f"batch={args.batch_size} last epoch, threads={args.threads}")
    print("findings: " + ", ".join(xd.FINDINGS), flush=True)
    for arch in args.archs.split(","):
        for ep in map(int, args.epochs.split(",")):
            for seed in map(int, args.seeds.split(",")):
                aucs, gen, sec, sizes = study_recipe(arch, ep, args.n_images, args.size, args.lr, args.batch_size,
                                                     seed)
                ok = min(aucs) >= 0.80 and np.mean(aucs) >= 0.85
                print(f"  {arch:9s} {ep:3d} epochs seed {seed} splits {sizes} data {gen:5.1f} s train {sec:6.1f} s  "
                      f"AUC {np.round(aucs, 3).tolist()}  macro {np.mean(aucs):.3f}  "
                      f"{'regime' if ok else 'below regime'}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--archs", default="smallcnn,cnn4")
    ap.add_argument("--epochs", default="6,10")
    ap.add_argument("--n-train", type=int, default=1600)
    ap.add_argument("--n-test", type=int, default=400)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--study", action="store_true", help="study 2's own splits and training (see the docstring)")
    ap.add_argument("--n-images", type=int, default=3000)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--seeds", default="42")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.study:
        main_study(args)
        return
    train = xd.chest_multilabel(args.n_train, args.size, seed=1)
    test = xd.chest_multilabel(args.n_test, args.size, seed=2)
    print(f"chest_multilabel {args.size}px train={args.n_train} test={args.n_test} threads={args.threads}")
    print("findings: " + ", ".join(xd.FINDINGS), flush=True)
    for arch in args.archs.split(","):
        for ep in map(int, args.epochs.split(",")):
            aucs, sec = train_eval(arch, ep, train, test)
            ok = min(aucs) >= 0.80 and np.mean(aucs) >= 0.85
            print(f"  {arch:9s} {ep:3d} epochs {sec:7.1f} s  AUC {np.round(aucs, 3).tolist()}  "
                  f"macro {np.mean(aucs):.3f}  {'regime' if ok else 'below regime'}", flush=True)


if __name__ == "__main__":
    main()
