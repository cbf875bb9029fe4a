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


def test_map_grid_layouts_colour_limits_and_bad_input():
    import matplotlib
    import numpy as np

    from xaikit.report import confusion_figure, map_grid

    matplotlib.use("Agg")
    x = np.zeros((3, 1, 8, 8))
    maps = {"a": np.ones((3, 1, 8, 8)), "b": -2 * np.ones((3, 1, 8, 8))}
    fig = map_grid(x, maps, outlines=np.ones((3, 1, 8, 8), bool))
    assert len(fig.axes) == 3 * 3
    # rows are images, columns image / a / b; per-map limits are symmetric around 0
    assert fig.axes[1].images[-1].get_clim() == (-1.0, 1.0) and fig.axes[2].images[-1].get_clim() == (-2.0, 2.0)
    row = map_grid(x, maps, scale="row")
    assert row.axes[1].images[-1].get_clim() == (-2.0, 2.0)  # one scale per image row: the largest magnitude
    absolute = map_grid(x, maps, value="absolute", overlay=False, image_column=False, max_images=2)
    assert len(absolute.axes) == 2 * 2 and absolute.axes[1].images[0].get_clim() == (0.0, 2.0)
    transposed = map_grid(x, maps, transpose=True, row_labels=["i", "j", "k"])
    assert transposed.axes[0].get_title() == "i" and transposed.axes[3].get_ylabel() == "a"
    with pytest.raises(ValueError, match="maps\\['a'\\] must hold one map per image"):
        map_grid(x, {"a": np.ones((3, 1, 4, 4))})
    with pytest.raises(ValueError, match="value"):
        map_grid(x, maps, value="signd")
    cm = confusion_figure([[3, 1], [0, 4]], ["a", "b"])
    assert [t.get_text() for t in cm.axes[0].texts] == ["3", "1", "0", "4"]
    with pytest.raises(ValueError, match="square matrix"):
        confusion_figure([[1, 2, 3]], ["a"])
