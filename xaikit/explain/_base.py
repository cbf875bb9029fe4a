"""The base class every explainer derives from: validation, eval mode and seeding in one place."""
from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from .._seed import seeded
from ._common import eval_mode, prepare

__all__ = ["BaseExplainer", "seeded_all"]

_N_OUTPUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def seeded_all(seed: int) -> Iterator[None]:
    """Seed torch's and numpy's global generators for the block, then restore the caller's states.

    captum draws GradientShap's path points and baselines from numpy's global generator and its
    noise from torch's; both must be fixed for a seeded explainer to repeat itself.
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        with seeded(seed):
            yield
    finally:
        np.random.set_state(state)


class BaseExplainer:
    """Subclasses set ``name`` (through the registry) and implement ``_attribute(model, x, target)``.

    ``attribute`` validates ``x`` and ``target``, runs in eval mode (restoring the model's mode),
    seeds torch's and numpy's RNGs from ``self.seed`` without touching the caller's global state, and returns a
    detached tensor shaped like ``x``.
    """

    name = "base"
    seed = 0
    stochastic = False

    def attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor | int) -> torch.Tensor:
        if not isinstance(model, nn.Module):
            raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        x, target = prepare(x, target)
        with eval_mode(model), seeded_all(self.seed):
            n_classes = self._n_outputs(model, x)
            if int(target.min()) < 0 or int(target.max()) >= n_classes:
                raise ValueError(f"target must be class indices in [0, {n_classes - 1}], got {target.tolist()}")
            out = self._attribute(model, x, target)
        if out.shape != x.shape:  # pragma: no cover - a bug in a subclass
            raise RuntimeError(f"{self.name} returned shape {tuple(out.shape)} for input {tuple(x.shape)}")
        return out.detach()

    def _n_outputs(self, model: nn.Module, x: torch.Tensor) -> int:
        """The model's number of outputs for inputs shaped like ``x``; one probe forward, then cached."""
        per_model = _N_OUTPUTS.setdefault(model, {})
        key = (tuple(x.shape[1:]), x.device.type)
        if key not in per_model:
            with torch.no_grad():
                per_model[key] = int(model(x[:1]).shape[1])
        return per_model[key]

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"
