"""Learnability at default difficulty: a small CNN trained for a few CPU minutes.

The phantoms must be learnable (chest_covid, brain_mri: AUC > 0.9) but chest_multilabel must
stay imperfect on purpose (mean AUC roughly 0.75–0.9) so INFORMER has wrong predictions to flag.
Run with ``pytest -m slow -s tests/data`` to see the numbers.
"""
import numpy as np
import pytest

import xaikit.data as xd

SIZE = 64


def _cnn(out: int):
    import torch.nn as nn

    def block(i, o):
        return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2))

    return nn.Sequential(block(1, 16), block(16, 32), block(32, 48), block(48, 64),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, out))


def _train_eval(name: str, n_train: int, n_test: int, epochs: int) -> float:
    import torch
    from sklearn.metrics import roc_auc_score

    torch.manual_seed(0)
    torch.set_num_threads(2)
    train = xd.load(name, n=n_train, image_size=SIZE, seed=1)
    test = xd.load(name, n=n_test, image_size=SIZE, seed=2)
    k = len(train.class_names) if (train.multilabel or len(train.class_names) > 2) else 1
    model = _cnn(k)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    x, y = train.tensors()
    steps = epochs * ((len(x) + 63) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    g = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(x), generator=g).split(64):
            xb, yb = x[idx], y[idx]
            xb = torch.where(torch.rand(len(xb), 1, 1, 1, generator=g) < 0.5, xb, xb.flip(-1)) \
                if name in ("brain_mri", "lung_ct") else xb
            logits = model(xb)
            if train.multilabel:
                loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, yb)
            elif k == 1:
                loss = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 0], yb.float())
            else:
                loss = torch.nn.functional.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    with torch.no_grad():
        xt, yt = test.tensors()
        out = torch.cat([model(b) for b in xt.split(256)])
    yt = yt.numpy()
    if train.multilabel:
        p = torch.sigmoid(out).numpy()
        aucs = [roc_auc_score(yt[:, j], p[:, j]) for j in range(k)]
        print(f"{name}: per-finding AUC {np.round(aucs, 3).tolist()}")
        return float(np.mean(aucs))
    if k == 1:
        return float(roc_auc_score(yt, out[:, 0].numpy()))
    return float(roc_auc_score(yt, torch.softmax(out, 1).numpy(), multi_class="ovr"))


@pytest.mark.slow
@pytest.mark.parametrize("name, n_train, epochs, low, high", [
    ("chest_covid", 1000, 6, 0.9, 1.0),
    ("brain_mri", 1000, 6, 0.9, 1.0),
    ("chest_multilabel", 1000, 6, 0.72, 0.92),
])
def test_small_cnn_learns_the_phantom(name, n_train, epochs, low, high):
    auc = _train_eval(name, n_train, 400, epochs)
    print(f"{name}: small-CNN test AUC {auc:.3f}")
    assert low < auc <= high
