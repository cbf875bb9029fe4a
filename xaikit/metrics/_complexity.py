"""Complexity of a map on its own: sparseness (Gini index) and Shannon entropy."""
from __future__ import annotations

import torch

from ._checks import ZERO_TOTAL, check_attributions, check_common, finish, new_codes, set_code, transform
from ._registry import register_metric

__all__ = ["sparseness", "entropy"]


def _prepare(attributions, sign, normalise, channel_reduce, ctx):
    check_common(sign, normalise, channel_reduce, ctx)
    a = check_attributions(attributions, context=ctx)
    a = transform(a, sign, normalise, channel_reduce).double()
    if sign == "signed" and bool((a < 0).any()):
        raise ValueError(f"sign of {ctx} must be 'positive' or 'absolute' for maps with negative "
                         "values; got 'signed'")
    return a


@register_metric("sparseness", kind="complexity", needs=("attributions",))
def sparseness(attributions, *, sign: str = "absolute", normalise: str = "none",
               channel_reduce: str = "sum", return_reasons: bool = False):
    """Sparseness as the Gini index of the map's values, per sample.

    ``G = sum_k (2k - P - 1) a_(k) / (P sum_k a_(k))`` over values sorted ascending, ``a >= 0``:
    0 for a uniform map, ``1 - 1/P`` for a single non-zero pixel. Quantus 0.6.0 adds 1e-7 to every
    value first (after its batch-wide max normalisation), which moves scores by ~1e-7 and turns the
    undefined all-zero case into 0; here an all-zero map is NaN ("zero total relevance").

    References
    ----------
    Chalasani et al. (2020). Concise explanations of neural networks using adversarial training.
    ICML 2020.

    Examples
    --------
    >>> import torch
    >>> sparseness(torch.tensor([[[[0.0, 0.0], [0.0, 5.0]]]]))
    tensor([0.7500], dtype=torch.float64)
    """
    a = _prepare(attributions, sign, normalise, channel_reduce, "sparseness")
    p = a.shape[1]
    v = torch.sort(a, dim=1).values
    weights = 2 * torch.arange(1, p + 1, dtype=torch.float64, device=a.device) - p - 1
    total = v.sum(dim=1)
    score = (v * weights).sum(dim=1) / (p * torch.where(total > 0, total, 1.0))
    return finish(score, set_code(new_codes(a), total == 0, ZERO_TOTAL), return_reasons)


@register_metric("entropy", kind="complexity", needs=("attributions",))
def entropy(attributions, *, sign: str = "absolute", normalise: str = "none",
            channel_reduce: str = "sum", return_reasons: bool = False):
    """Shannon entropy (nats) of the map normalised to a distribution, per sample.

    ``H = -sum_p q_p log q_p`` with ``q = a / sum(a)``, ``a >= 0``, and ``0 log 0 = 0``; from 0 (one
    pixel) to ``log P`` (uniform). Quantus 0.6.0 ``Complexity`` uses ``log(q + 1e-12)``
    (differences below 1e-7 at 224^2).

    References
    ----------
    Bhatt, Weller, Moura (2020). Evaluating and aggregating feature-based model explanations.
    IJCAI 2020.

    Examples
    --------
    >>> import torch
    >>> entropy(torch.tensor([[[[1.0, 1.0], [0.0, 0.0]]]]))
    tensor([0.6931], dtype=torch.float64)
    """
    a = _prepare(attributions, sign, normalise, channel_reduce, "entropy")
    total = a.sum(dim=1, keepdim=True)
    q = a / torch.where(total > 0, total, 1.0)
    score = -torch.special.xlogy(q, q).sum(dim=1)
    return finish(score, set_code(new_codes(a), total[:, 0] == 0, ZERO_TOTAL), return_reasons)
