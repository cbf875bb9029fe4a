"""Quality-control monitors with a scikit-learn-like API: ``fit`` on validation data, then ``score``/``flag``/``apply``.

:class:`Informer` scores a prediction by the class distinctiveness of its class-specific saliency
maps (paper 002); :class:`EntropyMonitor` and :class:`TTAMonitor` are the paper's baselines. All
three share the threshold machinery of :class:`ThresholdMonitor`: one τ per class, searched on a
grid of 0.001 on the validation set, maximising F1 after acting on the flags.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import check_float, check_int, check_option
from ._baselines import predictive_entropy, tta_uncertainty
from ._distinctiveness import SIGNS, ZERO_NORM_POLICIES, class_distinctiveness
from ._thresholds import ACTIONS, DIRECTIONS, _binary, apply_flags, search_threshold

__all__ = ["EntropyMonitor", "Informer", "TTAMonitor", "ThresholdMonitor"]


class ThresholdMonitor:
    """Base class: per-class thresholds on a per-class score, fitted to maximise F1 after acting on flags.

    Subclasses implement :meth:`score`. ``__init__`` only stores settings; :meth:`fit` sets the learned
    attributes (trailing underscore).

    Parameters
    ----------
    direction : "below" (flag scores < τ), "above" (flag scores > τ) or "auto" (default: per class, the
        direction with the higher validation F1 after acting; the monitor's ``paper_direction`` on a tie).
    action : what :meth:`apply` and the threshold search do with a flag: "flip" (default, paper 002),
        "defer" (oracle) or "abstain". See :func:`xaikit.qc.apply_flags`.
    step : grid spacing of the threshold search (paper 002: 0.001).

    Attributes
    ----------
    thresholds_ : (K,) τ per class.
    directions_ : list of K directions ("below"/"above").
    val_f1_before_, val_f1_after_ : (K,) validation F1 without QC and after acting on the flags.
    n_flagged_val_ : (K,) validation predictions flagged.
    searches_ : the K :class:`xaikit.qc.ThresholdSearch` results (grids and F1 curves).
    """

    #: the direction the paper's rationale gives to this score (used on a tie of "auto")
    paper_direction = "above"
    name = "threshold"

    def __init__(self, *, direction: str = "auto", action: str = "flip", step: float = 0.001) -> None:
        self.direction = direction
        self.action = action
        self.step = step

    # -- to implement -------------------------------------------------------------------------------
    def score(self, model: nn.Module | None = None, x: torch.Tensor | None = None, **precomputed: Any) -> np.ndarray:
        """Per-image, per-class scores (N, K) (float64)."""
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------------------
    def _check_settings(self) -> None:
        ctx = type(self).__name__
        check_option("direction", self.direction, DIRECTIONS, context=ctx)
        check_option("action", self.action, ACTIONS, context=ctx)
        check_float("step", self.step, min_value=1e-9, context=ctx)

    def _scores(self, scores, model, x, precomputed) -> np.ndarray:
        s = self.score(model, x, **precomputed) if scores is None else np.asarray(scores, dtype=np.float64)
        if s.ndim != 2:
            raise ValueError(f"scores of {type(self).__name__} must have shape (N, K), got {s.shape}")
        return s

    def fit(self, y_true, y_pred, *, scores=None, model: nn.Module | None = None, x: torch.Tensor | None = None,
            **precomputed: Any) -> ThresholdMonitor:
        """Learn one threshold per class on validation data.

        Parameters
        ----------
        y_true, y_pred : (N, K) binary truth and the inspected model's binary predictions
            (e.g. logits thresholded at the Youden thresholds).
        scores : (N, K) precomputed scores; otherwise computed by :meth:`score` from ``model``, ``x``
            and ``**precomputed`` (``maps=``, ``logits=``).

        Returns
        -------
        self
        """
        self._check_settings()
        s = self._scores(scores, model, x, precomputed)
        y = _binary("y_true", y_true, s.shape)
        p = _binary("y_pred", y_pred, s.shape)
        prefer = self.paper_direction
        self.searches_ = [search_threshold(s[:, k], y[:, k], p[:, k], direction=self.direction, action=self.action,
                                           step=self.step, prefer=prefer) for k in range(s.shape[1])]
        self.thresholds_ = np.array([r.threshold for r in self.searches_])
        self.directions_ = [r.direction for r in self.searches_]
        self.val_f1_before_ = np.array([r.f1_before for r in self.searches_])
        self.val_f1_after_ = np.array([r.f1_after for r in self.searches_])
        self.n_flagged_val_ = np.array([r.n_flagged for r in self.searches_])
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "thresholds_"):
            raise ValueError(f"this {type(self).__name__} is not fitted yet: call fit(y_true, y_pred, ...) on "
                             "validation data first")

    def flag(self, *, scores=None, model: nn.Module | None = None, x: torch.Tensor | None = None,
             **precomputed: Any) -> np.ndarray:
        """(N, K) bool: True where a prediction is flagged (score strictly beyond its class's τ)."""
        self._check_fitted()
        s = self._scores(scores, model, x, precomputed)
        if s.shape[1] != len(self.thresholds_):
            raise ValueError(f"scores have {s.shape[1]} classes but the monitor was fitted on {len(self.thresholds_)}")
        if np.isnan(s).any():
            raise ValueError("scores contain NaN; cannot flag")
        below = np.array([d == "below" for d in self.directions_])
        return np.where(below, s < self.thresholds_, s > self.thresholds_)

    def apply(self, y_pred, flags, *, y_true=None, action: str | None = None) -> np.ndarray:
        """Act on ``flags`` with the monitor's ``action`` (or the one given); see :func:`xaikit.qc.apply_flags`."""
        return apply_flags(y_pred, flags, action=self.action if action is None else action, y_true=y_true)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_") and
                           not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class Informer(ThresholdMonitor):
    """INFORMER (paper 002): flag predictions whose class-specific saliency map is not distinct from the others'.

    The score of class i is the class distinctiveness d_i = Σ_{j≠i} (1 − cos(S_i, S_j)) of the maps
    S_1 … S_K of every class (:func:`xaikit.qc.class_distinctiveness`); the paper's rationale ("similar
    class maps ↔ a low-confidence model") flags low d_i, which is the tie-break of ``direction="auto"``.

    Parameters
    ----------
    method : any registered explainer name (default "input_x_gradient"; the paper also uses "lrp") or an
        explainer instance; ``method_params`` are passed to :func:`xaikit.explain.get_explainer`.
    sign, channels, zero_norm : see :func:`xaikit.qc.class_distinctiveness`.
    batch_size : images per pass of :func:`xaikit.explain.class_maps`.
    direction, action, step : see :class:`ThresholdMonitor`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> maps = rng.normal(size=(40, 3, 1, 4, 4))         # precomputed class maps (N, K, C, H, W)
    >>> y = rng.integers(0, 2, (40, 3)); pred = np.where(rng.random((40, 3)) < 0.8, y, 1 - y)
    >>> mon = Informer().fit(y, pred, maps=maps)
    >>> bool((mon.val_f1_after_ >= mon.val_f1_before_).all())
    True
    >>> mon.flag(maps=maps).shape
    (40, 3)
    """

    paper_direction = "below"
    name = "informer"

    def __init__(self, method: Any = "input_x_gradient", *, method_params: dict | None = None,
                 sign: str = "signed", channels: str = "sum", zero_norm: str = "orthogonal", batch_size: int = 32,
                 direction: str = "auto", action: str = "flip", step: float = 0.001) -> None:
        super().__init__(direction=direction, action=action, step=step)
        self.method = method
        self.method_params = method_params
        self.sign = sign
        self.channels = channels
        self.zero_norm = zero_norm
        self.batch_size = batch_size

    def maps(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """The class-specific maps (N, K, C, H, W) of every class, via :func:`xaikit.explain.class_maps`."""
        from ..explain import class_maps

        check_int("batch_size", self.batch_size, min_value=1, context="Informer")
        return class_maps(model, x, None, self.method, batch_size=self.batch_size, **(self.method_params or {}))

    def score(self, model: nn.Module | None = None, x: torch.Tensor | None = None, *, maps=None) -> np.ndarray:
        """Class distinctiveness d (N, K) of ``maps`` (precomputed), or of the maps of ``model`` on ``x``."""
        ctx = "Informer"
        check_option("sign", self.sign, SIGNS, context=ctx)
        check_option("zero_norm", self.zero_norm, ZERO_NORM_POLICIES, context=ctx)
        if maps is None:
            if model is None or x is None:
                raise ValueError("Informer.score needs precomputed maps=, or model and x")
            maps = self.maps(model, x)
        return class_distinctiveness(maps, sign=self.sign, channels=self.channels, zero_norm=self.zero_norm)


class EntropyMonitor(ThresholdMonitor):
    """Predictive-entropy baseline (paper 002, eq. 2): flag predictions whose sigmoid output is near 0.5.

    Parameters
    ----------
    batch_size : images per forward pass when scoring from ``model`` and ``x``.
    direction, action, step : see :class:`ThresholdMonitor` (the paper flags high entropy).

    Examples
    --------
    >>> logits = np.array([[3.0], [0.1], [-2.0], [0.2]]); y = [[1], [0], [0], [0]]; pred = [[1], [1], [0], [1]]
    >>> mon = EntropyMonitor(direction="above").fit(y, pred, logits=logits)
    >>> mon.flag(logits=logits).ravel().tolist()
    [False, True, False, True]
    """

    paper_direction = "above"
    name = "entropy"

    def __init__(self, *, batch_size: int = 256, direction: str = "auto", action: str = "flip",
                 step: float = 0.001) -> None:
        super().__init__(direction=direction, action=action, step=step)
        self.batch_size = batch_size

    def score(self, model: nn.Module | None = None, x: torch.Tensor | None = None, *, logits=None) -> np.ndarray:
        """Entropy (N, K) of ``logits``, or of ``model``'s logits on ``x``."""
        if logits is None:
            if model is None or x is None:
                raise ValueError("EntropyMonitor.score needs logits=, or model and x")
            from ..train import predict_logits

            logits = predict_logits(model, x, self.batch_size)
        return predictive_entropy(logits)


class TTAMonitor(ThresholdMonitor):
    """Test-time-augmentation baseline (paper 002): flag predictions whose logits vary across augmented copies.

    Parameters
    ----------
    n_copies : augmented copies per image (not stated in the paper; default 10).
    augment : an :class:`xaikit.train.Augment` (default ``xaikit.qc.TTA_PAPER002``).
    statistic : "std" of the logits over the copies (default) or "entropy" of the mean probability.
    seed, batch_size : see :func:`xaikit.qc.tta_logits`.
    direction, action, step : see :class:`ThresholdMonitor` (the paper flags high variation).

    Examples
    --------
    >>> z = torch.tensor([[[0.0], [0.1]], [[0.0], [3.0]]])  # 2 images, 2 copies, 1 class: logits=
    >>> TTAMonitor().score(logits=z).round(2).tolist()
    [[0.05], [1.5]]
    """

    paper_direction = "above"
    name = "tta"

    def __init__(self, *, n_copies: int = 10, augment: Any = None, statistic: str = "std", seed: int = 0,
                 batch_size: int = 256, direction: str = "auto", action: str = "flip", step: float = 0.001) -> None:
        super().__init__(direction=direction, action=action, step=step)
        self.n_copies = n_copies
        self.augment = augment
        self.statistic = statistic
        self.seed = seed
        self.batch_size = batch_size

    def score(self, model: nn.Module | None = None, x: torch.Tensor | None = None, *, logits=None) -> np.ndarray:
        """TTA uncertainty (N, K) from ``logits`` (N, n_copies, K), or from ``model`` on ``x``."""
        return tta_uncertainty(model, x, n_copies=self.n_copies, augment=self.augment, statistic=self.statistic,
                               seed=self.seed, batch_size=self.batch_size, logits=logits)
