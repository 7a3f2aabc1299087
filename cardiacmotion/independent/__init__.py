"""An independent test generator: "hearts we did not make", for evaluation only.

Written without reading or importing the training phantom (``cardiacmotion.phantom``): its own
anatomy (superquadric LV with regional wall thickness, RV crescent, papillary muscles,
trabeculae, atria, great vessels, fat), its own motion model and its own MR (bSSFP, slab
integration, coils, Rician noise) and echo (scatterers, PSF, envelope, log compression) image
formation. Never train or tune thresholds on it; a test fails if a training path imports it.
"""
from __future__ import annotations

from cardiacmotion.independent.case import GENERATOR, VERSION, IndependentCase
from cardiacmotion.independent.echo import generate_echo
from cardiacmotion.independent.mr import generate_mr

__all__ = ["GENERATOR", "VERSION", "IndependentCase", "generate_echo", "generate_mr"]
