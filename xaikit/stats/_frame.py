"""Tidy-DataFrame plumbing shared by the tests: column checks, cells, the NaN policy."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from .._validation import check_option, did_you_mean

NAN_POLICIES = ("omit", "raise", "propagate")


def as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def check_frame(df: pd.DataFrame, context: str, nan_policy: str, **columns) -> None:
    """Every named column must exist; ``value`` must be numeric; NaN policy must be known."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"df of {context} must be a pandas DataFrame, got {type(df).__name__}")
    check_option("nan_policy", nan_policy, NAN_POLICIES, context=context)
    for arg, cols in columns.items():
        for col in as_list(cols):
            if col not in df.columns:
                raise ValueError(
                    f"{arg} of {context} must name a column of df; got {col!r}."
                    f"{did_you_mean(col, map(str, df.columns))} Columns: {list(df.columns)}"
                )
    value = columns.get("value")
    if value is not None and not pd.api.types.is_numeric_dtype(df[value]):
        raise ValueError(f"value of {context} must name a numeric column; {value!r} is {df[value].dtype}")


def cells(df: pd.DataFrame, by: list[str]) -> Iterator[tuple[dict, pd.DataFrame]]:
    """(key, sub-frame) for every combination of the ``by`` columns, in sorted order."""
    if not by:
        yield {}, df
        return
    for key, sub in df.groupby(by, sort=True, dropna=False, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        yield dict(zip(by, key, strict=True)), sub


def apply_nan_policy(values: np.ndarray, nan_policy: str, context: str, value: str) -> tuple[np.ndarray, int]:
    """Return (values to use, number of NaNs dropped); ``propagate`` keeps them."""
    nan = np.isnan(values)
    if nan.any() and nan_policy == "raise":
        raise ValueError(f"value column {value!r} of {context} has {int(nan.sum())} NaN value(s) "
                         "and nan_policy='raise'; use 'omit' to drop them")
    if nan_policy == "omit":
        return values[~nan], int(nan.sum())
    return values, 0


def group_order(sub: pd.DataFrame, group: str, order: Sequence | None) -> list:
    present = list(pd.unique(sub[group]))
    if order is None:
        try:
            return sorted(present)
        except TypeError:
            return present
    return [g for g in order if g in set(present)]
