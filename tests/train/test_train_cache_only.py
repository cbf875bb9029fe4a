"""XAIKIT_CACHE_ONLY: a cache miss raises instead of training; a hit still loads."""
import pytest
import torch

from xaikit.train import TrainConfig, train_cached

CFG = TrainConfig(epochs=1, batch_size=8, device="cpu", seed=0)


def _data(seed):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(16, 1, 8, 8, generator=g), torch.arange(16) % 2


def test_cache_only_refuses_to_train_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("XAIKIT_CACHE_ONLY", "1")
    with pytest.raises(FileNotFoundError, match="XAIKIT_CACHE_ONLY is set, so 'tinycnn' is not trained") as info:
        train_cached("tinycnn", 1, 2, _data(0), _data(1), CFG, cache_dir=tmp_path)
    assert type(info.value).__name__ == "CacheMissError"
    assert str(tmp_path / "models" / "tinycnn-") in str(info.value)  # names the entry it looked for
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").rglob("*.pt"))


def test_cache_only_still_loads_a_cached_model(tmp_path, monkeypatch):
    monkeypatch.delenv("XAIKIT_CACHE_ONLY", raising=False)
    first = train_cached("tinycnn", 1, 2, _data(0), _data(1), CFG, cache_dir=tmp_path)
    monkeypatch.setenv("XAIKIT_CACHE_ONLY", "true")
    again = train_cached("tinycnn", 1, 2, _data(0), _data(1), CFG, cache_dir=tmp_path)
    assert (first.from_cache, again.from_cache) == (False, True) and again.key == first.key
    with pytest.raises(FileNotFoundError):  # other data: another key, not cached
        train_cached("tinycnn", 1, 2, _data(2), _data(1), CFG, cache_dir=tmp_path)
    with pytest.raises(FileNotFoundError):  # refresh asks to retrain: refused too
        train_cached("tinycnn", 1, 2, _data(0), _data(1), CFG, cache_dir=tmp_path, refresh=True)


@pytest.mark.parametrize("value", ["", "0", "no", "false"])
def test_cache_only_off_values_train(tmp_path, monkeypatch, value):
    monkeypatch.setenv("XAIKIT_CACHE_ONLY", value)
    assert train_cached("tinycnn", 1, 2, _data(0), _data(1), CFG, cache_dir=tmp_path).from_cache is False
