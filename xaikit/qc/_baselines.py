"""The two baselines of paper 002: predictive entropy (eq. 2) and test-time augmentation (TTA), both batched."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_int, check_option
from ..train import Augment

__all__ = ["TTA_PAPER002", "predictive_entropy", "tta_logits", "tta_uncertainty"]

#: Paper 002's TTA at its 320-px size: random rotation within ±45°, a 10×10 box blur, random crop with
#: padding 8. Blur and padding are fractions of the image side (10/320, 8/320), so at 64 px they are a
#: 2×2 blur and a padding of 2. The paper does not say whether the blur is random; here each copy is
#: blurred with probability 0.5, so it adds variation instead of shifting every copy alike.
TTA_PAPER002 = Augment(rotation=45.0, crop_padding=8 / 320, blur=0.5, blur_kernel=10 / 320)


def _logits_array(logits) -> torch.Tensor:
    z = logits.detach() if isinstance(logits, torch.Tensor) else torch.as_tensor(np.asarray(logits))
    z = z.to(torch.float64)
    if z.ndim != 2:
        raise ValueError(f"logits must have shape (N, K), got {tuple(z.shape)}")
    if not torch.isfinite(z).all():
        raise ValueError("logits contain NaN or infinite values")
    return z


def predictive_entropy(logits) -> np.ndarray:
    """Per-class binary predictive entropy in bits, paper 002 eq. 2: H = −p log₂ p − (1 − p) log₂(1 − p), p = σ(z).

    Computed from the logits with log-sigmoids, so it is exact for large ``|z|`` (H → 0) and 1 at z = 0.

    Parameters
    ----------
    logits : (N, K) tensor or array of a multi-label (sigmoid) model.

    Returns
    -------
    numpy.ndarray, float64, (N, K), in [0, 1]. Higher = more uncertain.

    Examples
    --------
    >>> predictive_entropy([[0.0, 100.0]]).round(6).tolist()
    [[1.0, 0.0]]
    """
    z = _logits_array(logits)
    log_p, log_q = F.logsigmoid(z), F.logsigmoid(-z)
    h = -(log_p.exp() * log_p + log_q.exp() * log_q) / np.log(2.0)
    return h.clamp(0.0, 1.0).numpy()


@torch.no_grad()
def tta_logits(model: nn.Module, x: torch.Tensor, *, n_copies: int = 10, augment: Augment | None = None,
               seed: int = 0, batch_size: int = 256) -> torch.Tensor:
    """Logits of ``n_copies`` augmented copies of every image: (N, n_copies, K), in batches of image copies.

    Copies of a batch of images are stacked into one tensor, augmented with per-sample draws from a
    ``torch.Generator`` seeded with ``seed`` (so the result depends on ``seed`` and ``batch_size``
    only) and passed through the model (eval mode) in one forward pass.

    Parameters
    ----------
    augment : an :class:`xaikit.train.Augment` (default ``TTA_PAPER002``).
    batch_size : augmented images per forward pass.

    Examples
    --------
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 5))
    >>> tta_logits(model, torch.rand(3, 1, 8, 8), n_copies=4).shape
    torch.Size([3, 4, 5])
    """
    check_int("n_copies", n_copies, min_value=1, context="tta_logits")
    check_int("batch_size", batch_size, min_value=1, context="tta_logits")
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        raise ValueError(f"x of tta_logits must be a float tensor (N, C, H, W), got {getattr(x, 'shape', type(x))}")
    aug = TTA_PAPER002 if augment is None else augment
    gen = torch.Generator().manual_seed(int(seed))
    per = max(1, batch_size // n_copies)
    was_training = model.training
    model.eval()
    try:
        out = []
        for i in range(0, len(x), per):
            xb = x[i:i + per].repeat_interleave(n_copies, dim=0)
            z = model(aug(xb, gen))
            out.append(z.view(-1, n_copies, z.shape[1]).float())
    finally:
        model.train(was_training)
    return torch.cat(out)


def tta_uncertainty(model: nn.Module | None = None, x: torch.Tensor | None = None, *, n_copies: int = 10,
                    augment: Augment | None = None, statistic: str = "std", seed: int = 0, batch_size: int = 256,
                    logits: torch.Tensor | None = None) -> np.ndarray:
    """TTA uncertainty per image and class: the spread of the logits over augmented copies (paper 002's baseline).

    Paper 002 analyses "the variation in the logits across these transformations" without naming a
    statistic; the default is the standard deviation of the logits over the copies (population,
    ddof = 0). "entropy" is the predictive entropy (eq. 2) of the mean probability over the copies.

    Parameters
    ----------
    model, x : the classifier and images (N, C, H, W); or ``logits`` (N, n_copies, K) already computed
        with :func:`tta_logits`.
    n_copies, augment, seed, batch_size : see :func:`tta_logits`.
    statistic : "std" (default) or "entropy".

    Returns
    -------
    numpy.ndarray, float64, (N, K). Higher = more uncertain.

    Examples
    --------
    >>> z = torch.tensor([[[0.0, 1.0], [2.0, 1.0]]])  # one image, two copies, two classes
    >>> tta_uncertainty(logits=z).tolist()
    [[1.0, 0.0]]
    """
    check_option("statistic", statistic, ("std", "entropy"), context="tta_uncertainty")
    if logits is None:
        if model is None or x is None:
            raise ValueError("tta_uncertainty needs model and x, or logits of shape (N, n_copies, K)")
        logits = tta_logits(model, x, n_copies=n_copies, augment=augment, seed=seed, batch_size=batch_size)
    z = logits.detach().double() if isinstance(logits, torch.Tensor) else torch.as_tensor(np.asarray(logits)).double()
    if z.ndim != 3:
        raise ValueError(f"logits of tta_uncertainty must have shape (N, n_copies, K), got {tuple(z.shape)}")
    if statistic == "std":
        return z.std(dim=1, correction=0).cpu().numpy()
    return predictive_entropy(torch.logit(torch.sigmoid(z).mean(dim=1).clamp(1e-12, 1 - 1e-12)))
