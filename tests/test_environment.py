"""The environment files agree with each other and leak nothing."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+!-]+)$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = PIN.match(line.strip())
        assert m, f"constraints.txt line is not name==version: {line!r}"
        pins[_norm(m[1])] = m[2]
    return pins


def test_environment_yml_carries_exactly_the_constraints():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pins = {}
    for item in pip_section:
        m = PIN.match(item)
        if m:
            pins[_norm(m[1])] = m[2]
    assert pins == _constraints()


def test_every_declared_dependency_is_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]
    pins = _constraints()
    for req in declared:
        name = _norm(re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0])
        assert name in pins, f"{name} is declared in pyproject.toml but not pinned in constraints.txt"
    assert pins["jupyter-book"].startswith("1."), "jupyter-book must stay <2 (v2 fetches its theme at build time)"


def test_no_urls_in_environment_files():
    for name in ("constraints.txt", "environment.yml", "pyproject.toml", "Makefile"):
        assert "://" not in (ROOT / name).read_text(), name
