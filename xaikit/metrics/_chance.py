"""Chance baselines: what a map of i.i.d. random values scores, analytically and by drawing such maps."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import torch

__all__ = ["random_attribution_scores", "random_baseline"]


def random_baseline(masks: torch.Tensor | np.ndarray) -> np.ndarray:
    """Expected RRA (and PAR) of a map of i.i.d. random values: each image's mask share of the image.

    With the K mask pixels ranked at random, the top K hold K·(K/P) mask pixels on average, so
    E[RRA] = K/P; for i.i.d. values symmetric about 0, the positive mass also falls inside the mask
    in proportion K/P. NaN for an empty mask, as the metrics.

    Examples
    --------
    >>> m = np.zeros((1, 1, 4, 4), bool); m[0, 0, :2, :2] = True
    >>> random_baseline(m)
    array([0.25])
    """
    m = np.asarray(masks.cpu() if hasattr(masks, "cpu") else masks).reshape(len(masks), -1)
    share = m.astype(np.float64).mean(1)
    share[m.sum(1) == 0] = np.nan
    return share



def random_attribution_scores(masks: torch.Tensor, *, n_draws: int = 8, seed: int = 0) -> pd.DataFrame:
    """Score maps of i.i.d. standard-normal values (seeded) with RRA and PAR: the empirical random baseline.

    Returns a tidy frame ``image, draw, metric, score``; its per-image mean approaches
    :func:`random_baseline`.
    """
    import pandas as pd
    import torch

    from ._localisation import positive_attribution_ratio, relevance_rank_accuracy

    masks = torch.as_tensor(masks).bool()
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for draw in range(n_draws):
        a = torch.randn(masks.shape, generator=gen, dtype=torch.float64)
        for metric, fn in (("relevance_rank_accuracy", relevance_rank_accuracy),
                           ("positive_attribution_ratio", positive_attribution_ratio)):
            s = fn(a, masks).numpy()
            rows.append(pd.DataFrame({"image": np.arange(len(s)), "draw": draw, "metric": metric, "score": s}))
    return pd.concat(rows, ignore_index=True)
