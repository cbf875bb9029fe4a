"""Parameter validation shared by the whole package.

Errors are ``ValueError`` whose message names the parameter, the allowed values
or range, and the value given; unknown names get a "did you mean ...?" hint.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

__all__ = ["check_option", "check_int", "check_float", "did_you_mean"]


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_option(name: str, value: Any, choices: Iterable[Any], *, context: str = "") -> Any:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``.

    Examples
    --------
    >>> check_option("arch", "resnet18", ["resnet18", "resnet34"])
    'resnet18'
    """
    choices = list(choices)
    if value in choices:
        return value
    where = f" of {context}" if context else ""
    hint = did_you_mean(value, choices) if isinstance(value, str) else ""
    raise ValueError(
        f"{name}{where} must be one of {', '.join(map(repr, choices))}; got {value!r}.{hint}"
    )


def check_int(name: str, value: Any, *, min_value: int | None = None,
              max_value: int | None = None, context: str = "") -> int:
    """Raise ``ValueError`` unless ``value`` is an int within ``[min_value, max_value]``."""
    where = f" of {context}" if context else ""
    rng = _range_text(min_value, max_value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}{where} must be an int{rng}, got {value!r}")
    if (min_value is not None and value < min_value) or (max_value is not None and value > max_value):
        raise ValueError(f"{name}{where} must be an int{rng}, got {value!r}")
    return value


def check_float(name: str, value: Any, *, min_value: float | None = None,
                max_value: float | None = None, context: str = "") -> float:
    """Raise ``ValueError`` unless ``value`` is a finite real number within the range."""
    where = f" of {context}" if context else ""
    rng = _range_text(min_value, max_value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ValueError(f"{name}{where} must be a number{rng}, got {value!r}")
    if (min_value is not None and value < min_value) or (max_value is not None and value > max_value):
        raise ValueError(f"{name}{where} must be a number{rng}, got {value!r}")
    return float(value)


def _range_text(lo: Any, hi: Any) -> str:
    if lo is not None and hi is not None:
        return f" in [{lo}, {hi}]"
    if lo is not None:
        return f" >= {lo}"
    if hi is not None:
        return f" <= {hi}"
    return ""
