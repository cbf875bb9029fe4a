"""Study 2 (``02_informer_qc``): can saliency maps tell when a prediction is wrong? (paper 002, INFORMER)

``analysis`` computes the numbers, ``figures`` draws them, ``text`` writes every sentence of the
conclusion that depends on them; ``spec`` declares the parameters.
"""
from .spec import STUDY

__all__ = ["STUDY"]
