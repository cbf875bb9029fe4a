"""Study 1 (``01_model_complexity``): does a more complex model explain itself better? (paper 003)

``analysis`` computes the numbers, ``figures`` draws them, ``text`` writes every sentence of the
conclusion that depends on them; ``spec`` declares the parameters.
"""
from .spec import STUDY

__all__ = ["STUDY"]
