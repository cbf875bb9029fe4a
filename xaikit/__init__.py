"""xaikit: explainable AI for medical imaging, a research compendium.

``import xaikit`` is light: it imports neither torch's attribution libraries
(captum, shap, zennit) nor matplotlib. Subpackages import what they need.
"""
__version__ = "0.1.0"
__all__ = ["__version__"]
