"""Seeded, batched training augmentations (paper 004's Keras list, paper 002's list).

Every random parameter is drawn per sample from an explicit ``torch.Generator`` on the CPU,
so a training run is a function of its seed; the geometric part is one affine warp per sample
(``affine_grid`` + ``grid_sample``), applied to the whole batch at once on the batch's device.
``torchvision.transforms.v2`` is not used for the built-in pipelines because it draws from the
global RNG and applies one draw to a whole batch; :func:`per_sample` wraps any v2 transform
for the occasional custom pipeline (slower: a Python loop over the batch).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .._validation import check_option

__all__ = ["Augment", "AUGMENTATIONS", "get_augmentation", "per_sample"]


@dataclass(frozen=True)
class Augment:
    """A batch augmentation ``(x, generator) -> x'`` for images ``(N, C, H, W)`` in [0, 1].

    Every transform is off by default.

    Parameters
    ----------
    rotation : degrees; angle ~ U(-rotation, rotation).
    shift : (width, height) fractions of the image size; shift ~ U(-f, f) each.
    zoom : zx, zy ~ U(1 - zoom, 1 + zoom) independently (Keras: > 1 shows more of the image).
    shear : degrees; shear angle ~ U(-shear, shear).
    crop_padding : fraction of the image size: pad by p = round(fraction * size) pixels and crop
        back at a random offset, i.e. an integer shift in [-p, p] with zero fill.
    hflip, vflip : probability of a horizontal / vertical flip.
    brightness : (low, high): multiply by U(low, high), then clip to [0, 1] (Keras/PIL brightness).
    channel_shift : add U(-c, c) per channel, clipped to the sample's own [min, max] (Keras).
    blur : probability of a box blur with a ``blur_kernel`` × ``blur_kernel`` mean filter
        (fraction of the image size, at least 2 pixels; reflect-101 borders, as ``cv2.blur``).

    Notes
    -----
    Geometric transforms are about the image centre, bilinear, with zeros outside
    (Keras ``fill_mode="constant"``, ``cval=0``).

    Examples
    --------
    >>> aug = Augment(rotation=20, hflip=0.5)
    >>> x = torch.rand(4, 1, 32, 32)
    >>> y1 = aug(x, torch.Generator().manual_seed(0))
    >>> y2 = aug(x, torch.Generator().manual_seed(0))
    >>> bool(torch.equal(y1, y2)), y1.shape
    (True, torch.Size([4, 1, 32, 32]))
    """

    rotation: float = 0.0
    shift: tuple[float, float] = (0.0, 0.0)
    zoom: float = 0.0
    shear: float = 0.0
    crop_padding: float = 0.0
    hflip: float = 0.0
    vflip: float = 0.0
    brightness: tuple[float, float] | None = None
    channel_shift: float = 0.0
    blur: float = 0.0
    blur_kernel: float = 0.0

    def _geometric(self) -> bool:
        return bool(self.rotation or any(self.shift) or self.zoom or self.shear or self.crop_padding
                    or self.hflip or self.vflip)

    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        if x.ndim != 4:
            raise ValueError(f"augmentations take images of shape (N, C, H, W), got {tuple(x.shape)}")
        n, c, h, w = x.shape

        def u(lo: float, hi: float, *shape: int) -> Tensor:
            return (torch.rand(shape or (n,), generator=generator, dtype=torch.float64) * (hi - lo) + lo)

        def coin(p: float) -> Tensor:
            return torch.rand(n, generator=generator, dtype=torch.float64) < p

        if self._geometric():
            x = self._warp(x, u, coin)
        if self.brightness is not None:
            x = (x * u(*self.brightness).to(x)[:, None, None, None]).clamp(0.0, 1.0)
        if self.channel_shift:
            lo = x.amin(dim=(1, 2, 3), keepdim=True)
            hi = x.amax(dim=(1, 2, 3), keepdim=True)
            shift = u(-self.channel_shift, self.channel_shift, n, c).to(x)[:, :, None, None]
            x = torch.maximum(torch.minimum(x + shift, hi), lo)
        if self.blur:
            x = self._blur(x, coin(self.blur).to(x.device))
        return x

    def _warp(self, x: Tensor, u: Callable, coin: Callable) -> Tensor:
        n, _, h, w = x.shape
        angle = u(-self.rotation, self.rotation) * math.pi / 180
        shear = u(-self.shear, self.shear) * math.pi / 180
        zx, zy = u(1 - self.zoom, 1 + self.zoom), u(1 - self.zoom, 1 + self.zoom)
        tx, ty = u(-self.shift[0], self.shift[0]) * w, u(-self.shift[1], self.shift[1]) * h
        if self.crop_padding:
            pad = round(self.crop_padding * min(h, w))
            tx = tx + u(-pad - 0.5, pad + 0.5).round().clamp(-pad, pad)
            ty = ty + u(-pad - 0.5, pad + 0.5).round().clamp(-pad, pad)
        fx = torch.where(coin(self.hflip), -1.0, 1.0)
        fy = torch.where(coin(self.vflip), -1.0, 1.0)
        one, zero = torch.ones(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)

        def mat(a: Tensor, b: Tensor, c: Tensor, d: Tensor) -> Tensor:
            return torch.stack([torch.stack([a, b], -1), torch.stack([c, d], -1)], -2)

        # Output pixel (centred coordinates) -> input pixel: rotation · shear · zoom · flip, then the shift.
        a = (mat(torch.cos(angle), -torch.sin(angle), torch.sin(angle), torch.cos(angle))
             @ mat(one, -torch.sin(shear), zero, torch.cos(shear))
             @ mat(zx * fx, zero, zero, zy * fy))
        # Pixel coordinates -> normalised [-1, 1] (align_corners=False): divide by half the size.
        half = torch.tensor([w / 2, h / 2], dtype=torch.float64)
        theta = torch.empty(n, 2, 3, dtype=torch.float64)
        theta[:, :, :2] = a * half[None, None, :] / half[None, :, None]
        theta[:, 0, 2], theta[:, 1, 2] = -tx / half[0], -ty / half[1]
        grid = F.affine_grid(theta.to(device=x.device, dtype=x.dtype), list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    def _blur(self, x: Tensor, which: Tensor) -> Tensor:
        k = max(2, round(self.blur_kernel * min(x.shape[-2:])))
        left, right = k // 2, (k - 1) // 2  # cv2.blur anchors an even kernel right of centre
        padded = F.pad(x, (left, right, left, right), mode="reflect")
        blurred = F.avg_pool2d(padded, k, stride=1)
        return torch.where(which[:, None, None, None], blurred, x)


def per_sample(transform: Callable[[Tensor], Tensor]) -> Callable[[Tensor, torch.Generator], Tensor]:
    """Adapt a ``torchvision.transforms.v2`` transform to the ``(x, generator)`` contract.

    Each sample gets its own draw under a forked global RNG seeded from ``generator``, so the
    result depends on the generator alone and the caller's global RNG is untouched.

    Examples
    --------
    >>> from torchvision.transforms import v2
    >>> aug = per_sample(v2.RandomRotation(10))
    >>> aug(torch.rand(2, 1, 16, 16), torch.Generator().manual_seed(0)).shape
    torch.Size([2, 1, 16, 16])
    """
    def apply(x: Tensor, generator: torch.Generator) -> Tensor:
        seeds = torch.randint(0, 2**62, (len(x),), generator=generator).tolist()
        out = []
        with torch.random.fork_rng(devices=[]):
            for xi, s in zip(x, seeds, strict=True):
                torch.manual_seed(s)
                out.append(transform(xi))
        return torch.stack(out)
    return apply


#: Named training pipelines; ``TrainConfig(augment=name)`` picks one.
AUGMENTATIONS: dict[str, Augment | None] = {
    "none": None,
    # Paper 004's ImageDataGenerator: rotation_range=20, width/height_shift_range=0.2,
    # zoom_range=0.09, horizontal_flip=True, brightness_range=[0.8, 1.5], fill_mode="constant",
    # channel_shift_range=0.2. Keras shifts channels on 0-255 pixels before rescale=1/255, so on
    # [0, 1] images the shift is 0.2/255 (negligible, kept for fidelity).
    "paper004": Augment(rotation=20.0, shift=(0.2, 0.2), zoom=0.09, hflip=0.5, brightness=(0.8, 1.5),
                        channel_shift=0.2 / 255),
    # Paper 002: "affine transformations, rotation, box blur, and cropping", magnitudes not given.
    # Ours reuse its test-time-augmentation settings at its 320-px size: rotation 45 degrees,
    # a 10x10 box blur (10/320 of the size, applied to half the images) and random cropping with
    # padding 8 (8/320); the affine part is zoom ±10 % and shear ±10 degrees (our choice).
    "paper002": Augment(rotation=45.0, zoom=0.1, shear=10.0, crop_padding=8 / 320, blur=0.5, blur_kernel=10 / 320),
    # Light geometric jitter for smoke runs and phantoms.
    "light": Augment(rotation=10.0, shift=(0.05, 0.05), hflip=0.5),
}


def get_augmentation(name: str) -> Augment | None:
    """The pipeline registered under ``name`` (``None`` for "none")."""
    check_option("augment", name, sorted(AUGMENTATIONS), context="get_augmentation")
    return AUGMENTATIONS[name]
