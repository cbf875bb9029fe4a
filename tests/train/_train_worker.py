"""A process that trains one tiny model into a shared cache (used by the hammer and SIGKILL tests).

Usage: ``python _train_worker.py CACHE_DIR OUT_JSON GO_FILE [--hang-after-epoch K --reached FILE]``.
It imports everything, waits for ``GO_FILE`` (so several workers start training together), trains,
and writes its result's state hash and ``from_cache`` to ``OUT_JSON``. With ``--hang-after-epoch``
it announces (by creating ``--reached``) that epoch K's checkpoint is written, then sleeps until killed.
"""
import argparse
import json
import time
from pathlib import Path

import torch

from xaikit.train import TrainConfig, state_hash, train_cached

CFG = TrainConfig(epochs=3, batch_size=16, optimizer="adam", lr=1e-2, seed=0, device="cpu")


def data(seed: int, n: int = 32, size: int = 16):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, size, size, generator=g)
    y = torch.arange(n) % 2
    x[y == 1, :, :4, :4] += 1.0
    return x, y


def train(cache_dir, callbacks=(), **kw):
    """Train (or load) the tiny model with one intra-op thread, so every process computes the same bits."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return train_cached("smallcnn", 1, 2, data(1), data(2), CFG, cache_dir=cache_dir, callbacks=callbacks,
                            **kw)
    finally:
        torch.set_num_threads(threads)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cache_dir")
    parser.add_argument("out")
    parser.add_argument("go")
    parser.add_argument("--hang-after-epoch", type=int, default=0)
    parser.add_argument("--reached", default=None)
    parser.add_argument("--epoch-sleep", type=float, default=0.0)
    args = parser.parse_args()

    def pace(epoch, row):
        time.sleep(args.epoch_sleep)  # widens the window in which the other workers contend
        if epoch == args.hang_after_epoch:
            Path(args.reached).touch()
            time.sleep(600)

    while not Path(args.go).exists():
        time.sleep(0.01)
    result = train(args.cache_dir, callbacks=[pace])
    Path(args.out).write_text(json.dumps({"hash": state_hash(result.model), "from_cache": result.from_cache}))


if __name__ == "__main__":
    main()
