"""The map as a pixel classifier of the mask: AUROC and AUPRC per sample, batched.

Tied values are one threshold, as in scikit-learn's ``roc_auc_score`` (mid-ranks, i.e. the
Mann-Whitney U statistic) and ``average_precision_score`` (step function at distinct values).
"""
from __future__ import annotations

import torch

from ._checks import EMPTY_MASK, FULL_MASK, finish, new_codes, prepare, set_code
from ._registry import register_metric

__all__ = ["auroc", "auprc"]


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
    v, order = torch.sort(a, dim=1)
    first, last = _groups(v)
    midrank = (first + last).double() / 2 + 1
    lab = s.gather(1, order)
    n_in = lab.sum(dim=1).double()
    n_out = a.shape[1] - n_in
    r_in = (midrank * lab).sum(dim=1)
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
    v, order = torch.sort(a, dim=1, descending=True)
    _, last = _groups(v)
    lab = s.gather(1, order)
    tp = lab.double().cumsum(dim=1)
    precision_at_end = tp.gather(1, last) / (last + 1).double()
    n_in = lab.sum(dim=1).double()
    score = (precision_at_end * lab).sum(dim=1) / n_in.clamp(min=1)
    return finish(score, set_code(new_codes(a), n_in == 0, EMPTY_MASK), return_reasons)
