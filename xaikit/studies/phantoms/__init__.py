"""The phantom chapter (``00_phantoms``): the datasets every study runs on, with their ground truth."""
from .spec import STUDY

__all__ = ["STUDY"]
