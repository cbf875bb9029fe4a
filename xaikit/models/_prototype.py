"""A ProtoPNet-style prototype head on a small CNN backbone (Chen et al. 2019).

Each class owns ``prototypes_per_class`` learned prototypes, vectors in the latent space of a 1x1 add-on
layer. An image's latent patches are compared with every prototype; the similarity map of prototype ``j``
is ``log((d + 1) / (d + eps))`` with ``d`` the squared L2 distance, its max over positions is the
prototype's score, and a linear layer maps the scores to logits. ``ProtoPNet.push`` snaps every
prototype onto its nearest latent patch among training images of its class, so each prototype *is* a
training patch.
"""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_float, check_int
from ._registry import register_model

__all__ = ["ProtoPNet"]


class ProtoPNet(nn.Module):
    """Prototype network: backbone → 1x1 add-on (sigmoid) → prototype similarities → max-pool → linear.

    Parameters
    ----------
    in_channels, num_classes : input channels and classes.
    prototypes_per_class : prototypes owned by each class.
    latent_channels : channels of the add-on layer (and of each prototype).
    width : channels of the backbone's first block (doubled by each of its three blocks, capped at 4x).
    eps : the similarity's epsilon; a prototype that equals a patch scores ``log(1 / eps)``.

    Attributes
    ----------
    prototypes : Parameter (M, latent_channels), M = prototypes_per_class * num_classes.
    prototype_class : LongTensor (M,), the class owning each prototype.
    push_index_ : LongTensor (M, 3) of (training image, row, column) each prototype was pushed onto,
        set by :meth:`push` (absent before).

    Examples
    --------
    >>> m = ProtoPNet(1, 2, prototypes_per_class=3)
    >>> m(torch.rand(4, 1, 32, 32)).shape, m.similarity_maps(torch.rand(4, 1, 32, 32)).shape
    (torch.Size([4, 2]), torch.Size([4, 6, 8, 8]))
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 2, prototypes_per_class: int = 5,
                 latent_channels: int = 32, width: int = 16, eps: float = 1e-4) -> None:
        super().__init__()
        ctx = "ProtoPNet"
        check_int("prototypes_per_class", prototypes_per_class, min_value=1, context=ctx)
        check_int("latent_channels", latent_channels, min_value=1, context=ctx)
        check_int("width", width, min_value=1, context=ctx)
        self.eps = check_float("eps", eps, min_value=1e-12, context=ctx)
        w = (width, 2 * width, 4 * width)

        def block(i: int, o: int, pool: bool) -> list[nn.Module]:
            layers = [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
            return layers + [nn.MaxPool2d(2)] if pool else layers
        self.features = nn.Sequential(*block(in_channels, w[0], True), *block(w[0], w[1], True),
                                      *block(w[1], w[2], False))
        self.add_on = nn.Sequential(nn.Conv2d(w[2], latent_channels, 1), nn.Sigmoid())
        m = prototypes_per_class * num_classes
        self.prototypes = nn.Parameter(torch.rand(m, latent_channels))
        self.register_buffer("prototype_class", torch.arange(num_classes).repeat_interleave(prototypes_per_class))
        self.last_layer = nn.Linear(m, num_classes, bias=False)
        identity = nn.functional.one_hot(self.prototype_class, num_classes).T.float()
        with torch.no_grad():  # the paper's initialisation: +1 for own prototypes, -0.5 for the others
            self.last_layer.weight.copy_(identity - 0.5 * (1 - identity))

    def latent(self, x: torch.Tensor) -> torch.Tensor:
        """Latent patches (N, latent_channels, h, w) that the prototypes are compared with."""
        return self.add_on(self.features(x))

    def distances(self, x: torch.Tensor) -> torch.Tensor:
        """Squared L2 distances (N, M, h, w) of every latent patch to every prototype."""
        z = self.latent(x)
        z2 = z.pow(2).sum(1, keepdim=True)
        p2 = self.prototypes.pow(2).sum(1)[None, :, None, None]
        zp = torch.einsum("nchw,mc->nmhw", z, self.prototypes)
        return (z2 - 2 * zp + p2).clamp(min=0)

    def similarity_maps(self, x: torch.Tensor) -> torch.Tensor:
        """Similarity maps (N, M, h, w): ``log((d + 1) / (d + eps))`` of the distances."""
        d = self.distances(x)
        return torch.log((d + 1) / (d + self.eps))

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        """Prototype scores (N, M): each similarity map's maximum over positions."""
        return self.similarity_maps(x).flatten(2).amax(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last_layer(self.scores(x))

    @torch.no_grad()
    def push(self, x: torch.Tensor, y: torch.Tensor, batch_size: int = 256) -> ProtoPNet:
        """Snap every prototype onto the nearest latent patch of a training image of its own class.

        Parameters
        ----------
        x : training images (N, C, H, W).
        y : their labels (N,); every class must have at least one image.
        batch_size : images per forward pass.

        Returns
        -------
        self, with ``prototypes`` replaced and ``push_index_`` set. Latents are computed in eval mode
        (the module's mode is restored).
        """
        y = torch.as_tensor(y, device=x.device).long()
        if y.shape != (len(x),):
            raise ValueError(f"y must have shape ({len(x)},), got {tuple(y.shape)}")
        missing = sorted(set(self.prototype_class.tolist()) - set(y.tolist()))
        if missing:
            raise ValueError(f"y has no image of class(es) {missing}; push needs at least one per class")
        was_training = self.training
        self.eval()  # batch-norm with running statistics: a patch's latent must not depend on its batch
        m = len(self.prototypes)
        best = torch.full((m,), float("inf"), device=x.device)
        index = torch.zeros(m, 3, dtype=torch.long, device=x.device)
        new = self.prototypes.detach().clone()
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            z = self.latent(xb)
            d = self.distances(xb)
            own = yb[:, None] == self.prototype_class[None, :]  # (n, M): image may host the prototype
            d = torch.where(own[:, :, None, None], d, torch.full_like(d, float("inf")))
            h, w = d.shape[-2:]
            flat = d.permute(1, 0, 2, 3).reshape(m, -1)
            val, arg = flat.min(1)
            better = val < best
            n_i, rem = arg // (h * w), arg % (h * w)
            r, c = rem // w, rem % w
            for j in torch.nonzero(better).flatten().tolist():
                best[j] = val[j]
                index[j] = torch.stack([n_i[j] + start, r[j], c[j]])
                new[j] = z[n_i[j], :, r[j], c[j]]
        self.prototypes.copy_(new)
        self.push_index_ = index
        self.train(was_training)
        return self


@register_model("protopnet", min_input_size=4)
def _protopnet(in_channels: int, num_classes: int) -> nn.Module:
    """A ProtoPNet-style prototype head (5 prototypes per class) on a three-block CNN."""
    return ProtoPNet(in_channels, num_classes)
