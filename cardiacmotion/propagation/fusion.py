"""Fusing two 4D segmentations of the same cine by averaging signed distances.

The learned memory propagation and the registration propagation fail in different places on
real short-axis stacks: memory follows the cavity and wall toward the apex, where the warps
lag behind the shrinking heart, while registration keeps a tighter epicardium on mid slices,
where memory widens the wall by about a pixel. Averaging each structure's signed distance map
(shape averaging, not voting) gives the contour halfway between the two; measured, the fused
result is better than both on the two Sunnybrook studies and between them on the phantoms
(numbers in the README). Nothing guarantees it on other data.

Structures are nested: the LV cavity inside the epicardial region (cavity + myocardium), the
third structure (RV in MR, left atrium in echo) on its own. A structure is kept in a frame only
where both segmentations have it (an empty map counts as far outside).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from cardiacmotion.cine import LV_CAVITY, LV_MYO
from cardiacmotion.errors import InputError
from cardiacmotion.propagation.topology import THIRD_STRUCTURE, clean_labels

#: signed distance given to every pixel of a frame where a structure is absent
_ABSENT = 1.0e3


def _signed_distance(mask: np.ndarray) -> np.ndarray:
    """Negative inside, positive outside, in pixels (``_ABSENT`` everywhere for an empty mask)."""
    if not mask.any():
        return np.full(mask.shape, _ABSENT, np.float32)
    inside = ndi.distance_transform_edt(mask)
    outside = ndi.distance_transform_edt(~mask)
    return (outside - inside).astype(np.float32)


def _box(a: np.ndarray, b: np.ndarray, pad: int = 3):
    """Slices of the padded bounding box of everything labelled in ``a`` or ``b`` (``None`` if empty)."""
    any_ = (a > 0) | (b > 0)
    if not any_.any():
        return None
    rows = np.where(any_.any(axis=1))[0]
    cols = np.where(any_.any(axis=0))[0]
    h, w = a.shape
    return (slice(max(rows[0] - pad, 0), min(rows[-1] + pad + 1, h)),
            slice(max(cols[0] - pad, 0), min(cols[-1] + pad + 1, w)))


def fuse_labels(a: np.ndarray, b: np.ndarray, modality: str = "MR", weight: float = 0.5) -> np.ndarray:
    """Fuse two 2D label maps of one frame.

    Args:
        a, b: label maps of the same shape (values per ``modality``: MR RV 1, myo 2, LV 3;
            echo LV 1, myo 2, LA 3).
        modality: 'MR' or 'US'.
        weight: weight of ``a`` (``1 - weight`` for ``b``); 0.5 is the halfway contour.

    Returns:
        The fused label map, cleaned (one cavity, one ring around it, one third structure).
    """
    if a.shape != b.shape:
        raise InputError(f"cannot fuse label maps of shapes {a.shape} and {b.shape}")
    if not 0.0 <= weight <= 1.0:
        raise InputError(f"fusion weight must be in [0, 1], got {weight}")
    out = np.zeros_like(a)
    box = _box(a, b)
    if box is None:
        return out
    a, b = a[box], b[box]
    cav_v, myo_v, oth_v = LV_CAVITY[modality], LV_MYO[modality], THIRD_STRUCTURE[modality]

    def fused(ma: np.ndarray, mb: np.ndarray) -> np.ndarray:
        if not ma.any() or not mb.any():
            return np.zeros(ma.shape, bool)
        return weight * _signed_distance(ma) + (1.0 - weight) * _signed_distance(mb) < 0

    oth = fused(a == oth_v, b == oth_v)
    wall = fused((a == cav_v) | (a == myo_v), (b == cav_v) | (b == myo_v))
    cav = fused(a == cav_v, b == cav_v)
    region = np.zeros_like(a)
    region[oth] = oth_v
    # a wall is only kept where both segmentations drew one (the seed may carry no myocardium)
    if (a == myo_v).any() and (b == myo_v).any():
        region[wall] = myo_v
    region[cav] = cav_v
    out[box] = clean_labels(region, modality)
    return out


def fuse_segmentations(a: np.ndarray, b: np.ndarray, modality: str = "MR", weight: float = 0.5) -> np.ndarray:
    """Fuse two label arrays ``[..., J, I]`` frame by frame (see :func:`fuse_labels`)."""
    if a.shape != b.shape:
        raise InputError(f"cannot fuse segmentations of shapes {a.shape} and {b.shape}")
    fa = a.reshape((-1,) + a.shape[-2:])
    fb = b.reshape((-1,) + b.shape[-2:])
    out = np.stack([fuse_labels(x, y, modality, weight) for x, y in zip(fa, fb)]) if fa.shape[0] else fa.copy()
    return out.reshape(a.shape).astype(a.dtype)
