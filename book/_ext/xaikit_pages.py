"""Page hygiene for the offline book: no script is emitted twice on a page.

sphinx-thebe (which Jupyter Book always loads) registers its inline configuration script again on
every read phase, and under Sphinx 7 both copies reach each page: the second ``const THEBE_JS_URL``
is a ``SyntaxError`` in the browser console. Identical scripts are dropped here, keeping the first.
"""
from __future__ import annotations

from sphinx.application import Sphinx


def _key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    # An inline script's filename is None when registered at startup and "" when registered later.
    filename = getattr(script, "filename", script) or ""
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: handlers that run later add their page scripts to this same list


def setup(app: Sphinx) -> dict:
    # Early: a later handler that returns a template name stops the event (emit_firstresult).
    app.connect("html-page-context", dedupe_scripts, priority=100)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
