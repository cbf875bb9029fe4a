"""Exceptions and warnings of the real-data loaders: each message says what is wrong and what to do."""
from __future__ import annotations

__all__ = ["CorruptImageError", "DataWarning", "DatasetCountWarning", "DatasetNotFoundError", "LabelValueError",
           "LayoutError", "MissingMaskError"]


class DatasetNotFoundError(FileNotFoundError):
    """``data_root`` is missing, unset, or holds none of the dataset; the message says where to get it."""


class LayoutError(FileNotFoundError):
    """An expected folder or file is missing; the message names it and lists what is there instead."""


class MissingMaskError(FileNotFoundError):
    """An image has no mask of the same name; the message names the image and the mask it looked for."""


class CorruptImageError(ValueError):
    """An image or mask cannot be decoded; the message names the file (``on_error="skip"`` drops it instead)."""


class LabelValueError(ValueError):
    """A label column holds values outside the allowed set; the message names the column and the values."""


class DataWarning(UserWarning):
    """Something in a real dataset looks unusual but loading can go on."""


class DatasetCountWarning(DataWarning):
    """The number of images differs from the published one (a partial copy or another version)."""
