"""fit: determinism, selection, schedulers, early stopping, multi-label, resumable checkpoints."""
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from xaikit._seed import seeded
from xaikit.models import create_model
from xaikit.train import CacheWarning, TrainConfig, fit, state_hash


def _toy(n, seed, size=16):
    """Two classes: a bright square in the left or right half of a noisy image."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, size, size, generator=g) * 0.2
    y = torch.randint(0, 2, (n,), generator=g)
    h = size // 4
    x[y == 0, :, h:2 * h, :h] += 0.8
    x[y == 1, :, h:2 * h, -h:] += 0.8
    return x, y


TRAIN, VAL = _toy(96, 1), _toy(32, 2)


def _model(arch="tinycnn", seed=0, classes=2):
    with seeded(seed):
        return create_model(arch, 1, classes)


def _cfg(**kw):
    base = dict(epochs=3, batch_size=16, optimizer="adam", lr=1e-2, seed=0, device="cpu")
    return TrainConfig(**{**base, **kw})


def _states_equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_fit_is_deterministic_on_cpu_and_leaves_the_global_rng_alone():
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    a = fit(_model(), TRAIN, VAL, _cfg(augment="paper004"))  # tinycnn has dropout: global-RNG draws
    assert torch.equal(torch.rand(3), expected)
    b = fit(_model(), TRAIN, VAL, _cfg(augment="paper004"))
    assert _states_equal(a.model, b.model)
    np.testing.assert_array_equal(a.history["val_loss"], b.history["val_loss"])
    c = fit(_model(), TRAIN, VAL, _cfg(augment="paper004", seed=1))
    assert state_hash(c.model) != state_hash(a.model)


def test_fit_learns_and_keeps_lowest_validation_loss():
    res = fit(_model("smallcnn"), _toy(128, 1), _toy(64, 2), _cfg(epochs=4))
    hist = res.history
    assert list(hist.columns[:5]) == ["epoch", "train_loss", "val_loss", "val_accuracy", "seconds"][:4] + ["val_auc"]
    assert {"seconds", "train_seconds", "lr"} <= set(hist.columns)
    assert list(hist["epoch"]) == [1, 2, 3, 4]
    assert res.best_epoch == int(hist.loc[hist["val_loss"].idxmin(), "epoch"])
    assert hist["val_accuracy"].max() > 0.9  # the toy task is linearly separable
    assert not res.model.training and not res.from_cache and res.resumed_from == 0


@pytest.mark.parametrize("select,pick", [("val_accuracy", "idxmax"), ("val_auc", "idxmax"), ("last", None)])
def test_select_keeps_the_chosen_epoch_weights(select, pick):
    seen = {}
    res = fit(_model(), TRAIN, VAL, _cfg(epochs=4, select=select),
              callbacks=[lambda e, row: seen.__setitem__(e, row)])
    hist = res.history
    want = 4 if pick is None else int(hist.loc[getattr(hist[select], pick)(), "epoch"])
    assert res.best_epoch == want
    assert sorted(seen) == [1, 2, 3, 4] and seen[2]["val_loss"] == hist.loc[1, "val_loss"]


def _keras_reference(val_loss, lr, factor, patience, stop_patience):
    """Keras ReduceLROnPlateau(min_delta=1e-4) and EarlyStopping(min_delta=0), written out plainly."""
    lrs, best, wait, es_best, es_wait = [], np.inf, 0, np.inf, 0
    for v in val_loss:
        lrs.append(lr)
        if v < best - 1e-4:
            best, wait = v, 0
        else:
            wait += 1
            if wait >= patience:
                lr, wait = lr * factor, 0
        es_wait = 0 if v < es_best else es_wait + 1
        es_best = min(es_best, v)
        if es_wait >= stop_patience:
            break
    return lrs


def test_plateau_scheduler_and_early_stopping_follow_keras():
    cfg = _cfg(epochs=8, optimizer="sgd", lr=1e-3, momentum=0.0, scheduler="plateau", plateau_patience=2,
               plateau_factor=0.5, early_stopping=3)
    res = fit(_model(), TRAIN, VAL, cfg)
    hist = res.history
    expected = _keras_reference(hist["val_loss"].to_numpy(), 1e-3, 0.5, 2, 3)
    np.testing.assert_allclose(hist["lr"], expected, rtol=1e-12)
    assert res.stopped_early == (len(hist) < 8)


def test_early_stopping_stops_when_nothing_improves():
    with seeded(0):
        linear = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16 * 16, 2))
    # lr = 0: the validation loss is constant, so epochs 2 and 3 are not improvements.
    res = fit(linear, TRAIN, VAL, _cfg(epochs=8, optimizer="sgd", lr=0.0, early_stopping=2))
    assert res.stopped_early and list(res.history["epoch"]) == [1, 2, 3]
    assert res.best_epoch == 1 and res.history["val_loss"].nunique() == 1


def test_multilabel_training_with_bce():
    x, y1 = _toy(96, 3)
    y = torch.stack([y1, 1 - y1, (x.mean((1, 2, 3)) > x.mean()).long()], 1).float()
    xv, yv1 = _toy(32, 4)
    yv = torch.stack([yv1, 1 - yv1, (xv.mean((1, 2, 3)) > x.mean()).long()], 1).float()
    res = fit(_model(classes=3), (x, y), (xv, yv), _cfg(task="multi_label", epochs=2, select="val_auc"))
    assert res.history["val_auc"].between(0, 1).all()
    with pytest.raises(ValueError, match="task 'multi_label' needs train labels of shape"):
        fit(_model(classes=3), (x, y1), (xv, yv), _cfg(task="multi_label", epochs=1))
    with pytest.raises(ValueError, match="task 'single_label' needs integer train labels"):
        fit(_model(classes=3), (x, y), (xv, yv), _cfg(epochs=1))


def test_progress_bar_runs(capsys):
    fit(_model(), TRAIN, VAL, _cfg(epochs=1, progress=True))


class _Crash(Exception):
    pass


def _crash_after(calls):
    """A forward hook that raises on the model's ``calls``-th forward call: a crash mid-epoch."""
    count = {"n": 0}

    def hook(module, inputs, output):
        count["n"] += 1
        if count["n"] == calls:
            raise _Crash
    return hook


