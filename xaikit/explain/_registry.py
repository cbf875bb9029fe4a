"""Explainer registry: ``get_explainer(name, **params)`` returns an object with the one contract

``attribute(model, x, target) -> Tensor`` shaped like ``x``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import torch
from torch import nn

from .._validation import check_option

__all__ = ["EXPLAINERS", "Explainer", "get_explainer", "register_explainer"]


class Explainer(Protocol):
    """What every registered explainer provides."""

    name: str

    def attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor | int) -> torch.Tensor:
        ...


EXPLAINERS: dict[str, Callable[..., Explainer]] = {}


def register_explainer(name: str) -> Callable:
    """Class decorator registering an explainer under ``name``."""
    def deco(cls: Callable[..., Explainer]) -> Callable[..., Explainer]:
        if name in EXPLAINERS:
            raise ValueError(f"explainer {name!r} is already registered")
        cls.name = name
        EXPLAINERS[name] = cls
        return cls
    return deco


def get_explainer(name: str, **params: Any) -> Explainer:
    """Build the explainer registered as ``name`` with its parameters.

    Examples
    --------
    >>> get_explainer("saliency", sign="signed").name
    'saliency'
    """
    check_option("name", name, sorted(EXPLAINERS), context="get_explainer")
    return EXPLAINERS[name](**params)
