"""Study 4 (``04_methods_atlas``): which explanation method should I trust for my model? (issue 21)

``analysis`` computes every criterion as a tidy frame and the pass/fail rules, ``figures`` draws the heat
table, rank plot, quality-vs-runtime plot and gallery, ``text`` writes the sentences; ``spec`` declares
the parameters.
"""
from .spec import STUDY

__all__ = ["STUDY"]