@pytest.mark.parametrize("where", ["after_epoch", "mid_epoch"])
def test_resume_after_an_interruption_equals_the_uninterrupted_run(tmp_path, where):
    # Everything stateful at once: Adam moments, LR-on-plateau, augmentation, dropout, BatchNorm.
    cfg = _cfg(epochs=4, scheduler="plateau", plateau_patience=0, augment="paper002")
    full = fit(_model(), TRAIN, VAL, cfg)
    ckpt = tmp_path / "run.ckpt"
    model = _model()
    with pytest.raises(_Crash):
        if where == "after_epoch":
            def stop(epoch, row):
                if epoch == 2:
                    raise _Crash
            fit(model, TRAIN, VAL, cfg, checkpoint=ckpt, callbacks=[stop])
        else:  # 6 training batches + 1 validation batch per epoch; die in epoch 3's 4th batch
            model.register_forward_hook(_crash_after(2 * 7 + 4))
            fit(model, TRAIN, VAL, cfg, checkpoint=ckpt)
    assert ckpt.is_file()
    resumed = fit(_model(), TRAIN, VAL, cfg, checkpoint=ckpt)  # a fresh process would rebuild the model
    assert resumed.resumed_from == 2
    assert _states_equal(resumed.model, full.model)
    assert resumed.best_epoch == full.best_epoch
    cols = ["epoch", "train_loss", "val_loss", "val_accuracy", "val_auc", "lr"]
    pd.testing.assert_frame_equal(resumed.history[cols], full.history[cols])


def test_a_checkpoint_of_another_run_or_a_damaged_one_is_ignored_with_a_warning(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    fit(_model(), TRAIN, VAL, _cfg(epochs=1), checkpoint=ckpt)
    with pytest.warns(CacheWarning, match="another run"):
        res = fit(_model(), TRAIN, VAL, _cfg(epochs=2, lr=5e-3), checkpoint=ckpt)
    assert res.resumed_from == 0
    data = bytearray(ckpt.read_bytes())
    data[len(data) // 2] ^= 0xFF
    ckpt.write_bytes(bytes(data))
    with pytest.warns(CacheWarning, match="checksum mismatch"):
        res = fit(_model(), TRAIN, VAL, _cfg(epochs=2, lr=5e-3), checkpoint=ckpt)
    assert res.resumed_from == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fit(_model(), TRAIN, VAL, _cfg(epochs=2, lr=5e-3), checkpoint=ckpt).resumed_from == 2


def test_bad_config_and_data_are_rejected():
    with pytest.raises(ValueError, match="optimizer of TrainConfig must be one of 'sgd', 'adam'.*Did you mean 'adam'"):
        TrainConfig(optimizer="adma")
    with pytest.raises(ValueError, match="epochs of TrainConfig must be an int >= 1"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="augment of TrainConfig must be one of .*Did you mean 'paper004'"):
        TrainConfig(augment="paper04")
    with pytest.raises(ValueError, match="select of TrainConfig must be one of 'val_loss', 'val_accuracy'"):
        TrainConfig(select="loss")
    with pytest.raises(ValueError, match="train must be"):
        fit(_model(), (TRAIN[0][:, 0], TRAIN[1]), VAL, _cfg())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_amp_and_channels_last_train():
    res = fit(_model("smallcnn"), _toy(128, 1), _toy(64, 2), _cfg(epochs=3, device="cuda"))
    assert next(res.model.parameters()).is_cuda
    assert res.history["val_accuracy"].max() > 0.9
