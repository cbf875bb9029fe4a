"""Robustness: how much an explanation changes under small input noise (Yeh et al. 2019).

Max-sensitivity is ``max_j ||Φ(x + δ_j) - Φ(x)|| / ||Φ(x)||`` over ``n_samples`` perturbations
``δ_j`` drawn uniformly from ``[-radius, radius]`` per input element (Quantus's ``MaxSensitivity``
with its default ``uniform_noise``, ``difference`` and Frobenius norms; ``normalise=False`` drops
the denominator, as Yeh et al.'s definition). Every perturbed input of every image is explained in
batches of ``batch_size``: ``N * n_samples`` explanations in ``ceil(N * n_samples / batch_size)``
calls of the explainer.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .._validation import check_float, check_int
from ._faithfulness import _check_images, _check_target

__all__ = ["max_sensitivity"]

ExplainFn = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


def _explain_fn(explain, ctx: str) -> ExplainFn:
    if hasattr(explain, "attribute") and callable(explain.attribute):
        return explain.attribute
    if callable(explain):
        return explain
    raise ValueError(f"explain of {ctx} must be a callable (model, x, target) -> Tensor or an object with "
                     f".attribute(model, x, target); got {explain!r}")


def max_sensitivity(model: nn.Module, x: torch.Tensor, target: torch.Tensor | int, explain, *,
                    radius: float = 0.02, n_samples: int = 10, normalise: bool = True,
                    nan_when_prediction_changes: bool = False, seed: int = 0, batch_size: int = 64) -> torch.Tensor:
    """Maximum relative change of each image's explanation under uniform input noise.

    Parameters
    ----------
    model : torch.nn.Module
        On ``x``'s device.
    x : Tensor, (N, C, H, W)
        Images; not modified.
    target : int or Tensor (N,)
        The class explained (the same for the perturbed copies).
    explain : callable ``(model, x, target) -> Tensor`` or an explainer with ``.attribute``
        Must return one map per input with a fixed shape.
    radius : float, default 0.02
        Half-width of the uniform noise, in the units of ``x`` (Quantus's ``lower_bound``; its
        default 0.2 is large for images in [0, 1]).
    n_samples : int, default 10
        Perturbations per image (Quantus: 200).
    normalise : bool, default True
        Divide by ``||Φ(x)||`` (Frobenius over all elements); NaN where that is 0.
    nan_when_prediction_changes : bool, default False
        Leave out perturbations that change the arg-max class (NaN when all of them do).
    seed : int, default 0
        The noise is ``numpy.random.default_rng(seed).uniform(-radius, radius, (N, n_samples, C, H, W))``.
    batch_size : int, default 64
        Perturbed inputs per call of ``explain``.

    Returns
    -------
    Tensor
        float64, (N,), >= 0, on ``x``'s device.

    References
    ----------
    Yeh, Hsieh, Suggala, Inouye, Ravikumar (2019). On the (in)fidelity and sensitivity of
    explanations. NeurIPS 2019.

    Examples
    --------
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))
    >>> def gradient(m, x, t):
    ...     x = x.clone().requires_grad_(True)
    ...     return torch.autograd.grad(m(x).gather(1, t[:, None]).sum(), x)[0]
    >>> max_sensitivity(model, torch.rand(3, 1, 4, 4), 0, gradient).tolist()  # a linear model's gradient
    [0.0, 0.0, 0.0]
    """
    ctx = "max_sensitivity"
    if not isinstance(model, nn.Module):
        raise ValueError(f"model of {ctx} must be a torch.nn.Module, got {type(model).__name__}")
    fn = _explain_fn(explain, ctx)
    check_float("radius", radius, min_value=0.0, context=ctx)
    check_int("n_samples", n_samples, min_value=1, context=ctx)
    check_int("seed", seed, min_value=0, context=ctx)
    check_int("batch_size", batch_size, min_value=1, context=ctx)
    for flag, v in (("normalise", normalise), ("nan_when_prediction_changes", nan_when_prediction_changes)):
        if not isinstance(v, bool):
            raise ValueError(f"{flag} of {ctx} must be True or False, got {v!r}")
    x = _check_images(x, ctx)
    n = x.shape[0]
    target = _check_target(target, n, x.device, ctx)
    delta = np.random.default_rng(seed).uniform(-radius, radius, size=(n, n_samples, *x.shape[1:]))
    delta = torch.from_numpy(delta).to(device=x.device, dtype=x.dtype)

    def explained(xb: torch.Tensor, tb: torch.Tensor) -> torch.Tensor:
        e = fn(model, xb, tb)
        if not isinstance(e, torch.Tensor) or e.shape[0] != xb.shape[0]:
            raise ValueError(f"explain of {ctx} must return a Tensor with one map per input; got "
                             f"{tuple(getattr(e, 'shape', ())) or type(e).__name__}")
        return e.detach().flatten(1).double()

    def predicted(xb: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model(xb).argmax(dim=1)

    reference = torch.cat([explained(x[i:i + batch_size], target[i:i + batch_size]) for i in range(0, n, batch_size)])
    base_pred = torch.cat([predicted(x[i:i + batch_size]) for i in range(0, n, batch_size)]) \
        if nan_when_prediction_changes else None
    points = n * n_samples
    change = torch.empty(points, dtype=torch.float64, device=x.device)
    for start in range(0, points, batch_size):
        idx = torch.arange(start, min(start + batch_size, points), device=x.device)
        i, j = idx // n_samples, idx % n_samples
        xb = x[i] + delta[i, j]
        diff = torch.linalg.vector_norm(explained(xb, target[i]) - reference[i], dim=1)
        if base_pred is not None:
            diff = torch.where(predicted(xb) == base_pred[i], diff, torch.full_like(diff, float("nan")))
        change[idx] = diff
    change = change.view(n, n_samples)
    if nan_when_prediction_changes:
        worst = torch.where(change.isnan(), torch.full_like(change, -1.0), change).amax(dim=1)
        worst = torch.where(worst < 0, torch.full_like(worst, float("nan")), worst)
    else:
        worst = change.amax(dim=1)
    if normalise:
        norm = torch.linalg.vector_norm(reference, dim=1)
        worst = torch.where(norm > 0, worst / torch.where(norm > 0, norm, 1.0), torch.full_like(worst, float("nan")))
    return worst
