"""The map as a pixel classifier of the mask: AUROC and AUPRC per sample, batched.

Tied values are one threshold, as in scikit-learn's ``roc_auc_score`` (mid-ranks, i.e. the
Mann-Whitney U statistic) and ``average_precision_score`` (step function at distinct values).

Memory: both sort every row, and a sorted row with its order, tie groups and running counts takes
about 50 bytes per pixel. Rows therefore go in blocks sized so that the working set stays about
twice the input's size (:func:`row_blocks`), on any device, instead of ~15x for the whole batch.
"""
from __future__ import annotations

import torch

from ._checks import EMPTY_MASK, FULL_MASK, finish, new_codes, prepare, set_code
from ._registry import register_metric

__all__ = ["auroc", "auprc"]

_BYTES_PER_PIXEL = 50  # sort values + int64 order + tie-group indices + float64 running sums, per pixel


def row_blocks(a: torch.Tensor, share: float = 2.0) -> list[slice]:
    """Row slices of ``a`` (N, P) whose per-block working set (~50 bytes a pixel) is ``share`` x the input's size.

    Examples
    --------
    >>> [(s.start, s.stop) for s in row_blocks(torch.zeros(100, 10), share=2.0)]
    [(0, 16), (16, 32), (32, 48), (48, 64), (64, 80), (80, 96), (96, 100)]
    """
    n = a.shape[0]
    rows = max(1, int(share * n * a.element_size() // _BYTES_PER_PIXEL))
    return [slice(i, min(n, i + rows)) for i in range(0, n, rows)]


def _groups(v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each position of row-sorted ``v``: index of the first and the last equal value."""
    n, p = v.shape
    pos = torch.arange(p, device=v.device).expand(n, p)
    new = torch.ones_like(v, dtype=torch.bool)
    new[:, 1:] = v[:, 1:] != v[:, :-1]
    gid = new.long().cumsum(dim=1) - 1 + (torch.arange(n, device=v.device) * p)[:, None]
    first = torch.full((n * p,), p, dtype=torch.long, device=v.device)
    last = torch.zeros(n * p, dtype=torch.long, device=v.device)
    first.scatter_reduce_(0, gid.flatten(), pos.flatten(), reduce="amin")
    last.scatter_reduce_(0, gid.flatten(), pos.flatten(), reduce="amax")
    return first[gid], last[gid]


def _rank_sum_in(a: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Sum of the mid-ranks (1-based) of the mask pixels of every row (float64, (n,))."""
    v, order = torch.sort(a, dim=1)
    first, last = _groups(v)
    del v
    lab = s.gather(1, order)
    del order
    return (((first + last).double() / 2 + 1) * lab).sum(dim=1)


def _precision_sum(a: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Sum over mask pixels of the precision at the end of their tie group, descending (float64, (n,))."""
    v, order = torch.sort(a, dim=1, descending=True)
    _, last = _groups(v)
    del v
    lab = s.gather(1, order)
    del order
    tp = lab.double().cumsum(dim=1)
    return (tp.gather(1, last) / (last + 1).double() * lab).sum(dim=1)


@register_metric("auroc", kind="localisation")
def auroc(attributions, masks, *, sign: str = "signed", normalise: str = "none",
          channel_reduce: str = "sum", return_reasons: bool = False):
    """Area under the ROC curve of the map as a score for mask membership, per sample.

    ``AUROC = (R_in - n_in (n_in + 1) / 2) / (n_in n_out)`` with ``R_in`` the sum of mid-ranks of
    the mask pixels: the probability that a random mask pixel outranks a random background pixel,
    ties counting one half. Equals ``sklearn.metrics.roc_auc_score`` and quantus 0.6.0 ``AUC``.

    Returns
    -------
    Tensor
        float64, (N,), in [0, 1]; 0.5 for a constant map; NaN for an empty or a full mask.

    References
    ----------
    Fawcett (2006). An introduction to ROC analysis. Pattern Recognition Letters 27, 861-874.

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([[[[3.0, 2.0], [1.0, 1.0]]]])
    >>> s = torch.tensor([[[[True, False], [True, False]]]])
    >>> auroc(a, s)
    tensor([0.6250], dtype=torch.float64)
    """
    a, s = prepare(attributions, masks, sign=sign, normalise=normalise,
                   channel_reduce=channel_reduce, context="auroc")
    n_in = s.sum(dim=1).double()
    n_out = a.shape[1] - n_in
    r_in = torch.cat([_rank_sum_in(a[b], s[b]) for b in row_blocks(a, share=1.0)])  # two tie-group indices
    score = (r_in - n_in * (n_in + 1) / 2) / (n_in * n_out).clamp(min=1)
    codes = set_code(new_codes(a), n_in == 0, EMPTY_MASK)
    codes = set_code(codes, n_out == 0, FULL_MASK)
    return finish(score, codes, return_reasons)


@register_metric("auprc", kind="localisation")
def auprc(attributions, masks, *, sign: str = "signed", normalise: str = "none",
          channel_reduce: str = "sum", return_reasons: bool = False):
    """Average precision of the map as a score for mask membership, per sample.

    ``AP = sum_n (R_n - R_{n-1}) P_n`` over distinct map values in decreasing order, exactly
    ``sklearn.metrics.average_precision_score``. A random map scores about ``|mask| / (H*W)``.

    Returns
    -------
    Tensor
        float64, (N,), in [0, 1]; NaN for an empty mask.

    References
    ----------
    Arun et al. (2021). Assessing the trustworthiness of saliency maps for localizing
    abnormalities in medical imaging. Radiology: Artificial Intelligence 3(6), e200267.

    Examples
    --------
    >>> import torch
    >>> a = torch.tensor([[[[3.0, 2.0], [1.0, 0.0]]]])
    >>> s = torch.tensor([[[[True, False], [True, False]]]])
    >>> auprc(a, s)
    tensor([0.8333], dtype=torch.float64)
    """
    a, s = prepare(attributions, masks, sign=sign, normalise=normalise,
                   channel_reduce=channel_reduce, context="auprc")
    n_in = s.sum(dim=1).double()
    score = torch.cat([_precision_sum(a[b], s[b]) for b in row_blocks(a)]) / n_in.clamp(min=1)
    return finish(score, set_code(new_codes(a), n_in == 0, EMPTY_MASK), return_reasons)
