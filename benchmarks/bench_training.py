"""Training throughput of ``xaikit.train.fit`` vs a bare forward+backward loop on the same batches.

    python benchmarks/bench_training.py                        # smallcnn, 64 px, CPU-sized
    python benchmarks/bench_training.py --arch resnet18 --size 128 --n 4096 --device cuda

The bare loop gets every batch pre-gathered (already on the device, the same permutations and
batch sizes ``fit`` uses) and times only ``zero_grad → forward → loss → backward → step``. ``fit``
runs with the same model initialisation, optimizer, AMP and memory-format settings, with a
per-epoch checkpoint (the cache's resumable mode), no augmentation and no progress bar. Reported:

* ``train_overhead``: fit's training phase (its ``train_seconds``: batch gathering, host→device
  copies, the steps, loss bookkeeping) over the bare loop, minus 1;
* ``fit_overhead``: fit's whole epochs (validation, metrics, best-state copies, checkpoint
  writes included) over the bare loop plus a bare validation pass, minus 1.

Each repeat runs bare and fit alternately after one untimed warm-up epoch of each; the median
ratio over ``--repeat`` repeats is printed, with all timings as JSON.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import torch

from xaikit._seed import seeded
from xaikit.models import create_model
from xaikit.train import TrainConfig, fit, resolve_device
from xaikit.train._fit import _derive_seed


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_loop(arch, x, y, x_val, cfg: TrainConfig, device: torch.device) -> tuple[float, float]:
    """Seconds for ``cfg.epochs`` epochs of plain optimisation steps, and for one plain validation pass per epoch."""
    with seeded(cfg.seed):
        model = create_model(arch, x.shape[1], int(y.max()) + 1)
    cl = device.type == "cuda" and cfg.channels_last
    fmt = torch.channels_last if cl else torch.contiguous_format
    model = model.to(device, memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    use_amp = device.type == "cuda" and cfg.amp
    amp = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else nullcontext
    loss_fn = torch.nn.CrossEntropyLoss()
    bs, n = cfg.batch_size, len(x)
    batches = []
    for epoch in range(1, cfg.epochs + 1):
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(_derive_seed(cfg.seed, epoch, "shuffle")))
        for b in range(n // bs + (n % bs > 1)):
            idx = perm[b * bs:(b + 1) * bs]
            batches.append((x[idx].to(device).contiguous(memory_format=fmt), y[idx].to(device)))
    val = [x_val[i:i + bs].to(device) for i in range(0, len(x_val), bs)]
    _sync(device)
    model.train()
    t0 = time.perf_counter()
    for xb, yb in batches:
        opt.zero_grad(set_to_none=True)
        with amp():
            loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    _sync(device)
    t_train = time.perf_counter() - t0
    model.eval()
    t0 = time.perf_counter()
    with torch.no_grad():
        for _ in range(cfg.epochs):
            for xb in val:
                model(xb)
    _sync(device)
    return t_train, time.perf_counter() - t0


def fit_run(arch, x, y, x_val, y_val, cfg: TrainConfig, ckpt_dir: Path) -> tuple[float, float]:
    """fit's summed train_seconds and summed epoch seconds."""
    with seeded(cfg.seed):
        model = create_model(arch, x.shape[1], int(y.max()) + 1)
    ckpt = ckpt_dir / f"bench-{time.perf_counter_ns()}.ckpt"
    res = fit(model, (x, y), (x_val, y_val), cfg, checkpoint=ckpt, run_key="bench")
    ckpt.unlink(missing_ok=True)
    return float(res.history["train_seconds"].sum()), float(res.history["seconds"].sum())


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", default="smallcnn")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--n", type=int, default=1024, help="training images")
    p.add_argument("--n-val", type=int, default=256)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--device", default="auto")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args(argv)
    device = resolve_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(args.n, 1, args.size, args.size, generator=g), torch.randint(0, 2, (args.n,), generator=g)
    xv = torch.rand(args.n_val, 1, args.size, args.size, generator=g)
    yv = torch.randint(0, 2, (args.n_val,), generator=g)
    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch, optimizer="sgd", lr=1e-3, momentum=0.9, seed=0,
                      device=str(device.type))
    warm = TrainConfig(**{**cfg.to_dict(), "epochs": 1})
    with tempfile.TemporaryDirectory() as tmp:
        bare_loop(args.arch, x, y, xv, warm, device)
        fit_run(args.arch, x, y, xv, yv, warm, Path(tmp))
        runs = []
        for _ in range(args.repeat):
            b_train, b_val = bare_loop(args.arch, x, y, xv, cfg, device)
            f_train, f_total = fit_run(args.arch, x, y, xv, yv, cfg, Path(tmp))
            runs.append({"bare_train_s": b_train, "bare_val_s": b_val, "fit_train_s": f_train, "fit_total_s": f_total,
                         "train_overhead": f_train / b_train - 1,
                         "fit_overhead": f_total / (b_train + b_val) - 1})
    steps = args.epochs * (args.n // args.batch + (args.n % args.batch > 1))
    result = {
        "arch": args.arch, "size": args.size, "n": args.n, "n_val": args.n_val, "batch": args.batch,
        "epochs": args.epochs, "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(), "torch": torch.__version__, "python": platform.python_version(),
        "train_overhead_median": statistics.median(r["train_overhead"] for r in runs),
        "fit_overhead_median": statistics.median(r["fit_overhead"] for r in runs),
        "bare_images_per_s": statistics.median(args.n * args.epochs / r["bare_train_s"] for r in runs),
        "fit_images_per_s": statistics.median(args.n * args.epochs / r["fit_train_s"] for r in runs),
        "steps_per_epoch_run": steps, "runs": runs,
    }
    print(json.dumps(result, indent=1))
    print(f"\n{args.arch} {args.size}px on {result['device']}: fit trains at {result['fit_images_per_s']:.0f} img/s vs "
          f"bare {result['bare_images_per_s']:.0f} img/s; overhead {100 * result['train_overhead_median']:+.1f} % "
          f"(training phase), {100 * result['fit_overhead_median']:+.1f} % (whole epochs incl. validation "
          "and checkpoints, vs bare train + bare validation)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
