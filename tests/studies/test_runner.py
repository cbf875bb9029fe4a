import pytest

from xaikit.__main__ import main
from xaikit.studies import PROFILES, STUDY_PARAMS, load_profile, studies, validate_params
from xaikit.studies._runner import parse_value


def test_every_notebook_has_a_parameter_spec():
    assert studies() and set(studies()) <= set(STUDY_PARAMS)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_is_complete_and_valid_for_every_study(profile):
    for study in studies():
        params = load_profile(profile, study)
        params["output_dir"] = "somewhere"
        checked = validate_params(study, params)
        assert {k: checked[k] for k in params} == params
        assert set(checked) - set(params) <= {"replication_dir"}  # a nullable parameter left out is None


def test_bad_value_names_parameter_and_suggests():
    with pytest.raises(ValueError, match=r"parameter 'archs' of 01_model_complexity must be one of .*"
                                         r"got 'resnet43'.*Did you mean 'resnet34'\?"):
        validate_params("01_model_complexity", {"archs": "resnet43"}, partial=True)
    with pytest.raises(ValueError, match=r"parameter 'methods' .*got 'saliancy'.*Did you mean 'saliency'\?"):
        validate_params("01_model_complexity", {"methods": ["gradient_shap", "saliancy"]}, partial=True)
    msg = r"parameter 'epochs' of 01_model_complexity must be an int in \[1, 1000\], got 0"
    with pytest.raises(ValueError, match=msg):
        validate_params("01_model_complexity", {"epochs": 0}, partial=True)


def test_unknown_parameter_name_suggests():
    with pytest.raises(ValueError, match=r"has no parameter 'epoch'\. Did you mean 'epochs'\?"):
        validate_params("01_model_complexity", {"epoch": 3}, partial=True)


def test_missing_parameters_are_listed():
    with pytest.raises(ValueError, match="missing parameters: .*seed"):
        validate_params("01_model_complexity", {"archs": ["resnet18"]})


@pytest.mark.parametrize("text,value", [("7", 7), ("0.001", 0.001), ("1e-3", 1e-3), ("true", True),
                                        ("None", None), ("resnet34", "resnet34")])
def test_cli_values_are_parsed_like_papermill(text, value):
    assert parse_value(text) == value


def test_cli_rejects_bad_parameter_before_starting_a_kernel(capsys):
    assert main(["run", "01_model_complexity", "--profile", "smoke", "-p", "archs", "resnet18,resnet43"]) == 2
    err = capsys.readouterr().err
    assert "parameter 'archs'" in err and "Did you mean 'resnet34'?" in err
    assert main(["run", "01_model_complexity", "--profile", "smok"]) == 2
    assert "Did you mean 'smoke'?" in capsys.readouterr().err
    assert main(["run", "01_model_complexty"]) == 2
    assert "Did you mean '01_model_complexity'?" in capsys.readouterr().err


def test_data_root_with_a_phantom_dataset_is_an_error():
    with pytest.raises(ValueError, match=r"'data_root' of 01_model_complexity is set .* 'chest_covid' phantom"):
        validate_params("01_model_complexity", {"dataset": "chest_covid", "data_root": "/data"}, partial=True)


@pytest.mark.parametrize("value,expected", [
    ("resnet34", ["resnet34"]),
    ("resnet18,resnet34", ["resnet18", "resnet34"]),
    ("resnet18, paper003_resnet18", ["resnet18", "paper003_resnet18"]),
    (["resnet50"], ["resnet50"]),
    (("resnet18", "resnet34"), ["resnet18", "resnet34"]),
])
def test_list_parameters_accept_a_list_or_the_cli_string(value, expected):
    assert validate_params("01_model_complexity", {"archs": value}, partial=True) == {"archs": expected}
    assert validate_params("01_model_complexity", {"archs": parse_value(",".join(expected))},
                           partial=True) == {"archs": expected}


@pytest.mark.parametrize("value,message", [
    ([], "must be a non-empty list"), ("", "must be one of"), (7, "must be a non-empty list"),
    ("resnet18,resnet18", "lists 'resnet18' more than once"),
])
def test_bad_list_parameters_are_rejected(value, message):
    with pytest.raises(ValueError, match=message):
        validate_params("01_model_complexity", {"archs": value}, partial=True)


def test_real_dataset_without_data_root_says_where_to_get_it():
    params = load_profile("smoke", "01_model_complexity")
    params.update(output_dir="somewhere", dataset="covid-qu-ex")
    with pytest.raises(ValueError, match=r"real dataset 'covid-qu-ex', which needs parameter 'data_root'.*data/README"):
        validate_params("01_model_complexity", params)
    params["data_root"] = "/data/covidqu"
    assert validate_params("01_model_complexity", params)["dataset"] == "covid-qu-ex"


def test_a_data_root_switches_every_phantom_to_its_real_dataset():
    from xaikit.studies._runner import REAL_COUNTERPART, real_data_overrides

    assert real_data_overrides("01_model_complexity", "paper", None) == {}
    for study in STUDY_PARAMS:
        overrides = real_data_overrides(study, "paper", "/data")
        params = load_profile("paper", study)
        params.update(overrides, output_dir="somewhere")
        checked = validate_params(study, params)  # a phantom with a data_root would be refused here
        if not overrides:  # the study needs the phantom's ground truth and has no real counterpart
            assert checked["dataset"] == "chest_covid" and checked["data_root"] is None
            continue
        assert checked["data_root"] == "/data"
        for name in ("dataset", "foreign_dataset"):
            if name in checked:
                assert checked[name] in REAL_COUNTERPART.values(), (study, name)


def test_rendered_parameters_show_paths_relative_to_the_compendium(tmp_path):
    """Papermill's injected cell carries this machine's absolute paths; the merged parameters cell shows every
    path inside the compendium relative to its root, and leaves other values alone."""
    import nbformat

    from xaikit.studies._runner import ROOT, _merge_parameter_cells

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("seed = 0\noutput_dir = None\nreplication_dir = None\ndata_root = None",
                                          metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(
                    "# Parameters\nseed = 43\n"
                    f"output_dir = \"{ROOT / 'book' / '_generated' / '01_model_complexity'}\"\n"
                    f"replication_dir = '{ROOT / 'results' / '01_model_complexity' / 'default' / '_sweeps'}'\n"
                    f"data_root = \"{tmp_path}\"\nname = \"/not a path = here\"\n",
                    metadata={"tags": ["injected-parameters"]})]
    nb.metadata["papermill"] = {"input_path": str(ROOT / "notebooks" / "01_model_complexity.ipynb"),
                                "output_path": str(ROOT / "book" / "_generated" / ".partial-01.ipynb"),
                                "parameters": {"seed": 43, "output_dir": str(ROOT / "book" / "_generated" / "01"),
                                               "data_root": str(tmp_path)}}
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    _merge_parameter_cells(path)
    merged = nbformat.read(str(path), as_version=4)
    assert merged.metadata["papermill"] == {  # the run's record, published with the page's source
        "input_path": "notebooks/01_model_complexity.ipynb", "output_path": "book/_generated/.partial-01.ipynb",
        "parameters": {"seed": 43, "output_dir": "book/_generated/01", "data_root": str(tmp_path)}}
    assert len(merged.cells) == 1
    assert merged.cells[0].source.splitlines() == [
        "# Parameters (the values of this run)", "seed = 43",
        "output_dir = 'book/_generated/01_model_complexity'",
        "replication_dir = 'results/01_model_complexity/default/_sweeps'",
        f"data_root = \"{tmp_path}\"",  # outside the compendium: the user's own path, as given
        "name = \"/not a path = here\""]
