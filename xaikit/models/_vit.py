"""A small vision transformer for the phantoms, built from timm's ``VisionTransformer`` (no weights)."""
from __future__ import annotations

from torch import nn

from ._registry import register_model

__all__: list[str] = []

# Patch side 8 px: an 8 x 8 grid of tokens at the phantoms' 64 px (one lesion spans one to three patches).
VIT_PATCH = 8


@register_model("vit_tiny_phantom", min_input_size=VIT_PATCH)
def _vit_tiny_phantom(in_channels: int, num_classes: int) -> nn.Module:
    """A four-block vision transformer (timm; 8 px patches, width 64, 4 heads; about 0.14M parameters)."""
    from timm.models.vision_transformer import VisionTransformer  # timm is heavy: import on first build

    # dynamic_img_size/pad: any input size works (position embeddings resampled, borders zero-padded to a
    # multiple of the patch); 64 px is the reference grid. The class token feeds the head, as attention
    # rollout assumes.
    return VisionTransformer(img_size=64, patch_size=VIT_PATCH, in_chans=in_channels, num_classes=num_classes,
                             embed_dim=64, depth=4, num_heads=4, mlp_ratio=2.0, class_token=True,
                             global_pool="token", dynamic_img_size=True, dynamic_img_pad=True)
