"""ROAD: RemOve And Debias (Rong, Leemann, Borisov, Kasneci, Kasneci, ICML 2022).

Deletion curves replace pixels by a constant, and the model's score may fall because the holes
themselves are out of distribution, not because the evidence is gone: the *shape* of the removed
set leaks class information. ROAD fills removed pixels by **noisy linear imputation**: each removed
pixel is the weighted mean of its 8 neighbours (weight 1/6 for the 4 direct ones, 1/12 for the
diagonals; neighbours outside the image are left out and the weights of the rest are not
renormalised, as the authors' code), solved jointly for all removed pixels as one sparse linear
system per image and channel, plus Gaussian noise of standard deviation ``noise``. The model is then
scored on the imputed images as a growing share of pixels is removed, most relevant first (MoRF:
a faithful map makes the score fall fast) or least relevant first (LeRF: it should stay high).

The system and its weights are those of the authors' code as adapted in Quantus
(``quantus.functions.perturb_func.noisy_linear_imputation``); the test compares the two.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import spsolve
from torch import nn

from .._validation import check_float, check_int, check_option
from ._checks import CHANNEL_REDUCTIONS, SIGNS, check_attributions, transform
from ._faithfulness import FaithfulnessCurve, _check_images, _check_target, eval_mode

__all__ = ["ROAD_ORDERS", "ROAD_OUTPUTS", "noisy_linear_imputation", "road"]

ROAD_ORDERS = ("morf", "lerf")
ROAD_OUTPUTS = ("accuracy", "probability", "sigmoid", "logit")
_OFFSETS = ((1, 1, 1 / 12), (0, 1, 1 / 6), (-1, 1, 1 / 12), (1, -1, 1 / 12), (0, -1, 1 / 6), (-1, -1, 1 / 12),
            (1, 0, 1 / 6), (-1, 0, 1 / 6))


def noisy_linear_imputation(image: np.ndarray, removed: np.ndarray, *, noise: float = 0.01,
                            rng: np.random.Generator | None = None) -> np.ndarray:
    """Fill the ``removed`` pixels of one image from their neighbours, plus Gaussian noise.

    Parameters
    ----------
    image : ndarray, (C, H, W)
    removed : ndarray of int
        Flat spatial indices ``h * W + w`` of the pixels to impute (all channels); not every pixel.
    noise : float, default 0.01
        Standard deviation of the Gaussian noise added to every imputed value.
    rng : numpy.random.Generator, optional
        Draws the noise; required when ``noise > 0``.

    Returns
    -------
    ndarray
        float64, (C, H, W): a copy with the removed pixels imputed.

    Examples
    --------
    >>> img = np.arange(9.0).reshape(1, 3, 3)
    >>> round(float(noisy_linear_imputation(img, np.array([4]), noise=0.0)[0, 1, 1]), 9)  # a linear ramp
    4.0
    """
    c, h, w = image.shape
    p = h * w
    removed = np.unique(np.asarray(removed, dtype=np.int64))
    flat = image.reshape(c, p).astype(np.float64)
    out = flat.copy()
    m = removed.size
    if m == 0:
        return out.reshape(c, h, w)
    if m == p:
        raise ValueError("removed of noisy_linear_imputation must leave at least one pixel of the image")
    var = np.full(p, -1, dtype=np.int64)
    var[removed] = np.arange(m)
    ry, rx = removed // w, removed % w
    rows, cols, vals = [np.arange(m)], [np.arange(m)], []
    diag = np.zeros(m)
    rhs = np.zeros((m, c))
    for dy, dx, weight in _OFFSETS:
        ny, nx = ry + dy, rx + dx
        valid = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
        nb = ny * w + nx
        diag[valid] -= weight
        unknown = valid & (var[np.where(valid, nb, 0)] >= 0)
        known = valid & ~unknown
        rows.append(np.flatnonzero(unknown))
        cols.append(var[nb[unknown]])
        vals.append(np.full(int(unknown.sum()), weight))
        rhs[known] -= weight * flat[:, nb[known]].T
    a = coo_matrix((np.concatenate([diag, *vals]), (np.concatenate(rows), np.concatenate(cols))),
                   shape=(m, m)).tocsc()
    solved = spsolve(a, rhs).reshape(m, c)
    if noise > 0:
        if rng is None:
            raise ValueError("rng of noisy_linear_imputation is required when noise > 0")
        solved = solved + noise * rng.standard_normal((m, c))
    out[:, removed] = solved.T
    return out.reshape(c, h, w)


def road(model: nn.Module, x: torch.Tensor, attributions, target: torch.Tensor | int, *,
         fractions: Sequence[float] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9), order: str = "morf",
         noise: float = 0.01, output: str = "accuracy", sign: str = "signed", channel_reduce: str = "sum",
         seed: int = 0, batch_size: int = 64) -> FaithfulnessCurve:
    """ROAD curve: the model's score on images whose top-ranked pixels are removed and imputed.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(B, C, H, W)`` to ``(B, K)`` logits; run in eval mode without gradients (its modes are
        restored); on ``x``'s device.
    x : Tensor, (N, C, H, W)
        Images; not modified.
    attributions : Tensor, (N, C, H, W), (N, 1, H, W) or (N, H, W)
        Ranked per spatial pixel after ``channel_reduce`` and ``sign``; ties keep ascending flat
        index order (as :func:`xaikit.metrics.deletion_curve`).
    target : int or Tensor (N,)
        The class scored (ROAD: the true label).
    fractions : sequence of float in [0, 1), default 0, 0.1, ..., 0.9
        Share of pixels removed at each step; step ``s`` removes ``floor(f_s * H * W)`` pixels.
    order : {"morf", "lerf"}, default "morf"
        Most relevant first (a faithful map gives a low area) or least relevant first (high area).
    noise : float, default 0.01
        Standard deviation of the imputation noise (Rong et al.'s and Quantus's default).
    output : {"accuracy", "probability", "sigmoid", "logit"}, default "accuracy"
        1.0 where the arg-max class equals ``target`` (ROAD's accuracy, averaged over a test set),
        else the softmax probability, sigmoid or logit of the target class.
    sign, channel_reduce
        As for every metric.
    seed : int, default 0
        Seeds the noise (``numpy.random.default_rng(seed)``, drawn image by image, step by step).
    batch_size : int, default 64
        Imputed images per forward pass; the ``N * S`` passes are built chunk by chunk.

    Returns
    -------
    FaithfulnessCurve
        ``(fractions (S,), scores (N, S))``, float64 on ``x``'s device; :func:`curve_auc` gives
        the area.

    References
    ----------
    Rong, Leemann, Borisov, Kasneci, Kasneci (2022). A consistent and efficient evaluation strategy
    for attribution methods. ICML 2022, PMLR 162, 18770-18795.

    Examples
    --------
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))
    >>> curve = road(model, torch.rand(2, 1, 4, 4), torch.rand(2, 1, 4, 4), 0, fractions=[0.0, 0.5])
    >>> curve.fractions.tolist(), tuple(curve.scores.shape)
    ([0.0, 0.5], (2, 2))
    """
    ctx = "road"
    if not isinstance(model, nn.Module):
        raise ValueError(f"model of {ctx} must be a torch.nn.Module, got {type(model).__name__}")
    check_option("order", order, ROAD_ORDERS, context=ctx)
    check_option("output", output, ROAD_OUTPUTS, context=ctx)
    check_option("sign", sign, SIGNS, context=ctx)
    check_option("channel_reduce", channel_reduce, CHANNEL_REDUCTIONS, context=ctx)
    check_float("noise", noise, min_value=0.0, context=ctx)
    check_int("seed", seed, min_value=0, context=ctx)
    check_int("batch_size", batch_size, min_value=1, context=ctx)
    fr = np.asarray(list(fractions), dtype=np.float64) if np.ndim(fractions) == 1 else np.array([np.nan])
    if fr.size == 0 or not np.all((fr >= 0) & (fr < 1)):
        raise ValueError(f"fractions of {ctx} must be a non-empty sequence of numbers in [0, 1); got {fractions!r}")
    x = _check_images(x, ctx)
    n, c, h, w = x.shape
    p = h * w
    a = check_attributions(attributions, context=ctx).to(x.device)
    if a.shape[0] != n or tuple(a.shape[-2:]) != (h, w) or a.shape[1] not in (1, c):
        raise ValueError(f"attributions of {ctx} must have shape (N, C, H, W), (N, 1, H, W) or (N, H, W) "
                         f"matching x {tuple(x.shape)}; got {tuple(a.shape)}")
    target = _check_target(target, n, x.device, ctx)
    relevance = transform(a, sign, "none", channel_reduce)
    ranked = torch.sort(relevance, dim=1, descending=(order == "morf"), stable=True).indices.cpu().numpy()
    counts = np.floor(fr * p).astype(np.int64)
    images = x.cpu().double().numpy()
    rng = np.random.default_rng(seed)
    s = fr.size
    points = n * s
    scores = torch.empty(points, dtype=torch.float64, device=x.device)
    top = int(target.max())
    with eval_mode(model), torch.no_grad():
        for start in range(0, points, batch_size):
            stop = min(start + batch_size, points)
            batch = np.stack([noisy_linear_imputation(images[q // s], ranked[q // s, :counts[q % s]], noise=noise,
                                                      rng=rng) for q in range(start, stop)])
            out = model(torch.from_numpy(batch).to(device=x.device, dtype=x.dtype))
            if out.ndim != 2 or top >= out.shape[1]:
                raise ValueError(f"model of {ctx} must return logits (B, K) with K > every target; "
                                 f"got {tuple(out.shape)} for target {top}")
            idx = torch.arange(start, stop, device=x.device)
            t = target[idx // s]
            out = out.double()
            if output == "accuracy":
                scores[idx] = (out.argmax(dim=1) == t).double()
            else:
                chosen = (out.softmax(dim=1) if output == "probability" else out).gather(1, t[:, None])[:, 0]
                scores[idx] = chosen.sigmoid() if output == "sigmoid" else chosen
    return FaithfulnessCurve(torch.as_tensor(counts / p, dtype=torch.float64, device=x.device), scores.view(n, s))
