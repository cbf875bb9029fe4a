"""Quantus interoperability: Positive Attribution Ratio as a ``quantus.Metric``.

Imported lazily (``xaikit.metrics.PositiveAttributionRatio``) so that ``import xaikit.metrics``
never imports quantus. The class runs Quantus's own pipeline (input checks, its normalisation,
``abs``, batching), and scores each batch with :func:`positive_attribution_ratio`. It replaces
the copy of ``RelevanceMassAccuracy`` that paper 003 edited, which needs quantus <= 0.4.4.
"""
from __future__ import annotations

import numpy as np
import torch
from quantus.helpers import asserts
from quantus.helpers.enums import DataType, EvaluationCategory, ModelType, ScoreDirection
from quantus.metrics.base import Metric

from ._localisation import positive_attribution_ratio

__all__ = ["PositiveAttributionRatio"]


class PositiveAttributionRatio(Metric):
    """Positive relevance inside ``s_batch`` over all positive relevance (Cedro & Chlebus 2024).

    Usable wherever a Quantus metric is, including ``quantus.evaluate``. Defaults follow paper
    003's class: ``abs=False, normalise=True`` (Quantus's batch-wide ``normalise_by_max``, which
    does not change the ratio). Empty masks and maps without positive relevance give NaN.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[[[3.0, -1.0], [1.0, 0.5]]]]); s = np.array([[[[1, 1], [0, 0]]]])
    >>> PositiveAttributionRatio(disable_warnings=True)(model=None, x_batch=np.zeros_like(a),
    ...     y_batch=np.zeros(1, int), a_batch=a, s_batch=s)
    [0.6666666666666666]
    """

    name = "Positive Attribution Ratio"
    data_applicability = {DataType.IMAGE}
    model_applicability = {ModelType.TORCH, ModelType.TF}
    score_direction = ScoreDirection.HIGHER
    evaluation_category = EvaluationCategory.LOCALISATION

    def __init__(self, abs: bool = False, normalise: bool = True, normalise_func=None,
                 normalise_func_kwargs=None, return_aggregate: bool = False, aggregate_func=None,
                 default_plot_func=None, disable_warnings: bool = False,
                 display_progressbar: bool = False, **kwargs):
        super().__init__(abs=abs, normalise=normalise, normalise_func=normalise_func,
                         normalise_func_kwargs=normalise_func_kwargs,
                         return_aggregate=return_aggregate, aggregate_func=aggregate_func,
                         default_plot_func=default_plot_func, display_progressbar=display_progressbar,
                         disable_warnings=disable_warnings, **kwargs)

    def __call__(self, model, x_batch: np.ndarray, y_batch: np.ndarray, a_batch=None, s_batch=None,
                 channel_first=None, explain_func=None, explain_func_kwargs=None,
                 model_predict_kwargs=None, softmax=False, device=None, batch_size: int = 64,
                 **kwargs) -> list[float]:
        """Score a batch as any Quantus metric does (see ``quantus.Metric.__call__``)."""
        return super().__call__(model=model, x_batch=x_batch, y_batch=y_batch, a_batch=a_batch,
                                s_batch=s_batch, custom_batch=None, channel_first=channel_first,
                                explain_func=explain_func, explain_func_kwargs=explain_func_kwargs,
                                softmax=softmax, device=device,
                                model_predict_kwargs=model_predict_kwargs, batch_size=batch_size,
                                **kwargs)

    def custom_preprocess(self, x_batch: np.ndarray, s_batch: np.ndarray, **kwargs) -> None:
        asserts.assert_segmentations(x_batch=x_batch, s_batch=s_batch)

    def evaluate_batch(self, *args, a_batch: np.ndarray, s_batch: np.ndarray, **kwargs) -> list[float]:
        a = torch.from_numpy(np.ascontiguousarray(a_batch))
        s = torch.from_numpy(np.ascontiguousarray(s_batch).astype(bool))
        if a.ndim == 4 and s.ndim == 4 and s.shape[1] == 1 and a.shape[1] != 1:
            a = a.sum(dim=1, keepdim=True)
        return positive_attribution_ratio(a, s).tolist()
