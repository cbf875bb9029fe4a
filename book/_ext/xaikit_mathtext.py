"""Offline math for the book: TeX rendered to SVG at build time by matplotlib's mathtext.

Sphinx's default HTML math renderer loads MathJax from a CDN, which fails without a network (and
shows raw TeX then). This renderer draws every ``$...$`` and ``$$...$$`` formula with matplotlib's
mathtext (a TeX subset: fractions, sums, integrals, Greek, accents, ``\\mathbb``, ``\\mathcal``,
``\\left(...\\right)``; no environments) into an SVG embedded as a data URI, so pages need nothing
remote. A formula mathtext cannot parse is a build warning (an error in the strict build) naming it.
"""
from __future__ import annotations

import base64
import functools
import html
import io

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

INLINE_SIZE = 12.0
BLOCK_SIZE = 13.0


@functools.lru_cache(maxsize=4096)
def render_svg(tex: str, size: float) -> tuple[str, float]:
    """``(data URI of the SVG, depth below the baseline in points)`` of ``$tex$`` at ``size`` points."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "xaikit", "mathtext.fontset": "dejavusans"}):
        depth = mathtext.math_to_image(f"${tex}$", buf, prop=FontProperties(size=size), format="svg")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f"data:image/svg+xml;base64,{data}", float(depth)


def _img(self, node: nodes.Element, size: float, css: str) -> str:
    tex = node.astext().strip()
    try:
        uri, depth = render_svg(" ".join(tex.split()), size)
    except Exception as err:  # noqa: BLE001  (mathtext raises ValueError and others; report, never crash)
        logger.warning("mathtext cannot render %r: %s", tex, " ".join(str(err).split()) or type(err).__name__,
                       location=node, type="xaikit", subtype="mathtext")
        return f'<code class="{css} math-error">{html.escape(tex)}</code>'
    return (f'<img class="{css}" src="{uri}" alt="{html.escape(tex, quote=True)}" '
            f'style="vertical-align: -{depth:.2f}pt">')


def visit_inline(self, node: nodes.Element) -> None:
    self.body.append(_img(self, node, INLINE_SIZE, "math mathtext"))
    raise nodes.SkipNode


def visit_block(self, node: nodes.Element) -> None:
    if node.get("label"):
        self.body.append(f'<span class="eqno">({node["number"]})</span>')
    self.body.append(f'<div class="math mathtext-block" style="text-align: center; margin: 0.8em 0">'
                     f'{_img(self, node, BLOCK_SIZE, "mathtext")}</div>')
    raise nodes.SkipNode


def setup(app: Sphinx) -> dict:
    app.add_html_math_renderer("mathtext", (visit_inline, None), (visit_block, None))
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
