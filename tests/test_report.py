import json

import pandas as pd
import pytest

from xaikit.report import atomic_write_bytes, build_manifest, write_csv, write_json


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path):
    path = tmp_path / "out.json"
    write_json(path, {"a": 1})


    with pytest.raises(TypeError):
        atomic_write_bytes(path, object())  # not bytes: the write fails midway
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_csv_round_trip(tmp_path):
    df = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    write_csv(df, tmp_path / "d.csv")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "d.csv"), df)


def test_manifest_records_provenance():
    m = build_manifest(study="s", parameters={"seed": 3}, seed=3, device="cpu", timings={"t": 1.23456},
                       data_fingerprint="abc", model_hashes={"m": "h"})
    for key in ("git_commit", "packages", "python", "device", "timings_s", "data_fingerprint", "created"):
        assert key in m
    assert m["timings_s"] == {"t": 1.235}
    assert m["packages"]["torch"] != "not installed"
    json.dumps(m)
