"""SHAP's Partition explainer with an Image masker, wrapped for PyTorch models on NCHW tensors.

shap's masker works on channel-last (H, W, C) arrays and its PyTorch example guesses the layout
from ``x.shape[1] == 3``, which is wrong for 1-channel images; here the permutation is explicit.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .._validation import check_int, check_option
from ._base import BaseExplainer
from ._common import eval_mode, prepare
from ._registry import register_explainer

__all__ = ["ShapPartition"]


@register_explainer("shap_partition")
class ShapPartition(BaseExplainer):
    """Owen values from shap's ``PartitionExplainer`` over an ``Image`` masker (Lundberg & Lee 2017).

    Parameters
    ----------
    masker : "blur" (paper 004: ``blur(20,20)`` at 299 px), "inpaint_telea" or "inpaint_ns".
    blur_kernel : side of the box-blur kernel in pixels (default: a fifteenth of the image side,
        paper 004's ratio).
    max_evals : model evaluations per image (paper 004: 1,000–10,000).
    batch_size : masked images per forward pass.
    output : explain "probability" (softmax, paper 004) or "logit".

    Values are returned shaped like ``x`` (N, C, H, W); shap's map is piecewise constant over its
    partition's rectangles, which makes many ties for rank-based metrics.
    """

    def __init__(self, masker: str = "blur", blur_kernel: int | None = None, max_evals: int = 500,
                 batch_size: int = 64, output: str = "probability") -> None:
        self.masker = check_option("masker", masker, ("blur", "inpaint_telea", "inpaint_ns"), context="shap_partition")
        if blur_kernel is not None:
            check_int("blur_kernel", blur_kernel, min_value=1, context="shap_partition")
        self.blur_kernel = blur_kernel
        self.max_evals = check_int("max_evals", max_evals, min_value=10, context="shap_partition")
        self.batch_size = check_int("batch_size", batch_size, min_value=1, context="shap_partition")
        self.output = check_option("output", output, ("probability", "logit"), context="shap_partition")
        self._maskers: dict = {}  # (mask_value, shape) -> shap masker; its partition tree costs ~0.2 s at 224²

    def _masker(self, mask_value: str, shape: tuple[int, int, int]):
        import shap

        key = (mask_value, shape)
        if key not in self._maskers:
            self._maskers[key] = shap.maskers.Image(mask_value, shape)
        return self._maskers[key]

    def _explainer(self, model: nn.Module, x: torch.Tensor):
        import shap

        n, c, h, w = x.shape
        device = x.device
        if self.masker == "blur":
            k = self.blur_kernel or max(1, round(min(h, w) / 15))
            mask_value = f"blur({k},{k})"
        else:
            mask_value = self.masker
        masker = self._masker(mask_value, (h, w, c))

        def f(batch_nhwc: np.ndarray) -> np.ndarray:
            t = torch.from_numpy(np.ascontiguousarray(batch_nhwc, dtype=np.float32)).permute(0, 3, 1, 2).to(device)
            with torch.no_grad():
                logits = model(t)
            out = torch.softmax(logits, dim=1) if self.output == "probability" else logits
            return out.float().cpu().numpy()

        return shap.Explainer(f, masker, algorithm="partition")

    def _values(self, model: nn.Module, x: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
        """(N, k, C, H, W) SHAP values of the output columns ``outputs`` (N, k), one shap call per image."""
        explainer = self._explainer(model, x)
        x_nhwc = x.detach().permute(0, 2, 3, 1).cpu().numpy()
        maps = []
        for i in range(len(x)):  # shap's ``outputs`` applies to every row of a call; they differ per image
            sv = explainer(x_nhwc[i:i + 1], max_evals=self.max_evals, batch_size=self.batch_size,
                           outputs=outputs[i].cpu().numpy(), silent=True)
            values = torch.from_numpy(np.asarray(sv.values[0], dtype=np.float32))  # (H, W, C, k)
            maps.append(values.permute(3, 2, 0, 1))
        return torch.stack(maps).to(x.device)

    def _attribute(self, model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self._values(model, x, target[:, None])[:, 0]

    def top_k(self, model: nn.Module, x: torch.Tensor, k: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
        """SHAP maps for each image's ``k`` most probable classes (paper 004's ``outputs=top_4``).

        One Partition run per image serves all k outputs (the model rows are shared).
        Returns ``(maps, classes)``: maps (N, k, C, H, W) and class indices (N, k), most probable first.
        """
        check_int("k", k, min_value=1, context="shap_partition.top_k")
        x, _ = prepare(x, 0)
        with eval_mode(model):
            with torch.no_grad():
                classes = model(x).argsort(dim=1, descending=True)[:, :k]
            maps = self._values(model, x.detach(), classes)
        return maps, classes
