"""Model registry: torchvision ResNets, DenseNet-121 and Inception-v3, paper 003's ResNet variant,
and small nets for smoke runs; attribution-safe copies; parameter-count tables.

Examples
--------
>>> from xaikit.models import create_model, attribution_safe
>>> model = attribution_safe(create_model("densenet121", in_channels=1, num_classes=5))
"""
from . import _paper003, _small, _torchvision  # noqa: F401  (register the models)
from ._paper003 import Paper003Block, Paper003ResNet
from ._registry import MODEL_INFO, MODELS, ModelInfo, count_parameters, create_model, load_weights, register_model
from ._safe import attribution_problems, attribution_safe
from ._table import PAPER003_TABLE1, parameter_table
from ._torchvision import INCEPTION_MIN_SIZE, DenseNet121, InceptionV3

__all__ = ["INCEPTION_MIN_SIZE", "MODELS", "MODEL_INFO", "PAPER003_TABLE1", "DenseNet121", "InceptionV3",
           "ModelInfo", "Paper003Block", "Paper003ResNet", "attribution_problems", "attribution_safe",
           "count_parameters", "create_model", "load_weights", "parameter_table", "register_model"]
