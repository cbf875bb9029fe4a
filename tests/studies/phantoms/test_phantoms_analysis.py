"""The phantom chapter's steps: one generated set per phantom, its gallery saved, its fingerprint recorded."""
import pandas as pd
import pytest

from xaikit.studies import load_profile, start_run
from xaikit.studies.phantoms.analysis import metadata_summary, show_phantom


def test_show_phantom_generates_saves_and_records(tmp_path):
    run = start_run("00_phantoms", {**load_profile("smoke", "00_phantoms"), "image_size": 32, "n_per_class": 1,
                                    "output_dir": str(tmp_path)})
    ds = show_phantom(run, "lung_ct")
    assert len(ds) == 6 and run.written() == ["gallery_lung_ct.png"]
    assert run.fingerprints == {"lung_ct": ds.fingerprint()} and run.timings["lung_ct"] > 0
    marked = show_phantom(run, "chest_covid", shortcut=0.9)
    assert "gallery_chest_covid_shortcut.png" in run.written() and "chest_covid+shortcut" in run.timings
    assert marked.shortcut_masks.any()


def test_metadata_summary_is_the_per_dataset_mean():
    meta = pd.DataFrame({"dataset": ["a", "a", "b"], "label": [0, 1, 0], "lesion_area": [0.1, 0.3, 0.2],
                         "name": ["x", "y", "z"]})
    s = metadata_summary(meta)
    assert list(s.columns) == ["a", "b"] and s.loc["lesion_area", "a"] == pytest.approx(0.2)
    assert "label" not in s.index and "name" not in s.index
