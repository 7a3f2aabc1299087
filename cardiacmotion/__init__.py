"""CardiacMotion engine: 4D cardiac cine segmentation, function and wall-motion scoring.

Pure Python (numpy, torch, SimpleITK, pydicom). Never imports ``slicer`` or ``qt``.
"""
from cardiacmotion.cine import Cine
from cardiacmotion.errors import CardiacMotionError, InputError

__version__ = "0.1.0"
__all__ = ["Cine", "CardiacMotionError", "InputError", "__version__"]
