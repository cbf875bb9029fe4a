"""Input validation, the shared semantic parameters, and NaN reasons for every metric.

Every metric follows one contract: ``(attributions, masks, ...) -> Tensor[N]`` of float64
per-sample scores on the device of ``attributions``. Where a score is undefined it is NaN, and
the reason is recorded as an integer code; ask for it with ``return_reasons=True``, which returns
a :class:`MetricResult` instead of the bare tensor.

Order of the preprocessing steps (the same for every metric):

1. ``channel_reduce`` over the channel axis (``"sum"``, as paper 003's wrappers, or ``"mean"``);
2. ``sign``: ``"signed"`` keeps values, ``"positive"`` clips at 0, ``"absolute"`` takes ``|a|``;
3. ``normalise`` per sample: ``"none"``, ``"max"`` (divide by ``max |a|``; all-zero maps are left
   as they are) or ``"minmax"`` (``(a - min) / (max - min)``; constant maps become 0).

Quantus does these in the opposite order (normalise, then abs) and normalises by the maximum over
the *whole batch*; rank and ratio metrics are invariant to both choices, thresholded ones are not.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from .._conventions import CHANNEL_REDUCTIONS, SIGNS
from .._validation import check_option

__all__ = ["MetricResult", "NAN_REASONS", "SIGNS", "NORMALISATIONS", "CHANNEL_REDUCTIONS"]

NORMALISATIONS = ("none", "max", "minmax")

# Integer codes kept on the device next to the scores; 0 means "score defined".
OK, EMPTY_MASK, FULL_MASK, NO_POSITIVE, ZERO_TOTAL, RATIO_ABOVE_ONE, EMPTY_PREDICTION, CONSTANT_MAP = range(8)
NAN_REASONS: dict[int, str] = {
    OK: "",
    EMPTY_MASK: "empty mask: the mask has no foreground pixel",
    FULL_MASK: "full mask: the mask has no background pixel, so no ranking against background exists",
    NO_POSITIVE: "no positive relevance: the map has no pixel > 0, so the positive-mass ratio is 0/0",
    ZERO_TOTAL: "zero total relevance: the denominator (sum of the map after sign handling) is 0",
    RATIO_ABOVE_ONE: "ratio above one: inside relevance exceeds the total (signed maps only)",
    EMPTY_PREDICTION: "empty prediction: nothing of the map survives the threshold",
    CONSTANT_MAP: "constant map: all pixels equal, so the threshold or ranking is undefined",
}


class MetricResult(NamedTuple):
    """Per-sample scores with the reason for every NaN.

    Attributes
    ----------
    scores : Tensor
        float64, shape ``(N,)``, on the input's device.
    codes : Tensor
        int8, shape ``(N,)``; 0 where the score is defined, else a key of ``NAN_REASONS``.
    """

    scores: torch.Tensor
    codes: torch.Tensor

    def reasons(self) -> list[str]:
        """One string per sample: ``""`` where the score is defined, else why it is NaN."""
        return [NAN_REASONS[int(c)] for c in self.codes.cpu().tolist()]


def finish(scores: torch.Tensor, codes: torch.Tensor, return_reasons: bool):
    """Set NaN wherever a code is set and return the tensor or a :class:`MetricResult`."""
    scores = scores.to(torch.float64)
    scores = torch.where(codes != OK, torch.full_like(scores, float("nan")), scores)
    if return_reasons:
        return MetricResult(scores, codes.to(torch.int8))
    return scores


def set_code(codes: torch.Tensor, condition: torch.Tensor, code: int) -> torch.Tensor:
    """Record ``code`` where ``condition`` holds and no earlier reason was recorded."""
    return torch.where((codes == OK) & condition, torch.full_like(codes, code), codes)


def check_attributions(attributions, *, name: str = "attributions", context: str = "") -> torch.Tensor:
    """Return ``attributions`` as a floating tensor of shape (N, C, H, W); raise ValueError otherwise.

    Integer and half-precision inputs (float16, bfloat16) are converted to float64, so every
    metric computes on half-precision maps exactly what it computes on the same values in float64
    (a float16 channel sum above 65,504 would overflow to ``inf``; float16 rounding would merge
    distinct sums into ties). float32 and float64 are kept as they are.
    """
    where = f" of {context}" if context else ""
    a = torch.as_tensor(attributions)
    if a.ndim == 3:
        a = a.unsqueeze(1)
    if a.ndim != 4 or a.shape[0] == 0 or a.shape[-1] * a.shape[-2] == 0:
        raise ValueError(
            f"{name}{where} must have shape (N, C, H, W) or (N, H, W) with N, H, W >= 1; "
            f"got {tuple(a.shape)}"
        )
    if not a.is_floating_point() or a.dtype in (torch.float16, torch.bfloat16):
        a = a.to(torch.float64)
    lo, hi = torch.aminmax(a)  # one pass; NaN propagates, inf shows at an end
    if not bool(torch.isfinite(lo) & torch.isfinite(hi)):
        bad = ~torch.isfinite(a.flatten(1)).all(dim=1)
        idx = torch.nonzero(bad).flatten().tolist()
        kind = "NaN" if bool(torch.isnan(a).any()) else "inf"
        raise ValueError(
            f"{name}{where} must be finite; found {kind} in {len(idx)} sample(s), first at index {idx[0]}"
        )
    return a


def check_masks(masks, a: torch.Tensor, *, name: str = "masks", context: str = "") -> torch.Tensor:
    """Return ``masks`` as a bool tensor (N, 1, H, W) on ``a``'s device; raise ValueError otherwise."""
    where = f" of {context}" if context else ""
    s = torch.as_tensor(masks)
    if s.ndim == 3:
        s = s.unsqueeze(1)
    n, _, h, w = a.shape
    if s.ndim != 4 or s.shape[0] != n or s.shape[1] != 1 or tuple(s.shape[-2:]) != (h, w):
        raise ValueError(
            f"{name}{where} must have shape (N, 1, H, W) = ({n}, 1, {h}, {w}) to match attributions "
            f"{tuple(a.shape)}; got {tuple(s.shape)}"
        )
    s = s.to(a.device)
    if s.dtype != torch.bool:
        if s.is_complex() or not ((s == 0) | (s == 1)).all():
            odd = s[(s != 0) & (s != 1)].flatten()[:1].tolist()
            raise ValueError(
                f"{name}{where} must be binary (bool, or 0/1 values); found value {odd[0]!r}"
            )
        s = s != 0
    return s


