"""Model registry: torchvision ResNets, DenseNet-121 and Inception-v3, paper 003's ResNet variant,
a small timm vision transformer (``vit_tiny_phantom``), a ProtoPNet-style prototype network and small nets
for smoke runs; attribution-safe copies; parameter-count tables.

Examples
--------
>>> from xaikit.models import create_model, attribution_safe
>>> model = attribution_safe(create_model("densenet121", in_channels=1, num_classes=5))
"""
from . import _paper003, _prototype, _small, _torchvision, _vit  # noqa: F401  (register the models)
from ._paper003 import Paper003Block, Paper003ResNet
from ._prototype import ProtoPNet
from ._registry import MODEL_INFO, MODELS, ModelInfo, count_parameters, create_model, load_weights, register_model
from ._safe import attribution_problems, attribution_safe
from ._table import parameter_table
from ._torchvision import INCEPTION_MIN_SIZE, DenseNet121, InceptionV3

__all__ = ["INCEPTION_MIN_SIZE", "MODELS", "MODEL_INFO", "DenseNet121", "InceptionV3", "ModelInfo", "Paper003Block",
           "Paper003ResNet", "ProtoPNet", "attribution_problems", "attribution_safe", "count_parameters",
           "create_model", "load_weights", "parameter_table", "register_model"]
