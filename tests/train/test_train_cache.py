"""train_cached: hits without training, misses on any change, corrupt entries retrained, resume."""
import json

import pytest
import torch

from xaikit.data import load
from xaikit.train import CacheWarning, TrainConfig, train_cached


def _toy(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 16, 16, generator=g) * 0.2
    y = torch.randint(0, 2, (n,), generator=g)
    x[y == 0, :, 4:8, :4] += 0.8
    x[y == 1, :, 4:8, -4:] += 0.8
    return x, y


TRAIN, VAL = _toy(64, 1), _toy(32, 2)
CFG = TrainConfig(epochs=3, batch_size=16, optimizer="adam", lr=1e-2, seed=0, device="cpu", augment="light")


def _train(cache, cfg=CFG, data=TRAIN, epochs_seen=None, **kw):
    cb = [] if epochs_seen is None else [lambda e, row: epochs_seen.append(e)]
    return train_cached("tinycnn", 1, 2, data, VAL, cfg, cache_dir=cache, callbacks=cb, **kw)


def _states_equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _entry(cache):
    (entry,) = (cache / "models").iterdir()
    return entry


def test_a_cache_hit_returns_the_identical_state_dict_without_training(tmp_path):
    first = _train(tmp_path)
    entry = _entry(tmp_path)
    assert sorted(p.name for p in entry.iterdir()) == ["entry.json", "weights.pt"]  # checkpoint removed
    assert entry.name == f"tinycnn-{first.key}" and not first.from_cache
    seen = []
    again = _train(tmp_path, epochs_seen=seen)
    assert again.from_cache and seen == []  # no epoch ran
    assert _states_equal(first.model, again.model)
    assert again.best_epoch == first.best_epoch and again.key == first.key
    assert again.history[["epoch", "val_loss"]].equals(first.history[["epoch", "val_loss"]])
    assert not again.model.training


def test_any_change_of_model_data_or_config_is_a_miss(tmp_path):
    base = _train(tmp_path)
    keys = {base.key}
    for kw in (dict(cfg=TrainConfig(**{**CFG.to_dict(), "lr": 5e-3})),
               dict(cfg=TrainConfig(**{**CFG.to_dict(), "augment": "none"})),
               dict(data=(TRAIN[0] + 1e-3, TRAIN[1])),
               dict(init_seed=1)):
        seen = []
        res = _train(tmp_path, epochs_seen=seen, **kw)
        assert not res.from_cache and seen == [1, 2, 3]
        keys.add(res.key)
    assert len(keys) == 5
    # Showing progress does not change the weights: same key, a hit.
    assert _train(tmp_path, cfg=TrainConfig(**{**CFG.to_dict(), "progress": True})).from_cache


def test_imagesets_are_keyed_by_their_fingerprint(tmp_path):
    train = load("chest_covid", "train", n=24, image_size=32, seed=0)
    val = load("chest_covid", "val", n=24, image_size=32, seed=0)
    cfg = TrainConfig(epochs=1, batch_size=8, seed=0, device="cpu")
    a = train_cached("tinycnn", 1, 2, train, val, cfg, cache_dir=tmp_path)
    b = train_cached("tinycnn", 1, 2, load("chest_covid", "train", n=24, image_size=32, seed=0), val, cfg,
                     cache_dir=tmp_path)
    assert b.from_cache and _states_equal(a.model, b.model)
    spec = json.loads((_entry(tmp_path) / "entry.json").read_text())["spec"]
    assert spec["data"]["train"] == f"imageset:{train.fingerprint()}"


@pytest.mark.parametrize("damage", ["flip_weights", "truncate_weights", "truncate_json", "wrong_format"])
def test_a_corrupt_entry_is_retrained_with_a_warning_never_loaded(tmp_path, damage):
    first = _train(tmp_path)
    entry = _entry(tmp_path)
    weights, meta = entry / "weights.pt", entry / "entry.json"
    if damage == "flip_weights":  # still a loadable zip: only the checksum catches it
        data = bytearray(weights.read_bytes())
        data[-200] ^= 0x01
        weights.write_bytes(bytes(data))
    elif damage == "truncate_weights":
        weights.write_bytes(weights.read_bytes()[:100])
    elif damage == "truncate_json":
        meta.write_text(meta.read_text()[:50])
    else:
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "cache_format": -1}))
    seen = []
    with pytest.warns(CacheWarning, match="is corrupt"):
        again = _train(tmp_path, epochs_seen=seen)
    assert not again.from_cache and seen == [1, 2, 3]
    assert _states_equal(first.model, again.model)  # retrained deterministically
    assert _train(tmp_path).from_cache  # and the entry is healthy again


def test_a_partial_entry_is_retrained_with_a_warning(tmp_path):
    _train(tmp_path)
    (_entry(tmp_path) / "entry.json").unlink()  # killed between the two atomic writes
    with pytest.warns(CacheWarning, match="partial"):
        assert not _train(tmp_path).from_cache


def test_a_killed_run_resumes_to_the_weights_of_an_uninterrupted_one(tmp_path):
    full = _train(tmp_path / "a")

    def kill(epoch, row):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_cached("tinycnn", 1, 2, TRAIN, VAL, CFG, cache_dir=tmp_path / "b", callbacks=[kill])
    entry = _entry(tmp_path / "b")
    assert sorted(p.name for p in entry.iterdir()) == ["checkpoint.pt"]
    seen = []
    resumed = _train(tmp_path / "b", epochs_seen=seen)
    assert resumed.resumed_from == 2 and seen == [3]
    assert _states_equal(resumed.model, full.model) and resumed.key == full.key
    assert _train(tmp_path / "b").from_cache


def test_refresh_retrains_and_cache_dir_defaults_to_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("XAIKIT_CACHE_DIR", str(tmp_path / "env"))
    first = train_cached("tinycnn", 1, 2, TRAIN, VAL, CFG)
    assert (tmp_path / "env" / "models" / f"tinycnn-{first.key}" / "weights.pt").is_file()
    seen = []
    again = train_cached("tinycnn", 1, 2, TRAIN, VAL, CFG, refresh=True, callbacks=[lambda e, r: seen.append(e)])
    assert not again.from_cache and seen == [1, 2, 3] and _states_equal(first.model, again.model)


def test_cached_weights_load_with_create_model(tmp_path):
    from xaikit.models import create_model

    first = _train(tmp_path)
    model = create_model("tinycnn", 1, 2, weights=_entry(tmp_path) / "weights.pt")
    assert _states_equal(first.model, model)
