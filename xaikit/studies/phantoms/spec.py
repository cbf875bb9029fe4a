"""Specification of the phantom chapter."""
from .._spec import Param, Study, register_study

STUDY = register_study(Study(
    name="00_phantoms",
    title="The data: phantoms with pixel-exact ground truth",
    package="phantoms",
    params={
        "image_size": Param("int", min_value=32, max_value=1024, help="side of the gallery images (px)"),
        "n_per_class": Param("int", min_value=1, max_value=16, help="images per class in each gallery"),
    },
))
