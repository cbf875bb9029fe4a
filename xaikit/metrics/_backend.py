"""Row reductions on zero-copy numpy views for CPU tensors, in torch elsewhere.

On a CPU, torch's boolean reductions and comparisons run several times slower than numpy's
(measured on the 2-core runner: ``count_nonzero`` 7 ms vs ``bool.sum`` 88 ms for 256 x 224^2), so
the hot kernels are written once against this small namespace. Tensors go in and come out on
the same device; nothing is copied across devices.
"""
from __future__ import annotations

import numpy as np
import torch


class _NumpyRows:
    name = "numpy"

    @staticmethod
    def asarray(t: torch.Tensor):
        return t.detach().contiguous().numpy()

    @staticmethod
    def totensor(x, like: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x))

    count = staticmethod(lambda b: np.count_nonzero(b, axis=1))
    any = staticmethod(lambda b: b.any(axis=1))
    sum64 = staticmethod(lambda x: x.sum(axis=1, dtype=np.float64))
    amax = staticmethod(lambda x: x.max(axis=1, keepdims=True))
    argmax = staticmethod(lambda x: x.argmax(axis=1))
    where = staticmethod(np.where)
    take = staticmethod(lambda x, idx: np.take_along_axis(x, idx[:, None], axis=1)[:, 0])


class _TorchRows:
    name = "torch"

    @staticmethod
    def asarray(t: torch.Tensor):
        return t

    @staticmethod
    def totensor(x, like: torch.Tensor) -> torch.Tensor:
        return x

    count = staticmethod(lambda b: b.sum(dim=1))
    any = staticmethod(lambda b: b.any(dim=1))
    sum64 = staticmethod(lambda x: x.sum(dim=1, dtype=torch.float64))
    amax = staticmethod(lambda x: x.amax(dim=1, keepdim=True))
    argmax = staticmethod(lambda x: x.argmax(dim=1))  # first maximal index, as numpy
    where = staticmethod(torch.where)
    take = staticmethod(lambda x, idx: x.gather(1, idx[:, None])[:, 0])


def rows_backend(t: torch.Tensor, force: str | None = None):
    """The namespace for ``t``'s device (``force="torch"`` lets tests run the torch branch on CPU)."""
    if force == "torch" or t.device.type != "cpu":
        return _TorchRows
    return _NumpyRows


def row_count(b: torch.Tensor) -> torch.Tensor:
    """Number of True values in each row of a 2-D bool tensor, int64, on ``b``'s device."""
    xp = rows_backend(b)
    return xp.totensor(xp.count(xp.asarray(b)), b).to(device=b.device, dtype=torch.int64)
