"""Training a ProtoPNet-style model: cross-entropy with cluster and separation costs, then the push step."""
from __future__ import annotations

import torch
from torch import nn

from .._seed import seeded
from .._validation import check_float, check_int

__all__ = ["fit_protopnet", "prototype_costs"]


def prototype_costs(distances: torch.Tensor, y: torch.Tensor, prototype_class: torch.Tensor) -> tuple[torch.Tensor,
                                                                                                        torch.Tensor]:
    """Chen et al.'s cluster and separation costs from distances (N, M, h, w).

    Cluster: mean over images of the smallest distance from any patch to a prototype of the image's class
    (pulls each image close to one of its class's prototypes). Separation: the same for the other classes'
    prototypes (pushed away; enters the loss with a minus sign).

    Examples
    --------
    >>> d = torch.tensor([[1.0, 4.0]])[:, :, None, None]  # one image, prototype 0 of class 0, 1 of class 1
    >>> prototype_costs(d, torch.tensor([0]), torch.tensor([0, 1]))
    (tensor(1.), tensor(4.))
    """
    per_proto = distances.flatten(2).amin(2)  # (N, M)
    own = y[:, None] == prototype_class[None, :]
    inf = torch.full_like(per_proto, float("inf"))
    cluster = torch.where(own, per_proto, inf).amin(1).mean()
    separation = torch.where(~own, per_proto, inf).amin(1).mean()
    return cluster, separation


def fit_protopnet(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int = 10, batch_size: int = 64,
                  lr: float = 1e-3, cluster: float = 0.8, separation: float = 0.08, push: bool = True,
                  seed: int = 0) -> nn.Module:
    """Train a :class:`xaikit.models.ProtoPNet` jointly (Chen et al. 2019), then push its prototypes.

    Loss: ``CE + cluster * cluster_cost - separation * separation_cost`` (:func:`prototype_costs`), Adam on
    every parameter; the push step (``ProtoPNet.push``) then snaps each prototype onto its nearest
    training patch of its own class. (The paper's last-layer-only fine-tuning is left out.)

    Parameters
    ----------
    model : the prototype network (trained in place).
    x, y : training images (N, C, H, W) and labels (N,).
    epochs, batch_size, lr : schedule.
    cluster, separation : weights of the two costs (the paper's 0.8 and 0.08).
    push : run the push step at the end.
    seed : seeds the shuffling and every torch draw during training.

    Returns
    -------
    The trained model, in eval mode.
    """
    ctx = "fit_protopnet"
    if not (hasattr(model, "distances") and hasattr(model, "prototype_class")):
        raise ValueError(f"model of {ctx} must be a prototype network (xaikit.models.ProtoPNet), "
                         f"got {type(model).__name__}")
    check_int("epochs", epochs, min_value=1, context=ctx)
    check_int("batch_size", batch_size, min_value=1, context=ctx)
    check_float("lr", lr, min_value=1e-12, context=ctx)
    check_float("cluster", cluster, min_value=0.0, context=ctx)
    check_float("separation", separation, min_value=0.0, context=ctx)
    y = torch.as_tensor(y, device=x.device).long()
    if y.shape != (len(x),):
        raise ValueError(f"y must have shape ({len(x)},), got {tuple(y.shape)}")
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    ce = nn.CrossEntropyLoss()
    model.train()
    with seeded(seed):
        for _ in range(epochs):
            for idx in torch.randperm(len(x), generator=gen).split(batch_size):
                d = model.distances(x[idx])
                sim = torch.log((d + 1) / (d + model.eps)).flatten(2).amax(2)
                clst, sep = prototype_costs(d, y[idx], model.prototype_class)
                loss = ce(model.last_layer(sim), y[idx]) + cluster * clst - separation * sep
                opt.zero_grad()
                loss.backward()
                opt.step()
    model.eval()
    if push:
        model.push(x, y)
    return model
