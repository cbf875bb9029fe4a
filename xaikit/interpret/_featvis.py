"""Feature visualisation by class-logit maximisation (Erhan et al. 2009; Olah et al. 2017), and its score
against the phantom's mean lesion template."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .._validation import check_float, check_int

__all__ = ["class_template", "feature_visualisation", "template_correlation"]


def _fourier_scale(h: int, w: int, decay: float, device, dtype) -> torch.Tensor:
    """1 / f**decay per rfft2 frequency (the DC term gets scale 1): the decorrelating parametrisation."""
    fy = torch.fft.fftfreq(h, device=device, dtype=dtype)[:, None]
    fx = torch.fft.rfftfreq(w, device=device, dtype=dtype)[None, :]
    f = torch.sqrt(fx ** 2 + fy ** 2)
    f[0, 0] = 1.0 / max(h, w)
    return (f * max(h, w)).pow(-decay)


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, int(round(3 * sigma)))
    t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    k = torch.exp(-t ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    c = x.shape[1]
    pad = nn.functional.pad(x, (radius, radius, radius, radius), mode="replicate")
    pad = nn.functional.conv2d(pad, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return nn.functional.conv2d(pad, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def feature_visualisation(model: nn.Module, target: torch.Tensor | list[int] | int, shape: tuple[int, int, int], *,
                          n_steps: int = 256, lr: float = 0.05, jitter: int = 2, blur_sigma: float = 0.5,
                          blur_every: int = 4, decorrelate: bool = True, decay: float = 1.0, l2: float = 1e-3,
                          base: float | torch.Tensor = 0.0, seed: int = 0) -> torch.Tensor:
    """Images that maximise class logits, with the usual regularisers.

    Maximises ``f_t(base + v) - l2 * mean(v**2)`` over ``v`` by Adam, one image per target (batched). Regularisers:
    random translation by up to ``jitter`` pixels each step (Mordvintsev et al. 2015); a Gaussian blur of
    ``v`` of std ``blur_sigma`` every ``blur_every`` steps (Yosinski et al. 2015); with ``decorrelate``, ``v``
    is parametrised by its Fourier coefficients scaled by ``1 / f**decay`` so that steps favour low
    frequencies (Olah et al. 2017).

    Parameters
    ----------
    model : the model (run in eval mode; its mode is restored).
    target : the class per image, an int or a sequence/tensor of ints.
    shape : ``(C, H, W)`` of an input image.
    n_steps, lr : Adam schedule.
    jitter : largest shift in pixels (0: none).
    blur_sigma, blur_every : blur regulariser (``blur_sigma=0``: none).
    decorrelate, decay : Fourier parametrisation and its spectrum exponent.
    l2 : weight of the L2 penalty on ``v``.
    base : the image the change ``v`` is added to: a number (e.g. the training mean intensity) or a
        (C, H, W) tensor (e.g. the mean healthy image, so that ``v`` is what the class adds to a typical case).
    seed : seeds the initial ``v`` (std 0.01) and the jitter.

    Returns
    -------
    Tensor (len(target), C, H, W): the change ``v`` (the visualisation), detached.

    Examples
    --------
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))
    >>> feature_visualisation(model, [0, 1], (1, 4, 4), n_steps=3).shape
    torch.Size([2, 1, 4, 4])
    """
    ctx = "feature_visualisation"
    check_int("n_steps", n_steps, min_value=1, context=ctx)
    check_float("lr", lr, min_value=1e-12, context=ctx)
    check_int("jitter", jitter, min_value=0, context=ctx)
    check_float("blur_sigma", blur_sigma, min_value=0.0, context=ctx)
    check_int("blur_every", blur_every, min_value=1, context=ctx)
    check_float("decay", decay, min_value=0.0, context=ctx)
    check_float("l2", l2, min_value=0.0, context=ctx)
    check_int("seed", seed, min_value=0, context=ctx)
    if (not isinstance(shape, (tuple, list)) or len(shape) != 3
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape)):
        raise ValueError(f"shape of {ctx} must be (C, H, W) of positive ints, got {shape!r}")
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    target = torch.as_tensor(target, device=device).long().reshape(-1)
    c, h, w = shape
    if isinstance(base, torch.Tensor):
        if base.shape != (c, h, w) or not base.is_floating_point() or not torch.isfinite(base).all():
            raise ValueError(f"base of {ctx} must be a number or a finite float tensor of shape {(c, h, w)}, "
                             f"got {tuple(base.shape)}")
        base = base.detach().to(device)
    else:
        base = check_float("base", base, context=ctx)
    with torch.no_grad():
        n_out = model(torch.zeros(1, c, h, w, device=device)).shape[1]
    if int(target.min()) < 0 or int(target.max()) >= n_out:
        raise ValueError(f"target must be class indices in [0, {n_out - 1}], got {target.tolist()}")
    gen = torch.Generator(device=device).manual_seed(seed)
    n = len(target)
    scale = _fourier_scale(h, w, decay, device, torch.float32) if decorrelate else None
    if decorrelate:
        init = torch.randn(n, c, h, w, generator=gen, device=device) * 0.01
        z = (torch.fft.rfft2(init) / scale).detach().requires_grad_(True)
    else:
        z = (torch.randn(n, c, h, w, generator=gen, device=device) * 0.01).requires_grad_(True)

    def image() -> torch.Tensor:
        return torch.fft.irfft2(z * scale, s=(h, w)) if decorrelate else z

    opt = torch.optim.Adam([z], lr=lr)
    was_training = model.training
    model.eval()
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        for step in range(n_steps):
            v = image()
            if jitter:
                dy, dx = torch.randint(-jitter, jitter + 1, (2,), generator=gen, device=device).tolist()
                v_in = torch.roll(v, shifts=(dy, dx), dims=(-2, -1))
            else:
                v_in = v
            logit = model(base + v_in).gather(1, target[:, None])[:, 0]
            loss = (-logit + l2 * v.pow(2).flatten(1).mean(1)).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if blur_sigma > 0 and (step + 1) % blur_every == 0:
                with torch.no_grad():
                    blurred = _gaussian_blur(image(), blur_sigma)
                    z.copy_(torch.fft.rfft2(blurred) / scale if decorrelate else blurred)
    finally:
        for p in params:
            p.requires_grad_(True)
        model.train(was_training)
    return image().detach()


def class_template(images: np.ndarray, twins: np.ndarray, labels: np.ndarray, cls: int) -> np.ndarray:
    """The class's mean lesion template: the mean of ``image - twin`` over the images of class ``cls``.

    Parameters
    ----------
    images, twins : (N, C, H, W) arrays, ``twins`` the same images without lesions (``lesion_free=True``).
    labels : (N,) class per image.
    cls : the class.

    Returns
    -------
    ndarray (C, H, W).
    """
    images, twins, labels = np.asarray(images), np.asarray(twins), np.asarray(labels)
    if images.shape != twins.shape or images.ndim != 4 or labels.shape != (len(images),):
        raise ValueError(f"images and twins must share a shape (N, C, H, W) and labels be (N,), got "
                         f"{images.shape}, {twins.shape}, {labels.shape}")
    sel = labels == cls
    if not sel.any():
        raise ValueError(f"cls {cls!r} has no image in labels")
    return (images[sel] - twins[sel]).mean(0)


def template_correlation(maps, template) -> np.ndarray:
    """Pearson correlation of each map (N, ...) with one template (...), flattened; NaN for a constant map."""
    maps = np.asarray(maps, dtype=float)
    template = np.asarray(template, dtype=float)
    if maps.shape[1:] != template.shape:
        raise ValueError(f"template must have the shape of one map {maps.shape[1:]}, got {template.shape}")
    a = maps.reshape(len(maps), -1)
    a = a - a.mean(1, keepdims=True)
    t = template.ravel() - template.mean()
    denom = np.linalg.norm(a, axis=1) * np.linalg.norm(t)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, a @ t / denom, np.nan)
