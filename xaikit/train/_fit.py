"""A deterministic, resumable training loop for single- and multi-label classifiers.

Determinism: every random draw of epoch ``e`` (the shuffle, the augmentations, and any draw
from torch's global generator such as dropout, under a forked RNG) is seeded from
``(config.seed, e)`` alone. A run resumed from the checkpoint written after epoch ``k`` therefore
replays epochs ``k+1, ...`` exactly as an uninterrupted run does: on the CPU the final weights
are bit-identical. On CUDA, cuDNN kernels may still differ in the last bits between runs.
"""
from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from .._io import atomic_write_bytes
from ._augment import get_augmentation
from ._checkpoint import CHECKPOINT_FORMAT, load_checkpoint, pack
from ._config import TrainConfig
from ._evaluate import roc_auc
from ._predict import predict_logits

__all__ = ["FitResult", "fit", "resolve_device", "state_hash"]

EpochCallback = Callable[[int, dict], None]


@dataclass
class FitResult:
    """The trained model (selected checkpoint loaded, eval mode) and how it was obtained.

    Attributes
    ----------
    model : the model with the weights of ``best_epoch``.
    history : one row per epoch: epoch, train_loss, val_loss, val_accuracy, val_auc, lr,
        seconds (the whole epoch) and train_seconds (the optimisation steps alone).
    best_epoch : the epoch ``config.select`` chose (1-based).
    seconds : wall time of this call (training, or loading from the cache).
    from_cache : True when the weights were loaded from the cache without training.
    resumed_from : the last epoch restored from a checkpoint (0 when training started afresh).
    stopped_early : whether early stopping ended training before ``config.epochs``.
    key : the cache key (``train_cached``) or the checkpoint's run key.
    """

    model: nn.Module
    history: pd.DataFrame
    best_epoch: int
    seconds: float
    from_cache: bool = False
    resumed_from: int = 0
    stopped_early: bool = False
    key: str | None = None


