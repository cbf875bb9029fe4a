"""The atlas trains with study 1's recipe: with equal values it loads study 1's models from the cache."""
from types import SimpleNamespace

import pytest
import yaml

from xaikit.studies import NOTEBOOK_DIR
from xaikit.studies._training import classifier_config, split_fractions
from xaikit.studies.methods_atlas.analysis import load_seed_data, train_seed_models
from xaikit.studies.model_complexity.analysis import load_splits, train_models
from xaikit.train import training_log

RECIPE = ("difficulty", "n_images", "test_share", "image_size", "epochs", "early_stopping", "batch_size", "lr")


def test_atlas_loads_study1_models_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XAIKIT_CACHE_DIR", str(tmp_path))
    common = dict(difficulty="easy", n_images=40, test_share=0.2, image_size=32, epochs=2, early_stopping=1,
                  batch_size=8, lr=1e-3, device="cpu", data_root=None)
    study1 = SimpleNamespace(seed=7, timings={}, params={**common, "dataset": "chest_covid", "archs": ["tinycnn"],
                                                         "optimizer": "adam", "momentum": 0.9})
    fits1 = train_models(study1, load_splits(study1))
    atlas = {**common, "archs": ["tinycnn"], "shortcut_arch": "tinycnn"}
    fits4 = train_seed_models(atlas, load_seed_data(atlas, 7), 7)
    assert not fits1["tinycnn"].from_cache and fits4["tinycnn"].from_cache  # the very same entry
    assert not fits4["shortcut"].from_cache  # marker data: a model of its own
    assert [e["arch"] for e in training_log(tmp_path)] == ["tinycnn", "tinycnn"]  # two trainings, not three


def test_default_profile_keeps_the_atlas_on_study1s_recipe():
    """What makes the cache shared in ``make book``: equal recipe values, an atlas architecture among study 1's,
    the same seeds (42, 43, 44 = the chapter's seed and the replication seeds)."""
    profile = yaml.safe_load((NOTEBOOK_DIR / "profiles" / "default.yaml").read_text())
    s1, s4 = profile["01_model_complexity"], profile["04_methods_atlas"]
    assert {k: s1[k] for k in RECIPE} == {k: s4[k] for k in RECIPE}
    assert s1["optimizer"] == "adam" and s1["momentum"] == 0.9  # the atlas's fixed values
    shared = set(s4["archs"]) & set(s1["archs"])
    assert shared
    seeds = [profile["common"]["seed"], *profile["replication"]["seeds"]]
    assert [profile["common"]["seed"] + i for i in range(s4["seed_count"])] == seeds
    p = {**s1, "device": "cpu"}
    assert classifier_config(p, 42) == classifier_config({**s4, "device": "cpu"}, 42)


def test_split_fractions():
    assert split_fractions(0.1) == (0.7, 0.2, 0.1)  # exactly the former fixed split (smoke and paper profiles)
    assert split_fractions(0.2) == (0.6, 0.2, 0.2)
    assert abs(sum(split_fractions(0.15)) - 1.0) < 1e-9  # what ``load`` accepts


def test_split_fractions_refuses_a_share_that_leaves_no_training_set():
    with pytest.raises(ValueError, match="test_share must lie in"):
        split_fractions(0.8)
