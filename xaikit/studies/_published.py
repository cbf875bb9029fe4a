"""Published numbers as data: the tables each study is compared with, shipped as small CSV/YAML files.

Every file lives in ``xaikit/studies/<package>/published/`` and every row (or, for a YAML record, the
record) carries its ``source`` (the paper's table, figure or text) and ``bibkey`` (an entry of the
book's ``references.bib``). No paper number is typed anywhere else in the package.
"""
from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from .._validation import check_option

__all__ = ["load_published", "published_tables"]


def _folder(package: str):
    return resources.files("xaikit.studies").joinpath(package, "published")


def published_tables(package: str) -> list[str]:
    """Names (without extension) of the published tables of the study subpackage ``package``."""
    folder = _folder(package)
    if not folder.is_dir():
        return []
    return sorted(p.name.rsplit(".", 1)[0] for p in folder.iterdir() if p.name.endswith((".csv", ".yaml")))


@cache
def _read(package: str, table: str):
    folder = _folder(package)
    csv, yaml_file = folder.joinpath(f"{table}.csv"), folder.joinpath(f"{table}.yaml")
    if csv.is_file():
        import pandas as pd

        with csv.open("r", encoding="utf-8") as fh:
            frame = pd.read_csv(fh, keep_default_na=False, na_values=[""])
        if not isinstance(frame.index, pd.RangeIndex) or not {"source", "bibkey"} <= set(frame.columns):
            raise ValueError(f"published table {package}/{table}.csv is malformed: every row must have the header's "
                             f"fields (quote a field that holds a comma), and the columns must include source, bibkey")
        return frame
    import yaml

    return yaml.safe_load(yaml_file.read_text(encoding="utf-8"))


def load_published(study: str, table: str) -> Any:
    """One published table of ``study`` (a study name or its subpackage): a DataFrame (CSV) or a dict (YAML).

    A copy is returned, so callers may modify it.

    Examples
    --------
    >>> t = load_published("01_model_complexity", "table1_parameters")
    >>> t.loc[t["depth"] == 18, "trainable"].item(), t["bibkey"].unique().tolist()
    (6139842, ['cedro2024beyond'])
    """
    from ._spec import STUDIES

    package = STUDIES[study].package if study in STUDIES else study
    check_option("study", package, sorted({s.package for s in STUDIES.values()}), context="load_published")
    check_option("table", table, published_tables(package), context=f"load_published({study!r})")
    data = _read(package, table)
    return data.copy() if hasattr(data, "copy") else data
