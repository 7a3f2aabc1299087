"""Synthetic cine MR and echo with exact ground truth.

``make_mr_case(seed, **options)`` and ``make_echo_case(seed, view='A4C', **options)`` return a
:class:`PhantomCase` (image, labels on every phase, seed, landmarks, truth) that ``save(dir)`` writes.
"""
from cardiacmotion.phantom.case import CASE_FILES, PhantomCase
from cardiacmotion.phantom.motion import AHA_NAMES, CLASS_NAMES, TERRITORIES
from cardiacmotion.phantom.mr import make_mr_case

try:  # the echo phantom lands after the MR one
    from cardiacmotion.phantom.echo import make_echo_case
except ImportError:  # pragma: no cover
    pass

__all__ = ["PhantomCase", "CASE_FILES", "make_mr_case", "make_echo_case", "AHA_NAMES", "CLASS_NAMES", "TERRITORIES"]
