"""Keeping label maps anatomically sane after propagation.

One LV cavity (largest component, holes filled: papillary muscles count as cavity), the
myocardium as the largest component of the ring around it (holes between cavity and
myocardium become myocardium), the RV (MR) or left atrium (echo) as their largest component
and never overlapping the LV.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from cardiacmotion.cine import LV_CAVITY, LV_MYO

#: the third structure: RV cavity (MR), left atrium (echo)
_OTHER = {"MR": 1, "US": 3}


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected component of a 2D boolean mask (empty stays empty)."""
    if not mask.any():
        return mask
    lab, n = ndi.label(mask, structure=np.ones((3, 3), bool))
    if n <= 1:
        return mask
    sizes = np.bincount(lab.ravel())
    sizes[0] = 0
    return lab == int(np.argmax(sizes))


def clean_labels(label: np.ndarray, modality: str = "MR", min_pixels: int = 4) -> np.ndarray:
    """Return a cleaned copy of one 2D label map (values per ``modality``)."""
    cav_v, myo_v, oth_v = LV_CAVITY[modality], LV_MYO[modality], _OTHER[modality]
    out = np.zeros_like(label)
    cav = largest_component(label == cav_v)
    if cav.sum() < min_pixels:
        cav = np.zeros_like(cav)
    cav = ndi.binary_fill_holes(cav)
    myo = (label == myo_v) & ~cav
    if myo.any():
        myo = largest_component(myo)
        # holes of cavity + myocardium that are not cavity belong to the wall
        filled = ndi.binary_fill_holes(myo | cav)
        myo = filled & ~cav
    if myo.sum() < min_pixels:
        myo = np.zeros_like(myo)
    oth = largest_component((label == oth_v) & ~cav & ~myo)
    if oth.sum() < min_pixels:
        oth = np.zeros_like(oth)
    out[oth] = oth_v
    out[myo] = myo_v
    out[cav] = cav_v
    return out