def check_common(sign: str, normalise: str, channel_reduce: str, context: str) -> None:
    check_option("sign", sign, SIGNS, context=context)
    check_option("normalise", normalise, NORMALISATIONS, context=context)
    check_option("channel_reduce", channel_reduce, CHANNEL_REDUCTIONS, context=context)


def transform(a: torch.Tensor, sign: str, normalise: str, channel_reduce: str) -> torch.Tensor:
    """Channel reduction, sign handling and per-sample normalisation; returns (N, H*W)."""
    if a.shape[1] == 1:
        a = a[:, 0]  # a view: sum and mean agree, and no copy is made
    else:
        a = a.sum(dim=1) if channel_reduce == "sum" else a.mean(dim=1)
    a = a.flatten(1)
    if sign == "positive":
        a = a.clamp(min=0)
    elif sign == "absolute":
        a = a.abs()
    if normalise == "max":
        m = a.abs().amax(dim=1, keepdim=True)
        a = a / torch.where(m > 0, m, torch.ones_like(m))
    elif normalise == "minmax":
        lo, hi = a.amin(dim=1, keepdim=True), a.amax(dim=1, keepdim=True)
        span = hi - lo
        a = (a - lo) / torch.where(span > 0, span, torch.ones_like(span))
    return a


def prepare(attributions, masks, *, sign: str, normalise: str, channel_reduce: str,
            context: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate and return ``(a, s)`` flattened to (N, H*W): transformed map and bool mask."""
    check_common(sign, normalise, channel_reduce, context)
    a = check_attributions(attributions, context=context)
    s = check_masks(masks, a, context=context)
    return transform(a, sign, normalise, channel_reduce), s.flatten(1)


def new_codes(a: torch.Tensor) -> torch.Tensor:
    return torch.zeros(a.shape[0], dtype=torch.int8, device=a.device)
