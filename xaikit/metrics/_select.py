"""Exact per-row selection: the k-th largest value of every row, and top-k hit counts.

Rank metrics need only the value at rank k, not a full order: with it, "in the top k" is a
comparison plus a tie rule, so no ``(N, P)`` index tensor is ever built.
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["kth_largest", "topk_hits", "TIES"]

TIES = ("first", "average", "min", "max")
_CHUNK = 64


def kth_largest(a: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """The ``k[i]``-th largest value of row ``a[i]`` (1-based, ties counted with multiplicity).

    Parameters
    ----------
    a : Tensor, shape (N, P), real, finite.
    k : Tensor of int, shape (N,), with ``1 <= k <= P``.

    Notes
    -----
    On the CPU each row is partitioned in place of a sort (``numpy.partition``, introselect,
    ``O(P)``) on a zero-copy view; a full sort costs ~10-60x more. Elsewhere a batched
    ``torch.sort`` runs on the device. Both are exact.
    """
    n, p = a.shape
    k = k.to(dtype=torch.int64).cpu()
    if a.device.type != "cpu":
        return _kth_torch(a, k.to(a.device))
    an = a.detach().contiguous().numpy()
    kth = (p - k).tolist()
    out = np.empty(n, dtype=an.dtype)
    for i in range(n):
        out[i] = np.partition(an[i], kth[i])[kth[i]]
    return torch.from_numpy(out)


def _kth_torch(a: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """``kth_largest`` by a device sort, ``_CHUNK`` rows at a time: the sort's values and int64 indices
    never take more than a block's worth of memory (a whole-batch sort takes 3x the input)."""
    out = torch.empty(a.shape[0], dtype=a.dtype, device=a.device)
    for i in range(0, a.shape[0], _CHUNK):
        v = torch.sort(a[i:i + _CHUNK], dim=1, descending=True).values
        out[i:i + _CHUNK] = v.gather(1, (k[i:i + _CHUNK] - 1)[:, None])[:, 0]
    return out


def topk_hits(a: torch.Tensor, s: torch.Tensor, k: torch.Tensor, ties: str) -> torch.Tensor:
    """Number of mask pixels among the ``k[i]`` largest pixels of each row (float64, (N,)).

    ``ties`` decides which of the pixels tied at the k-th largest value are counted as selected:
    ``"first"`` the lowest flat indices (a stable descending sort, ``np.argsort(-a,
    kind="stable")``), ``"average"`` the expectation under a uniformly random tie order, ``"min"`` /
    ``"max"`` the fewest / most mask pixels any tie order could give (bounds for any library).

    On the CPU the counting runs in numpy on zero-copy views (torch's boolean reductions are
    several times slower there); on other devices it stays in torch. Results are identical.
    """
    if a.device.type == "cpu":
        out = _topk_hits_numpy(a.detach().contiguous().numpy(), s.contiguous().numpy(),
                               k.cpu().numpy().astype(np.int64), ties)
        return torch.from_numpy(out)
    return _topk_hits_torch(a, s, k, ties)


def _tie_share(hits, r, n_tie, tie_in, ties, xp_min, xp_max):
    if ties == "average":
        return hits + r * tie_in / n_tie
    if ties == "min":
        return hits + xp_max(r - (n_tie - tie_in), 0 * r)
    return hits + xp_min(r, tie_in)  # "max"


def _topk_hits_numpy(a: np.ndarray, s: np.ndarray, k: np.ndarray, ties: str) -> np.ndarray:
    n, p = a.shape
    t = np.empty(n, dtype=a.dtype)
    for i, kth in enumerate((p - k).tolist()):
        t[i] = np.partition(a[i], kth)[kth]
    above = a > t[:, None]
    n_above = np.count_nonzero(above, axis=1)
    hits = np.count_nonzero(above & s, axis=1).astype(np.float64)
    del above
    tie = a == t[:, None]
    n_tie = np.count_nonzero(tie, axis=1)
    tie_in = np.count_nonzero(tie & s, axis=1)
    r = k - n_above
    if ties != "first":
        return _tie_share(hits, r.astype(np.float64), n_tie.astype(np.float64),
                          tie_in.astype(np.float64), ties, np.minimum, np.maximum)
    extra = tie_in.astype(np.float64)
    for i in np.flatnonzero(r < n_tie).tolist():
        idx = np.flatnonzero(tie[i])[: r[i]]
        extra[i] = np.count_nonzero(s[i, idx])
    return hits + extra


def _topk_hits_torch(a: torch.Tensor, s: torch.Tensor, k: torch.Tensor, ties: str) -> torch.Tensor:
    k = k.to(device=a.device, dtype=torch.int64)
    t = _kth_torch(a, k)[:, None]
    above = a > t
    n_above = above.sum(dim=1)
    hits = (above & s).sum(dim=1).double()
    del above
    tie = a == t
    n_tie = tie.sum(dim=1)
    tie_in = (tie & s).sum(dim=1)
    r = k - n_above  # how many tied pixels the top-k takes, 1 <= r <= n_tie
    if ties != "first":
        return _tie_share(hits, r.double(), n_tie.double(), tie_in.double(), ties,
                          torch.minimum, torch.maximum)
    extra = tie_in.double()
    rows = torch.nonzero(r < n_tie).flatten()
    for start in range(0, rows.numel(), _CHUNK):
        idx = rows[start:start + _CHUNK]
        tr = tie[idx]
        chosen = tr & (tr.cumsum(dim=1) <= r[idx, None])
        extra[idx] = (chosen & s[idx]).sum(dim=1).double()
    return hits + extra