def resolve_device(device: str) -> torch.device:
    """``"auto"`` → CUDA when available, else CPU.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but CUDA is not available; use 'auto' or 'cpu'")
    return torch.device(device)


def state_hash(model: nn.Module) -> str:
    """A short SHA-256 of a model's state_dict (names, dtypes, shapes, values), for manifests.

    Examples
    --------
    >>> state_hash(nn.Linear(2, 2)) == state_hash(nn.Linear(2, 2))
    False
    """
    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        v = v.detach().cpu().contiguous()
        h.update(f"{k}:{v.dtype}:{tuple(v.shape)}".encode())
        h.update(v.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def _derive_seed(seed: int, epoch: int, stream: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{epoch}:{stream}".encode()).digest()[:7], "little")


def _loss_fn(task: str) -> nn.Module:
    return nn.CrossEntropyLoss() if task == "single_label" else nn.BCEWithLogitsLoss()


def _check_data(train, val, task: str) -> tuple[torch.Tensor, ...]:
    out = []
    for name, pair in (("train", train), ("val", val)):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"{name} must be an (x, y) pair of tensors")
        x, y = (torch.as_tensor(v) for v in pair)
        if x.ndim != 4 or len(x) != len(y) or len(x) < (2 if name == "train" else 1):
            raise ValueError(f"{name} must be (x (N, C, H, W), y) of equal lengths N >= {2 if name == 'train' else 1}, "
                             f"got x {tuple(x.shape)} and y {tuple(y.shape)}")
        if task == "single_label":
            if y.ndim != 1 or y.is_floating_point():
                raise ValueError(f"task 'single_label' needs integer {name} labels of shape (N,), "
                                 f"got {y.dtype} {tuple(y.shape)}")
            y = y.long()
        elif y.ndim != 2:
            raise ValueError(f"task 'multi_label' needs {name} labels of shape (N, K), got {tuple(y.shape)}")
        else:
            y = y.float()
        out += [x.float(), y]
    return tuple(out)


def _epoch_metrics(logits: torch.Tensor, y: torch.Tensor, task: str) -> dict[str, float]:
    loss = float(_loss_fn(task)(logits, y))
    if task == "single_label":
        acc = float((logits.argmax(1) == y).float().mean())
        prob = torch.softmax(logits, 1).numpy()
        onehot = np.eye(logits.shape[1], dtype=bool)[y.numpy()]
    else:
        acc = float(((logits > 0).float() == y).float().mean())
        prob, onehot = torch.sigmoid(logits).numpy(), y.numpy().astype(bool)
    if onehot.shape[1] == 2 and task == "single_label":
        auc = roc_auc(onehot[:, 1], prob[:, 1])
    else:
        aucs = [roc_auc(onehot[:, c], prob[:, c]) for c in range(onehot.shape[1])]
        auc = float(np.nanmean(aucs)) if np.isfinite(aucs).any() else float("nan")
    return {"val_loss": loss, "val_accuracy": acc, "val_auc": auc}


def _score(metric: str, row: dict) -> float:
    """Lower is better; NaN counts as the worst."""
    if metric == "last":
        return -float(row["epoch"])
    v = row[metric]
    v = v if metric == "val_loss" else -v
    return float("inf") if v != v else float(v)


def _plateau_step(state: dict, monitored: float, opt: torch.optim.Optimizer, config: TrainConfig) -> dict:
    """Keras ``ReduceLROnPlateau(min_delta=1e-4, cooldown=0)``: after ``patience`` epochs without an
    improvement larger than 1e-4, multiply the learning rate by ``factor`` (not below ``min_lr``)."""
    if monitored < state["best"] - 1e-4:
        return {"best": monitored, "wait": 0}
    wait = state["wait"] + 1
    if wait >= config.plateau_patience:
        for group in opt.param_groups:
            group["lr"] = max(group["lr"] * config.plateau_factor, config.min_lr)
        wait = 0
    return {"best": state["best"], "wait": wait}


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _run_key(model: nn.Module, x_tr, y_tr, x_va, y_va, config: TrainConfig) -> str:
    h = hashlib.sha256(repr(sorted(config.hashed_fields().items())).encode())
    h.update(state_hash(model).encode())
    for t in (x_tr, y_tr, x_va, y_va):
        h.update(str((t.dtype, tuple(t.shape))).encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:20]


def fit(model: nn.Module, train: tuple[torch.Tensor, torch.Tensor], val: tuple[torch.Tensor, torch.Tensor],
        config: TrainConfig = TrainConfig(), *, checkpoint: str | Path | None = None,
        callbacks: Sequence[EpochCallback] = (), run_key: str | None = None) -> FitResult:
    """Train ``model`` on ``train = (x, y)`` and return the epoch ``config.select`` prefers on ``val``.

    Parameters
    ----------
    model : trained in place (moved to the device); the returned ``FitResult.model`` is the same
        object with the selected epoch's weights loaded, in eval mode.
    train, val : ``(x, y)`` tensors: x (N, C, H, W) float; y (N,) int64 class indices for
        single-label or (N, K) {0, 1} for multi-label tasks.
    config : a :class:`TrainConfig`.
    checkpoint : a file to write after every epoch (atomically). If it exists and belongs to
        this run (same model initialisation, data and configuration), training resumes after its
        epoch, giving the weights of an uninterrupted run. A damaged or foreign checkpoint is
        ignored with a :class:`CacheWarning`.
    callbacks : functions ``f(epoch, row)`` called after each epoch's checkpoint is written
        (an exception there interrupts training, which a later call resumes).
    run_key : identifies the run inside the checkpoint; by default a hash of the initial
        weights, the data and the configuration.

    Examples
    --------
    >>> from xaikit.models import create_model
    >>> x, y = torch.rand(32, 1, 8, 8), torch.arange(32) % 2
    >>> res = fit(create_model("tinycnn", 1, 2), (x, y), (x, y), TrainConfig(epochs=2, device="cpu"))
    >>> list(res.history["epoch"]), res.best_epoch in (1, 2)
    ([1, 2], True)
    """
    t_start = time.perf_counter()
    x_tr, y_tr, x_va, y_va = _check_data(train, val, config.task)
    device = resolve_device(config.device)
    cuda = device.type == "cuda"
    if cuda and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    ckpt_path = None if checkpoint is None else Path(checkpoint)
    if ckpt_path is not None and run_key is None:
        run_key = _run_key(model, x_tr, y_tr, x_va, y_va, config)
    channels_last = cuda and config.channels_last
    model = model.to(device, memory_format=torch.channels_last if channels_last else torch.preserve_format)
    if cuda:  # keep the data on the GPU when it fits comfortably
        fits = x_tr.nbytes + x_va.nbytes < 0.25 * torch.cuda.get_device_properties(device).total_memory
        if fits:
            x_tr, y_tr, x_va, y_va = (t.to(device) for t in (x_tr, y_tr, x_va, y_va))
    amp_dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float16
    use_amp = cuda and config.amp
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    loss_fn = _loss_fn(config.task)
    if config.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                              weight_decay=config.weight_decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                               amsgrad=config.amsgrad)
    augment = get_augmentation(config.augment)

    rows: list[dict] = []
    best = {"score": float("inf"), "epoch": 0, "state": None}
    stop = {"best": float("inf"), "wait": 0, "stopped": False}
    plateau = {"best": float("inf"), "wait": 0}
    start = 0
    state = load_checkpoint(ckpt_path, run_key) if ckpt_path is not None else None
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if state["scaler"]:
            scaler.load_state_dict(state["scaler"])
        rows, best, stop, start = state["history"], state["best"], state["stop"], state["epoch"]
        plateau = state["plateau"]

    n, bs = len(x_tr), config.batch_size
    n_batches = n // bs + (n % bs > 1)
    bar = None
    if config.progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=config.epochs * n_batches, initial=start * n_batches, desc="training", leave=False)
    rng_devices = [device.index] if cuda else []
    autocast = (lambda: torch.autocast("cuda", dtype=amp_dtype)) if use_amp else nullcontext

    for epoch in range(start + 1, config.epochs + 1):
        if stop["stopped"]:
            break
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(_derive_seed(config.seed, epoch, "shuffle")))
        perm = perm.to(x_tr.device)  # one copy per epoch, not a synchronising copy per batch
        aug_gen = torch.Generator().manual_seed(_derive_seed(config.seed, epoch, "augment"))
        total = torch.zeros((), dtype=torch.float64, device=device)
        seen = 0
        with torch.random.fork_rng(devices=rng_devices):
            torch.manual_seed(_derive_seed(config.seed, epoch, "global"))
            for b in range(n_batches):
                idx = perm[b * bs:(b + 1) * bs]
                xb, yb = x_tr[idx], y_tr[idx]
                if xb.device != device:  # data too large for the GPU: stage each batch through pinned memory
                    xb = xb.pin_memory().to(device, non_blocking=True)
                    yb = yb.pin_memory().to(device, non_blocking=True)
                if augment is not None:
                    xb = augment(xb, aug_gen)
                if channels_last:
                    xb = xb.contiguous(memory_format=torch.channels_last)
                with autocast():
                    loss = loss_fn(model(xb), yb)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                total += loss.detach() * len(idx)
                seen += len(idx)
                if bar is not None:
                    bar.update(1)
                    if b % 20 == 0:
                        bar.set_postfix(epoch=epoch, loss=f"{float(total) / seen:.4f}", refresh=False)
        train_loss = float(total) / seen  # waits for the device, so t_train is the real training time
        t_train = time.perf_counter() - t0
        row = {"epoch": epoch, "train_loss": train_loss,
               **_epoch_metrics(predict_logits(model, x_va, bs), y_va.cpu(), config.task),
               "lr": float(opt.param_groups[0]["lr"])}
        score = _score(config.select, row)
        if best["state"] is None or score < best["score"]:
            best = {"score": score, "epoch": epoch, "state": _cpu_state(model)}
        monitored = _score(config.monitor, row)
        if config.scheduler == "plateau":
            plateau = _plateau_step(plateau, monitored, opt, config)
        if config.early_stopping:  # Keras EarlyStopping(min_delta=0): stop after `patience` epochs without a new best
            if monitored < stop["best"]:
                stop = {"best": monitored, "wait": 0, "stopped": False}
            else:
                stop = {**stop, "wait": stop["wait"] + 1}
                stop["stopped"] = stop["wait"] >= config.early_stopping
        row.update(seconds=time.perf_counter() - t0, train_seconds=t_train)
        rows.append(row)
        if ckpt_path is not None:
            atomic_write_bytes(ckpt_path, pack({
                "format": CHECKPOINT_FORMAT, "run_key": run_key, "epoch": epoch, "model": _cpu_state(model),
                "optimizer": opt.state_dict(), "plateau": plateau,
                "scaler": scaler.state_dict() if scaler.is_enabled() else None,
                "best": best, "stop": stop, "history": rows}))
        if bar is not None:
            bar.set_postfix(epoch=epoch, loss=f"{row['train_loss']:.4f}", val_loss=f"{row['val_loss']:.4f}",
                            val_acc=f"{row['val_accuracy']:.3f}")
        for cb in callbacks:
            cb(epoch, copy.copy(row))
    if bar is not None:
        bar.close()
    model.load_state_dict(best["state"])
    model.eval()
    history = pd.DataFrame(rows, columns=["epoch", "train_loss", "val_loss", "val_accuracy", "val_auc", "lr",
                                          "seconds", "train_seconds"])
    return FitResult(model=model, history=history, best_epoch=int(best["epoch"]),
                     seconds=time.perf_counter() - t_start, resumed_from=start,
                     stopped_early=bool(stop["stopped"]), key=run_key)
