"""Metric registry: ``get_metric(name)`` returns a :class:`MetricSpec` that records what a metric
measures (its ``kind``) and which inputs it needs, so a study or a contract test can call any metric
by name.

A metric module registers each public scoring function where it is defined::

    @register_metric("auroc", kind="localisation")
    def auroc(attributions, masks, *, ...): ...

``needs`` lists the function's leading positional inputs, in order, from ``INPUTS``; it is
checked against the signature when the metric is registered.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._validation import check_option

__all__ = ["INPUTS", "KINDS", "METRICS", "RETURNS", "MetricSpec", "get_metric", "register_metric"]

#: what a metric measures
KINDS = ("localisation", "faithfulness", "randomisation", "complexity", "agreement")
#: the inputs a metric can need, in the order they are passed
INPUTS = {
    "attributions": "the maps to score, (N, C, H, W) or (N, H, W)",
    "masks": "binary ground truth, (N, 1, H, W) or (N, H, W)",
    "other": "a second map per sample to compare with, shaped like attributions",
    "model": "the classifier, a torch.nn.Module mapping (B, C, H, W) to (B, K) logits",
    "images": "the explained images x, (N, C, H, W)",
    "target": "the explained class per image, an int or (N,)",
    "explainer": "a callable (model, x, target) -> attributions, e.g. get_explainer(name).attribute",
}
#: "scores": a float64 Tensor (N,) of per-sample scores; "frame": a tidy DataFrame, one row per sample
#: and step, with a ``sample`` column and one float column per score
RETURNS = ("scores", "frame")


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric: the function and what it needs.

    Calling the spec calls the function, so ``get_metric("auroc")(a, s)`` scores maps.

    Attributes
    ----------
    name : str
    func : callable
    kind : {"localisation", "faithfulness", "randomisation", "complexity", "agreement"}
    needs : tuple of str
        The function's leading positional inputs, keys of ``INPUTS``.
    returns : {"scores", "frame"}
    reasons : bool
        Whether the function takes ``return_reasons=True`` (and so can say why a score is NaN).
    """

    name: str
    func: Callable[..., Any]
    kind: str
    needs: tuple[str, ...]
    returns: str = "scores"
    reasons: bool = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)


METRICS: dict[str, MetricSpec] = {}


def register_metric(name: str, *, kind: str, needs: tuple[str, ...] = ("attributions", "masks"),
                    returns: str = "scores") -> Callable[[Callable], Callable]:
    """Function decorator registering a metric under ``name``; returns the function unchanged.

    Parameters
    ----------
    name : str
        The registry key (unique).
    kind : {"localisation", "faithfulness", "randomisation", "complexity", "agreement"}
    needs : tuple of str, default ("attributions", "masks")
        Keys of ``INPUTS``, in the order of the function's leading positional parameters (those
        without a default); checked against its signature.
    returns : {"scores", "frame"}, default "scores"
        What the function returns; see ``RETURNS``.

    Examples
    --------
    >>> @register_metric("doc_max", kind="complexity", needs=("attributions",))
    ... def doc_max(attributions):
    ...     return attributions.flatten(1).amax(dim=1).double()
    >>> get_metric("doc_max").kind
    'complexity'
    >>> del METRICS["doc_max"]
    """
    ctx = "register_metric"
    check_option("kind", kind, KINDS, context=ctx)
    check_option("returns", returns, RETURNS, context=ctx)
    needs = tuple(needs)
    for need in needs:
        check_option("needs", need, list(INPUTS), context=ctx)
    if not needs or len(set(needs)) != len(needs):
        raise ValueError(f"needs of {ctx} must name each input at most once and at least one; got {needs!r}")

    def deco(func: Callable) -> Callable:
        if name in METRICS:
            raise ValueError(f"name of {ctx}: metric {name!r} is already registered")
        params = inspect.signature(func).parameters.values()
        required = [p.name for p in params if p.default is p.empty
                    and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if len(required) != len(needs):
            raise ValueError(f"needs of {ctx} must list the {len(required)} required positional parameters "
                             f"of {name} ({', '.join(required)}); got {needs!r}")
        reasons = any(p.name == "return_reasons" for p in params)
        METRICS[name] = MetricSpec(name, func, kind, needs, returns, reasons)
        return func
    return deco


def get_metric(name: str) -> MetricSpec:
    """The metric registered as ``name``.

    Raises ``ValueError`` with a "did you mean" hint and the list of names for an unknown one.

    Examples
    --------
    >>> import torch
    >>> spec = get_metric("relevance_rank_accuracy")
    >>> spec.kind, spec.needs
    ('localisation', ('attributions', 'masks'))
    >>> spec(torch.tensor([[[3.0, 2.0], [1.0, 0.0]]]), torch.tensor([[[True, False], [True, False]]]))
    tensor([0.5000], dtype=torch.float64)
    """
    check_option("name", name, sorted(METRICS), context="get_metric")
    return METRICS[name]
