"""Every study notebook in the smoke profile, end to end, and a strict book build from those outputs."""
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from xaikit.__main__ import main
from xaikit.book import build_book
from xaikit.studies import studies
from xaikit.studies._runner import ROOT

pytestmark = pytest.mark.slow
STUDIES = studies()


def _errors(nb_path: Path) -> list[str]:
    nb = nbformat.read(nb_path, as_version=4)
    return [o.get("ename", "") for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.parametrize("study", STUDIES)
def test_smoke_notebook_runs_and_writes_results(book_src, study):
    out = book_src / "book" / "_generated" / study
    assert _errors(out.with_suffix(".ipynb")) == []
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["profile"] == "smoke"
    assert manifest["git_commit"] and manifest["packages"]["torch"] != "not installed"
    assert manifest["data_fingerprint"] and manifest["timings_s"]
    for csv in out.glob("*.csv"):
        assert len(pd.read_csv(csv)) > 0, csv
    assert list(out.glob("*.png")), "no figures written"


@pytest.mark.parametrize("study", STUDIES)
def test_smoke_notebook_outputs_show_no_path_of_this_machine(book_src, study):
    """What a chapter prints names no path of the machine that built it: no saved figure's path, nothing inside the
    checkout (its packages' warnings included). The fixture writes outside the checkout, so the displayed manifest
    names that output folder as given; nothing else may name the fixture's folder."""
    nb = nbformat.read(book_src / "book" / "_generated" / f"{study}.ipynb", as_version=4)
    shown = json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"])
    assert "PosixPath(" not in shown and str(ROOT) not in shown
    assert str(book_src) not in shown.replace(f'"output_dir\\": \\"{book_src / "book" / "_generated" / study}', "")


def test_study1_scores_are_tidy_and_in_range(book_src):
    out = book_src / "book" / "_generated" / "01_model_complexity"
    scores = pd.read_csv(out / "scores.csv")
    assert {"image", "class", "arch", "method", "metric", "score", "random_baseline"} <= set(scores.columns)
    assert scores["score"].isna().mean() < 0.2  # PAR is NaN for a map without positive relevance
    assert scores["score"].dropna().between(0, 1).all()
    assert set(scores["class"]) == {"healthy", "covid"}
    assert set(scores["metric"]) == {"relevance_rank_accuracy", "positive_attribution_ratio"}
    assert set(scores["method"]) == {"saliency", "gradient_shap", "integrated_gradients"}
    assert scores["arch"].nunique() >= 2  # Kruskal-Wallis needs groups
    kw = pd.read_csv(out / "table5_kruskal.csv")
    assert len(kw) == 12 and kw["paper_H"].notna().all()
    table1 = pd.read_csv(out / "table1_parameters.csv")
    assert (table1.loc[table1["arch"] == "paper003_resnet18", "difference"] == 0).all()


def test_book_builds_strictly_with_figures_and_glued_number(book_src):
    index = build_book(execute=False, source=book_src, strict=True)
    assert index.is_file()
    html_dir = index.parent
    page = (html_dir / "book" / "_generated" / "01_model_complexity.html").read_text()
    imgs = re.findall(r'<img[^>]+src="([^"]+)"', page)
    assert len(imgs) >= 5  # gallery, training curves, attributions, figures 6-9, randomisation
    for src in imgs:
        if not src.startswith("data:"):
            assert (html_dir / "book" / "_generated" / src).resolve().is_file(), src
    scores = pd.read_csv(book_src / "book" / "_generated" / "01_model_complexity" / "scores.csv")
    rra = scores[(scores["metric"] == "relevance_rank_accuracy") & (scores["method"] == "saliency")]
    headline = rra.loc[rra["class"] == "covid", "score"].mean()
    assert f"{headline:.3f}" in page  # the glued headline number is displayed in the chapter text
    assert "Hypothesis 1 (more parameters, better classification) is" in page  # generated verdicts, glued
    assert "Hypothesis 2 (more parameters, worse explanations) is" in page
    for table in ("Table 1", "Table 2", "Table 3", "Table 4", "Table 5", "Figures 6"):
        assert table in page
    assert "phantoms, not patients" in (html_dir / "book" / "index.html").read_text()


def test_cli_run_with_another_seed_gives_other_results(book_src, tmp_path):
    assert main(["run", "01_model_complexity", "--profile", "smoke", "-p", "seed", "7",
                 "--output-dir", str(tmp_path)]) == 0
    executed = tmp_path / "01_model_complexity.ipynb"
    assert executed.is_file() and _errors(executed) == []
    seed7 = pd.read_csv(tmp_path / "scores.csv")
    seed42 = pd.read_csv(book_src / "book" / "_generated" / "01_model_complexity" / "scores.csv")
    assert (seed7["seed"] == 7).all() and (seed42["seed"] == 42).all()
    assert not seed7["score"].equals(seed42["score"])
    m7 = json.loads((tmp_path / "manifest.json").read_text())
    m42 = json.loads((book_src / "book" / "_generated" / "01_model_complexity" / "manifest.json").read_text())
    assert m7["data_fingerprint"] != m42["data_fingerprint"]


def test_bad_parameter_inside_notebook_gives_readable_error(tmp_path):
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(str(ROOT / "notebooks" / "01_model_complexity.ipynb"), str(tmp_path / "bad.ipynb"),
                            parameters={"archs": ["resnet18", "resnet43"]}, kernel_name="python3",
                            progress_bar=False)
    assert info.value.ename == "ValueError"
    assert "parameter 'archs'" in info.value.evalue and "Did you mean 'resnet34'?" in info.value.evalue


def test_reexecuting_with_new_xai_parameters_loads_the_cached_model(book_src, tmp_path):
    assert main(["run", "01_model_complexity", "--profile", "smoke", "-p", "methods", "saliency",
                 "-p", "n_explain", "4", "--output-dir", str(tmp_path)]) == 0
    again = json.loads((tmp_path / "manifest.json").read_text())
    first = json.loads((book_src / "book" / "_generated" / "01_model_complexity" / "manifest.json").read_text())
    assert again["model_from_cache"] is True and first["model_from_cache"] is False
    assert again["model_hashes"] == first["model_hashes"]
    assert again["parameters"]["methods"] == ["saliency"]
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert set(scores["method"]) == {"saliency"}
    assert len(scores) == 4 * len(first["model_hashes"]) * 2  # images x models x metrics
