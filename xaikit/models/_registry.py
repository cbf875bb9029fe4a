"""Model registry: ``create_model(name, in_channels, num_classes, weights=None)``.

Factories register under a string name with :func:`register_model`; ``MODELS`` maps names
to factories ``f(in_channels, num_classes) -> nn.Module`` and ``MODEL_INFO`` to what a caller
needs to know before building one (the smallest input it accepts, a one-line description).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .._validation import check_int, check_option

__all__ = ["MODELS", "MODEL_INFO", "ModelInfo", "create_model", "register_model", "count_parameters",
           "load_weights"]

Factory = Callable[[int, int], nn.Module]
MODELS: dict[str, Factory] = {}


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about a model without building it.

    Attributes
    ----------
    min_input_size : smallest height and width (pixels) the forward pass accepts.
    description : one line for tables and error messages.
    """

    min_input_size: int = 1
    description: str = ""


MODEL_INFO: dict[str, ModelInfo] = {}


def register_model(name: str, *, min_input_size: int = 1, description: str = "") -> Callable[[Factory], Factory]:
    """Decorator: register a factory ``f(in_channels, num_classes) -> nn.Module`` under ``name``.

    Examples
    --------
    >>> from torch import nn
    >>> @register_model("_doc_linear", description="a linear model on 4x4 images")
    ... def _linear(in_channels, num_classes):
    ...     return nn.Sequential(nn.Flatten(), nn.Linear(in_channels * 16, num_classes))
    >>> create_model("_doc_linear", 1, 3)(torch.zeros(2, 1, 4, 4)).shape
    torch.Size([2, 3])
    >>> _ = MODELS.pop("_doc_linear"), MODEL_INFO.pop("_doc_linear")
    """
    def deco(fn: Factory) -> Factory:
        if name in MODELS:
            raise ValueError(f"model {name!r} is already registered")
        MODELS[name] = fn
        MODEL_INFO[name] = ModelInfo(min_input_size, description or (fn.__doc__ or "").strip().split("\n")[0])
        return fn
    return deco


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (trainable or not, as papers' tables count them).

    Examples
    --------
    >>> count_parameters(nn.Linear(3, 2))
    8
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def load_weights(model: nn.Module, weights: str | Path, *, name: str = "model") -> nn.Module:
    """Load a local ``state_dict`` file into ``model`` (in place) and return it.

    Only a local file is read, with ``torch.load(..., weights_only=True)``; nothing is downloaded.
    A file that is not a state_dict (empty, unreadable, not a dict, non-string keys, non-tensor
    values) raises ``ValueError`` naming the file and what is wrong; missing or unexpected keys and
    mismatched shapes raise ``ValueError`` listing them. The model is changed only when every check
    passes.

    Raises
    ------
    FileNotFoundError
        When ``weights`` is not a file.
    ValueError
        When the file is not a state_dict that fits ``model``.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "w.pt")
    ...     torch.save(nn.Linear(3, 2).state_dict(), path)
    ...     load_weights(nn.Linear(3, 2), path).out_features
    2
    """
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(f"weights file {str(path)!r} does not exist (nothing is downloaded)")
    if path.stat().st_size == 0:
        raise ValueError(f"weights {str(path)!r} is an empty (0-byte) file, not a state_dict")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001  (pickle errors, damaged zip files, ...)
        first = (str(err).splitlines() or [""])[0] or type(err).__name__
        raise ValueError(f"weights {str(path)!r} cannot be read as a plain state_dict with "
                         f"torch.load(weights_only=True): {first}") from err
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"weights {str(path)!r} must hold a state_dict (a dict of tensors), "
                         f"got {type(state).__name__}")
    bad_keys = [k for k in state if not isinstance(k, str)]
    if bad_keys:
        raise ValueError(f"weights {str(path)!r} must hold a state_dict with str keys; {len(bad_keys)} key(s) "
                         f"are not, e.g. {bad_keys[0]!r} ({type(bad_keys[0]).__name__})")
    bad_values = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad_values:
        k = bad_values[0]
        raise ValueError(f"weights {str(path)!r} must hold a state_dict of tensors; {len(bad_values)} value(s) "
                         f"are not, e.g. {k!r} is a {type(state[k]).__name__}")
    own = model.state_dict()
    problems = [f"{k}: file {tuple(v.shape)} vs model {tuple(own[k].shape)}"
                for k, v in state.items() if k in own and tuple(v.shape) != tuple(own[k].shape)]
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if problems or missing or unexpected:
        parts = []
        if problems:
            parts.append(f"{len(problems)} shape mismatch(es): " + "; ".join(problems[:5]))
        if missing:
            parts.append(f"{len(missing)} missing key(s): " + ", ".join(missing[:5]))
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s): " + ", ".join(unexpected[:5]))
        raise ValueError(f"weights {str(path)!r} do not fit {name}: " + " | ".join(parts))
    model.load_state_dict(state)
    return model


def create_model(name: str, in_channels: int = 1, num_classes: int = 2,
                 weights: str | Path | None = None) -> nn.Module:
    """Build a registered model, optionally loading a local state_dict.

    Initialisation draws from torch's global generator: wrap the call in
    ``xaikit._seed.seeded(seed)`` for a reproducible model.

    Parameters
    ----------
    name : a key of ``MODELS`` (an unknown name raises ``ValueError`` with a suggestion).
    in_channels : input channels; torchvision models get their first convolution rebuilt for it.
    num_classes : outputs (logits) of the head.
    weights : path to a file saved with ``torch.save(model.state_dict())``. Nothing is downloaded.

    Examples
    --------
    >>> m = create_model("resnet18", in_channels=1, num_classes=2)
    >>> m.conv1.in_channels
    1
    """
    check_option("name", name, sorted(MODELS), context="create_model")
    check_int("in_channels", in_channels, min_value=1, context="create_model")
    check_int("num_classes", num_classes, min_value=1, context="create_model")
    model = MODELS[name](in_channels, num_classes)
    if weights is not None:
        load_weights(model, weights, name=f"{name}({in_channels}, {num_classes})")
    return model
