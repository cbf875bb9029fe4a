"""Concepts from the phantom generators, and a concept-bottleneck model (Koh et al. 2020).

The chest phantom knows what it drew: which lung zones hold an opacity, how many opacities, their area,
the cardiothoracic ratio. :func:`phantom_concepts` turns an :class:`~xaikit.data.ImageSet` into that
table; :class:`ConceptBottleneck` predicts the binary concepts first and the class from them only, so
a clinician (here: the generator) can correct a concept at test time (:func:`intervention_curve`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from .._seed import seeded
from .._validation import check_float, check_int

__all__ = ["ZONES", "ConceptBottleneck", "concept_accuracy", "fit_concept_bottleneck", "intervention_curve",
           "phantom_concepts"]

ZONES = ("right_upper", "right_lower", "left_upper", "left_lower")


def phantom_concepts(ds) -> pd.DataFrame:
    """The generator's ground-truth concepts of a chest phantom, one row per image.

    Parameters
    ----------
    ds : an ImageSet from ``chest_covid`` (or another phantom with lesion masks, ``organ_masks`` and the
        ``n_lesions``/``lesion_area``/``ctr`` meta columns), or from ``chest_multilabel``.

    Returns
    -------
    DataFrame with ``lesion_<zone>`` (bool) for each of ``ZONES`` — whether any opacity pixel lies in the
    patient's right (image left) or left lung, above or below the median row of the lungs — and
    ``n_lesions``, ``lesion_area`` (opacity pixels / image pixels), ``ctr`` (cardiothoracic ratio, which the
    ``chest_covid`` label does not depend on) copied from the meta. For ``chest_covid`` the label is
    exactly "some zone holds an opacity".

    For a multi-label phantom (``chest_multilabel``): ``ctr`` (the generator draws cardiomegaly as a
    cardiothoracic ratio above 0.5, healthy hearts at most 0.485) and ``<finding>_area`` (mask pixels /
    image pixels) per finding.

    Examples
    --------
    >>> from xaikit.data import chest_covid
    >>> ds = chest_covid(6, image_size=32, seed=0)
    >>> c = phantom_concepts(ds)
    >>> bool((c[[f"lesion_{z}" for z in ZONES]].any(axis=1).to_numpy() == (ds.labels == 1)).all())
    True
    """
    if ds.multilabel:
        cols = ["ctr", *[f"{name}_area" for name in ds.class_names]]
        missing = [k for k in cols if k not in ds.meta.columns]
        if missing:
            raise ValueError(f"ds must be a phantom with generator metadata (e.g. chest_multilabel); missing {missing}")
        return ds.meta[cols].reset_index(drop=True).astype(float)
    missing = [k for k in ("n_lesions", "lesion_area", "ctr") if k not in ds.meta.columns]
    if ds.organ_masks is None or missing:
        raise ValueError(f"ds must be a single-label lesion phantom with organ masks and meta columns n_lesions, "
                         f"lesion_area, ctr (e.g. chest_covid); missing: {missing or 'organ_masks'}")
    lesion = ds.masks[:, 0] & (ds.labels == 1)[:, None, None]
    lungs = ds.organ_masks[:, 0]
    n, h, w = lungs.shape
    rows, cols = np.mgrid[:h, :w]
    out = {f"lesion_{z}": np.zeros(n, dtype=bool) for z in ZONES}
    for i in range(n):
        r, c = rows[lungs[i]], cols[lungs[i]]
        r_mid = np.median(r) if r.size else h / 2
        c_mid = c.mean() if c.size else w / 2
        upper, right = rows < r_mid, cols < c_mid  # patient's right is the image's left
        for z, m in zip(ZONES, (right & upper, right & ~upper, ~right & upper, ~right & ~upper), strict=True):
            out[f"lesion_{z}"][i] = bool((lesion[i] & m).any())
    frame = pd.DataFrame(out)
    for k in ("n_lesions", "lesion_area", "ctr"):
        frame[k] = ds.meta[k].to_numpy()
    return frame


class ConceptBottleneck(nn.Module):
    """Concept-bottleneck model: ``x -> concept logits -> sigmoid -> linear task head -> class logits``.

    Parameters
    ----------
    concept_net : module mapping images to ``n_concepts`` logits (any registered model built with
        ``num_classes=n_concepts``).
    n_concepts, num_classes : sizes of the bottleneck and the task output.

    Examples
    --------
    >>> from xaikit.models import create_model
    >>> cbm = ConceptBottleneck(create_model("tinycnn", 1, 4), 4, 2)
    >>> x = torch.rand(3, 1, 16, 16)
    >>> cbm(x).shape, cbm.predict_concepts(x).shape
    (torch.Size([3, 2]), torch.Size([3, 4]))
    >>> known = torch.ones(3, 4)
    >>> torch.equal(cbm(x, concepts=known, intervene=torch.ones(4, dtype=torch.bool)), cbm.head(known))
    True
    """

    def __init__(self, concept_net: nn.Module, n_concepts: int, num_classes: int) -> None:
        super().__init__()
        check_int("n_concepts", n_concepts, min_value=1, context="ConceptBottleneck")
        check_int("num_classes", num_classes, min_value=1, context="ConceptBottleneck")
        self.concept_net = concept_net
        self.head = nn.Linear(n_concepts, num_classes)
        self.n_concepts = n_concepts

    def predict_concepts(self, x: torch.Tensor) -> torch.Tensor:
        """Concept probabilities (N, n_concepts)."""
        return torch.sigmoid(self.concept_net(x))

    def forward(self, x: torch.Tensor, concepts: torch.Tensor | None = None,
                intervene: torch.Tensor | None = None) -> torch.Tensor:
        """Class logits; with ``concepts`` and a boolean ``intervene`` (n_concepts,) or (N, n_concepts),
        the intervened concepts take the given (true) values instead of the predicted ones."""
        c = self.predict_concepts(x)
        if intervene is not None:
            if concepts is None or concepts.shape != c.shape:
                raise ValueError(f"concepts must have shape {tuple(c.shape)} when intervening, "
                                 f"got {getattr(concepts, 'shape', None)}")
            c = torch.where(intervene.to(torch.bool).expand_as(c), concepts.to(c.dtype), c)
        return self.head(c)


def fit_concept_bottleneck(model: ConceptBottleneck, x: torch.Tensor, concepts: torch.Tensor, y: torch.Tensor, *,
                           epochs: int = 10, batch_size: int = 64, lr: float = 1e-3, concept_weight: float = 1.0,
                           seed: int = 0) -> ConceptBottleneck:
    """Joint training: cross-entropy on the class plus ``concept_weight`` x binary cross-entropy on the concepts.

    Parameters
    ----------
    model : the bottleneck model (trained in place).
    x, concepts, y : images (N, C, H, W), binary concepts (N, n_concepts), labels (N,).
    epochs, batch_size, lr : Adam training schedule.
    concept_weight : weight of the concept loss (Koh et al.'s lambda; large: sequential-like, 0: no bottleneck).
    seed : seeds the shuffling and every torch draw during training.

    Returns
    -------
    The trained model, in eval mode.
    """
    ctx = "fit_concept_bottleneck"
    check_int("epochs", epochs, min_value=1, context=ctx)
    check_int("batch_size", batch_size, min_value=1, context=ctx)
    check_float("lr", lr, min_value=1e-12, context=ctx)
    check_float("concept_weight", concept_weight, min_value=0.0, context=ctx)
    if concepts.shape != (len(x), model.n_concepts) or y.shape != (len(x),):
        raise ValueError(f"concepts must have shape ({len(x)}, {model.n_concepts}) and y ({len(x)},), "
                         f"got {tuple(concepts.shape)} and {tuple(y.shape)}")
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    bce, ce = nn.BCEWithLogitsLoss(), nn.CrossEntropyLoss()
    model.train()
    with seeded(seed):
        for _ in range(epochs):
            for idx in torch.randperm(len(x), generator=gen).split(batch_size):
                logits_c = model.concept_net(x[idx])
                loss = ce(model.head(torch.sigmoid(logits_c)), y[idx]) + concept_weight * bce(
                    logits_c, concepts[idx].float())
                opt.zero_grad()
                loss.backward()
                opt.step()
    return model.eval()


@torch.no_grad()
def concept_accuracy(model: ConceptBottleneck, x: torch.Tensor, concepts: torch.Tensor) -> torch.Tensor:
    """Per-concept accuracy (n_concepts,) of the thresholded (0.5) concept predictions."""
    return ((model.predict_concepts(x) > 0.5) == concepts.bool()).double().mean(0)


@torch.no_grad()
def intervention_curve(model: ConceptBottleneck, x: torch.Tensor, concepts: torch.Tensor, y: torch.Tensor,
                       order: list[int] | None = None) -> pd.DataFrame:
    """Task accuracy as the true values of 0, 1, ..., all concepts replace the predicted ones.

    Parameters
    ----------
    model, x, concepts, y : the bottleneck model, images, true binary concepts and labels.
    order : the order in which concepts are intervened on (default: 0, 1, ...).

    Returns
    -------
    DataFrame with ``n_intervened``, ``concept`` (the index added at that step, -1 for none) and
    ``accuracy``; the gain of intervention is the last accuracy minus the first.
    """
    order = list(range(model.n_concepts)) if order is None else [int(i) for i in order]
    if sorted(order) != sorted(set(order)) or not set(order) <= set(range(model.n_concepts)):
        raise ValueError(f"order must list distinct concept indices in [0, {model.n_concepts - 1}], got {order}")
    model.eval()
    mask = torch.zeros(model.n_concepts, dtype=torch.bool, device=x.device)
    rows = []
    for step, k in enumerate([-1, *order]):
        if k >= 0:
            mask[k] = True
        pred = model(x, concepts=concepts.float(), intervene=mask).argmax(1)
        rows.append({"n_intervened": step, "concept": k, "accuracy": float((pred == y).double().mean())})
    return pd.DataFrame(rows)
