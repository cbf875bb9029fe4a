"""Study 3 (``03_shap_transfer``): SHAP for debugging a classifier and testing cross-domain transfer (paper 004).

``analysis`` computes the numbers, ``figures`` draws them, ``text`` writes every sentence of the
conclusion that depends on them; ``spec`` declares the parameters.
"""
from .spec import STUDY

__all__ = ["STUDY"]
