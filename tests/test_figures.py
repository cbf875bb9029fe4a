"""``make figures``: figures and tables again from the model cache, never training; a miss fails loudly."""
import json

import pandas as pd
import pytest

from xaikit.__main__ import main
from xaikit.studies._runner import regenerate_figures, write_hardware_table

pytestmark = pytest.mark.slow
STUDY = "01_model_complexity"


def test_figures_reuse_the_cached_models(book_src, tmp_path):
    # book_src trained the smoke models into this session's cache; figures must only load them.
    done = regenerate_figures("smoke", [STUDY], output_root=tmp_path)
    out = tmp_path / STUDY
    assert done == {STUDY: out / f"{STUDY}.ipynb"}
    manifest = json.loads((out / "manifest.json").read_text())
    first = json.loads((book_src / "book" / "_generated" / STUDY / "manifest.json").read_text())
    assert manifest["model_from_cache"] is True
    assert manifest["model_cache_keys"] == first["model_cache_keys"]
    assert sorted(p.name for p in out.glob("*.png")) == sorted(p.name for p in (book_src / "book" / "_generated"
                                                                                 / STUDY).glob("*.png"))
    assert len(pd.read_csv(out / "scores.csv")) > 0


def test_figures_fail_with_a_clear_message_instead_of_training(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty-cache"
    monkeypatch.setenv("XAIKIT_CACHE_DIR", str(empty))
    code = main(["figures", "--profile", "smoke", "--study", STUDY, "--output-root", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "not in the cache, and figures never train" in err and "make book PROFILE=smoke" in err
    assert not list(empty.rglob("*.pt")), "a model was trained although figures must never train"


def test_hardware_table_lists_every_executed_study(book_src):
    text = write_hardware_table(book_src).read_text()
    for study in ("00_phantoms", STUDY):
        assert f"| {study} | smoke | cpu |" in text
    assert text.count("\n") == 2 + len(list((book_src / "book" / "_generated").glob("*/manifest.json")))
