"""xaikit's import graph: no cycles, no private imports across subpackages, one definition per shared word.

The graph is read from the source with ``ast`` (nothing is imported):

* a node per module of xaikit; a package is its ``__init__``;
* an edge per import statement anywhere in a module, at module level or inside a function: a late
  import that closes a loop is still a cycle, only a hidden one. Imports under ``if TYPE_CHECKING:``
  are left out (they never run);
* ``from a.b import c`` points at the module ``a.b.c`` when there is one, else at ``a.b``;
* there is no implicit edge from a module to the packages above it. Python runs
  ``xaikit/metrics/__init__.py`` before ``xaikit/metrics/_checks.py``, but a package's ``__init__``
  re-exporting its own submodules is the normal direction, and counting the implicit edge would
  make every re-export a cycle. An explicit import of the package from its own submodule (``from .
  import x``) is an edge like any other.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Words defined in two subpackages on purpose (name, defining module): why.
SHARED_WORD_EXCEPTIONS = {
}


def modules(root: Path, package: str = "xaikit") -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, is_package) for every module under ``root/package``."""
    out = {}
    for f in sorted((root / package).rglob("*.py")):
        parts = list(f.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (f, is_package)
    return out


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and ast.unparse(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def _walk(node: ast.AST):
    for child in ast.iter_child_nodes(node):
        if _is_type_checking(child):
            continue
        yield child
        yield from _walk(child)


def imports(root: Path, package: str = "xaikit") -> dict[str, list[tuple[str, tuple[str, ...], int]]]:
    """Module -> [(imported module, names imported from it, line)] for imports inside ``package``."""
    mods = modules(root, package)
    out: dict[str, list] = {}
    for name, (path, is_package) in mods.items():
        edges = []
        for node in _walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                edges += [(a.name, (), node.lineno) for a in node.names if a.name.split(".")[0] == package]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[:len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != package:
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    edges.append((sub, (), node.lineno) if sub in mods else (target, (alias.name,), node.lineno))
        out[name] = edges
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a module importing itself (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def import_graph(root: Path, package: str = "xaikit") -> dict[str, set[str]]:
    mods = modules(root, package)
    return {m: {t for t, _, _ in edges if t in mods} for m, edges in imports(root, package).items()}


def subpackage(module: str) -> str | None:
    """``xaikit.metrics._checks`` -> ``metrics``; None for xaikit's own top-level modules."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and not parts[1].startswith("_")) else None


def is_private(module: str) -> bool:
    return any(p.startswith("_") and not p.startswith("__") for p in module.split(".")[2:])


def private_imports_across_subpackages(root: Path, package: str = "xaikit") -> list[str]:
    bad = []
    mods = modules(root, package)
    for name, edges in imports(root, package).items():
        here = subpackage(name)
        for target, names, line in edges:
            there = subpackage(target)
            if here is None or there is None or there == here:
                continue  # top-level shared modules (xaikit/_*.py) are for everyone
            private_names = [n for n in names if n.startswith("_")]
            if is_private(target) or private_names:
                bad.append(f"{mods[name][0].relative_to(root)}:{line} imports {target}"
                           + (f" ({', '.join(private_names)})" if private_names else ""))
    return bad


def module_constants(root: Path, package: str = "xaikit") -> dict[str, list[str]]:
    """UPPER_CASE name -> the modules that assign it at module level."""
    where = defaultdict(list)
    for name, (path, _) in modules(root, package).items():
        for node in ast.parse(path.read_text()).body:
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else [])
            for t in targets:
                if isinstance(t, ast.Name) and t.id.isupper() and not t.id.startswith("__"):
                    where[t.id].append(name)
    return where


# --------------------------------------------------------------------------- the rules, on xaikit
def test_xaikit_has_no_import_cycle():
    graph = import_graph(ROOT)
    assert len(graph) > 50 and sum(map(len, graph.values())) > 100, "the graph must see xaikit's imports"
    assert cycles(graph) == []


def test_no_private_import_across_subpackages():
    assert private_imports_across_subpackages(ROOT) == []


def test_each_shared_word_is_defined_in_one_subpackage():
    clashes = {}
    for word, where in module_constants(ROOT).items():
        allowed = [m for m in where if (word, m) not in SHARED_WORD_EXCEPTIONS]
        if len({subpackage(m) for m in allowed}) > 1:
            clashes[word] = allowed
    assert clashes == {}


def test_the_shared_words_are_one_object_where_they_are_used():
    import xaikit._conventions as conventions
    import xaikit.metrics._checks as checks
    import xaikit.qc as qc

    assert qc.SIGNS is conventions.SIGNS and checks.SIGNS is conventions.SIGNS
    assert checks.CHANNEL_REDUCTIONS is conventions.CHANNEL_REDUCTIONS


# --------------------------------------------------------------------------- the checks can fail
def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_a_late_import_cycle_and_a_private_import_are_found(tmp_path):
    root = _write(tmp_path, {
        "xaikit/__init__.py": "",
        "xaikit/_shared.py": "",
        "xaikit/data/__init__.py": "from ._registry import load\n",
        "xaikit/data/_registry.py": "from ._splits import cut\n\ndef load():\n    return cut()\n",
        "xaikit/data/_splits.py": "def cut():\n    from ._registry import load  # late\n    return load\n",
        "xaikit/train/__init__.py": "from .. import _shared\nfrom ..data import load\n",
        "xaikit/train/_fit.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ._cache import x\n"
                                "from ..data._splits import cut\nfrom ..data import _hidden\n",
        "xaikit/train/_cache.py": "from ._fit import y\n",
    })
    assert cycles(import_graph(root)) == [["xaikit.data._registry", "xaikit.data._splits"]]
    bad = private_imports_across_subpackages(root)
    assert [b.split(" imports ")[1] for b in bad] == ["xaikit.data._splits", "xaikit.data (_hidden)"]


def test_the_subpackage_of_a_module():
    assert [subpackage(m) for m in ("xaikit.metrics._checks", "xaikit.metrics", "xaikit._validation", "xaikit")] \
        == ["metrics", "metrics", None, None]


@pytest.mark.parametrize("word", ["SIGNS", "CHANNEL_REDUCTIONS"])
def test_issue_words_have_a_single_definition(word):
    assert module_constants(ROOT)[word] == ["xaikit._conventions"]
