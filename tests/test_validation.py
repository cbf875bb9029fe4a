from pathlib import Path

import pytest

from xaikit._validation import check_float, check_int, check_option, did_you_mean


def test_check_option_suggests_closest_choice():
    with pytest.raises(ValueError, match=r"arch must be one of .*got 'resnet43'.*Did you mean 'resnet34'\?"):
        check_option("arch", "resnet43", ["resnet18", "resnet34", "resnet50"])
    assert check_option("arch", "resnet50", ["resnet18", "resnet50"]) == "resnet50"


def test_did_you_mean_is_empty_for_unrelated_names():
    assert did_you_mean("zzzz", ["resnet18", "densenet121"]) == ""


@pytest.mark.parametrize("value", [0, -3, 2.5, True, "4", None])
def test_check_int_rejects_bad_values_naming_parameter(value):
    with pytest.raises(ValueError, match=r"n_steps of integrated_gradients must be an int >= 1"):
        check_int("n_steps", value, min_value=1, context="integrated_gradients")


def test_check_float_range_and_nan():
    assert check_float("lr", 1, min_value=0.0) == 1.0
    with pytest.raises(ValueError, match=r"lr must be a number in \[0.0, 1.0\], got nan"):
        check_float("lr", float("nan"), min_value=0.0, max_value=1.0)
    with pytest.raises(ValueError, match="got 2"):
        check_float("lr", 2, min_value=0.0, max_value=1.0)


# ----------------------------------------------------------------------------- issue 19 items 10-11: the CLI
def _cli(capsys, *argv):
    import time

    from xaikit.__main__ import main

    t0 = time.perf_counter()
    rc = main(list(argv))
    return rc, time.perf_counter() - t0, capsys.readouterr().err


def _bad_runs(tmp_path):
    afile = tmp_path / "a_file.txt"
    afile.write_text("not a folder")
    return {
        "data_root_missing": (["03_shap_transfer", "-p", "dataset", "brain-tumor-mri", "-p", "foreign_dataset",
                               "iq-oth-nccd", "-p", "data_root", str(tmp_path / "nope")], "data_root"),
        "data_root_is_a_file": (["03_shap_transfer", "-p", "dataset", "brain-tumor-mri", "-p", "foreign_dataset",
                                 "iq-oth-nccd", "-p", "data_root", str(afile)], "data_root"),
        "weights_missing": (["02_informer_qc", "-p", "weights", str(tmp_path / "w.pt")], "weights"),
        "weights_empty": (["02_informer_qc", "-p", "weights", str(tmp_path / "empty.pt")], "weights"),
        "real_with_phantom_foreign": (["03_shap_transfer", "-p", "dataset", "brain-tumor-mri", "-p", "data_root",
                                       str(tmp_path)], "foreign_dataset"),
    }


@pytest.mark.parametrize("case", ["data_root_missing", "data_root_is_a_file", "weights_missing", "weights_empty",
                                  "real_with_phantom_foreign"])
def test_cli_refuses_bad_paths_and_mixes_in_a_second_with_one_line_and_leaves_nothing(tmp_path, capsys, case):
    (tmp_path / "empty.pt").write_bytes(b"")
    argv, param = _bad_runs(tmp_path)[case]
    _cli(capsys, "list")  # import the CLI once: what is timed is the check, not Python's imports
    out = tmp_path / "out"
    before = sorted(p.name for p in tmp_path.iterdir())
    rc, seconds, err = _cli(capsys, "run", *argv, "--output-dir", str(out))
    assert rc == 2 and seconds < 1.0, (rc, seconds, err)
    assert err.startswith("error: ") and err.count("\n") == 1 and param in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no output folder, no .partial notebook


def _fake_papermill(monkeypatch):
    import papermill

    calls = []

    def execute_notebook(src, out, parameters, **kw):
        calls.append(dict(parameters))
        Path(out).write_text("{}")

    monkeypatch.setattr(papermill, "execute_notebook", execute_notebook)
    return calls


def test_cli_output_dir_parameter_is_honoured(tmp_path, capsys, monkeypatch):
    calls = _fake_papermill(monkeypatch)
    target = tmp_path / "mine"
    rc, _, err = _cli(capsys, "run", "00_phantoms", "-p", "output_dir", str(target))
    assert rc == 0, err
    assert calls[0]["output_dir"] == str(target.resolve()) and (target / "00_phantoms.ipynb").is_file()


def test_cli_output_dir_given_twice_differently_is_refused(tmp_path, capsys, monkeypatch):
    calls = _fake_papermill(monkeypatch)
    rc, _, err = _cli(capsys, "run", "00_phantoms", "-p", "output_dir", str(tmp_path / "a"),
                      "--output-dir", str(tmp_path / "b"))
    assert rc == 2 and "output_dir" in err and calls == [] and not any(tmp_path.iterdir())
