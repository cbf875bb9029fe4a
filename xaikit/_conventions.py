"""Words shared by several subpackages, each defined once.

``SIGNS``
    How a map's sign is handled before it is scored or compared: ``"signed"`` keeps the values,
    ``"positive"`` clips them at 0, ``"absolute"`` takes ``|a|``. Used by every metric kernel
    (``xaikit.metrics``) and by the INFORMER distinctiveness (``xaikit.qc``).
``CHANNEL_REDUCTIONS``
    How a scoring kernel reduces a map's channels to one, before the sign handling: ``"sum"`` (as
    paper 003's wrappers) or ``"mean"``.

Words with a narrower meaning keep their own names where they are used: an explainer's gradient
sign is ``xaikit.explain._gradient.GRADIENT_SIGNS`` (no "positive"), and the ways
``xaikit.explain.reduce_channels`` sums channels (sign first, then sum) are
``xaikit.explain.CHANNEL_SUMS``.
"""
from __future__ import annotations

__all__ = ["SIGNS", "CHANNEL_REDUCTIONS"]

SIGNS = ("signed", "positive", "absolute")
CHANNEL_REDUCTIONS = ("sum", "mean")
