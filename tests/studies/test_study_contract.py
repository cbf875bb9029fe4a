"""Every registered study keeps one shape: spec, notebook, profiles and published data agree; notebooks stay thin."""
import ast
import json
import re

import pytest

from xaikit.data import DATASETS, REAL_DATASETS
from xaikit.studies import (
    COMMON_PARAMS,
    PROFILES,
    STUDIES,
    Param,
    Study,
    get_study,
    load_profile,
    load_published,
    published_tables,
    start_run,
    studies,
)
from xaikit.studies._runner import NOTEBOOK_DIR, ROOT

NAMES = sorted(STUDIES)


def _code_cells(name):
    nb = json.loads((NOTEBOOK_DIR / f"{name}.ipynb").read_text())
    return [c for c in nb["cells"] if c["cell_type"] == "code"], nb


def _parameters_cell(name):
    cells, _ = _code_cells(name)
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{name} must have exactly one cell tagged 'parameters'"
    tree = ast.parse("".join(tagged[0]["source"]))
    return {t.targets[0].id: ast.literal_eval(t.value) for t in tree.body if isinstance(t, ast.Assign)}


def test_every_notebook_is_a_registered_study_and_back():
    assert studies() == NAMES
    assert list(STUDIES) == NAMES  # chapter order


@pytest.mark.parametrize("name", NAMES)
def test_parameters_cell_declares_exactly_the_specs_parameters(name):
    spec = get_study(name)
    declared = _parameters_cell(name)
    assert set(declared) == set(spec.parameters), "the parameters cell declares the spec's parameters, no more"
    assert set(COMMON_PARAMS) <= set(declared)
    spec.validate({**declared, "profile": "custom"})  # the notebook's own defaults are valid


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("name", NAMES)
def test_every_study_validates_under_every_profile(name, profile):
    params = load_profile(profile, name)
    checked = get_study(name).validate({**params, "output_dir": "results/x"})
    assert checked["profile"] == profile
    for pname, p in get_study(name).parameters.items():
        if p.kind == "list":
            assert isinstance(checked[pname], list)


@pytest.mark.parametrize("name", NAMES)
def test_dataset_choices_come_from_the_data_registry(name):
    params = get_study(name).parameters
    for pname in ("dataset", "foreign_dataset"):
        if pname in params:
            assert set(params[pname].options()) <= set(DATASETS) | set(REAL_DATASETS), pname


def test_open_choices_follow_the_registries():
    from xaikit.explain import EXPLAINERS
    from xaikit.models import MODELS

    params = get_study("01_model_complexity").parameters
    assert params["archs"].options() == tuple(sorted(MODELS))
    assert params["methods"].options() == tuple(sorted(EXPLAINERS))
    with pytest.raises(ValueError, match="Did you mean 'saliency'"):
        params["methods"].check("methods", ["saliancy"], "01_model_complexity")


@pytest.mark.parametrize("name", NAMES)
def test_published_tables_are_declared_shipped_and_cited(name):
    spec = get_study(name)
    assert sorted(spec.published) == published_tables(spec.package)
    bib = (ROOT / "references.bib").read_text()
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    if spec.paper is not None:
        assert spec.paper in keys
    for table in spec.published:
        data = load_published(name, table)
        records = [data] if isinstance(data, dict) else data.to_dict("records")
        assert records, table
        for rec in records:
            assert rec["source"] and rec["bibkey"] in keys, (table, rec)


def test_a_malformed_published_table_is_refused(tmp_path, monkeypatch):
    from xaikit.studies import _published

    folder = tmp_path / "model_complexity" / "published"
    folder.mkdir(parents=True)
    (folder / "broken.csv").write_text("a,source,bibkey\n1,Table 1, with a comma,cedro2024beyond\n")
    monkeypatch.setattr(_published, "_folder", lambda package: tmp_path / package / "published")
    _published._read.cache_clear()
    try:
        with pytest.raises(ValueError, match="malformed"):
            load_published("01_model_complexity", "broken")
    finally:
        _published._read.cache_clear()


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_define_no_function_and_start_with_the_spec(name):
    cells, _ = _code_cells(name)
    for cell in cells:
        tree = ast.parse("".join(cell["source"]))
        defined = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                                                  ast.ClassDef))]
        assert not defined, f"{name} defines a function or class: verdict logic belongs in the package"
    second = "".join(cells[1]["source"])
    assert f'start_run("{name}", globals()' in second


def test_start_run_validates_the_notebook_namespace(tmp_path):
    params = {**load_profile("smoke", "00_phantoms"), "output_dir": str(tmp_path / "out")}
    run = start_run("00_phantoms", {**params, "unrelated": 1})
    assert run.params == params and run.out.is_dir() and run.seed == params["seed"]
    with run.stage("a"):
        pass
    with run.stage("a"):
        pass
    assert set(run.timings) == {"a"} and run.timings["a"] >= 0
    manifest = run.finish()
    assert manifest["parameters"]["output_dir"] == str(tmp_path / "out")  # outside the compendium: kept as given
    assert run.written() == ["manifest.json"]
    with pytest.raises(ValueError, match="image_size"):
        start_run("00_phantoms", {**params, "image_size": 8})
    with pytest.raises(ValueError, match="missing parameters: n_per_class"):
        start_run("00_phantoms", {k: v for k, v in params.items() if k != "n_per_class"})


def test_manifest_shows_paths_inside_the_compendium_relative_to_it(tmp_path, monkeypatch):
    """A chapter displays its manifest: no parameter may show this machine's path to the compendium."""
    import xaikit.studies._runner as runner

    monkeypatch.setattr(runner, "ROOT", tmp_path)  # the compendium's root, for this test
    params = {**load_profile("smoke", "01_model_complexity"), "output_dir": str(tmp_path / "book" / "out"),
              "replication_dir": str(tmp_path / "results" / "sweep")}
    shown = start_run("01_model_complexity", params).finish()["parameters"]
    assert shown["output_dir"] == "book/out" and shown["replication_dir"] == "results/sweep"
    assert shown["seed"] == params["seed"] and shown["archs"] == params["archs"]  # others as given
    elsewhere = start_run("01_model_complexity", {**params, "replication_dir": "/elsewhere/sweep"}).finish()
    assert elsewhere["parameters"]["replication_dir"] == "/elsewhere/sweep"  # outside the compendium: as given


def test_cross_parameter_rules_run_on_full_sets_only():
    spec = get_study("03_shap_transfer")
    params = {**load_profile("default", "03_shap_transfer"), "output_dir": "x"}
    with pytest.raises(ValueError, match="is real but foreign_dataset 'lung_ct' is a phantom"):
        spec.validate({**params, "dataset": "brain-tumor-mri", "data_root": "/data"})
    assert spec.validate({"dataset": "brain-tumor-mri"}, partial=True) == {"dataset": "brain-tumor-mri"}


def test_registry_refuses_duplicates_and_unknown_names():
    from xaikit.studies import register_study

    with pytest.raises(ValueError, match="already registered"):
        register_study(Study(name="00_phantoms", title="x", package="phantoms"))
    with pytest.raises(ValueError, match="Did you mean '01_model_complexity'"):
        get_study("01_model_complexiti")
    with pytest.raises(ValueError, match="must not be None"):
        Param("int").check("n", None, "ctx")
