"""MR volumes by disc summation: volume(t) = sum over slices of cavity area x slice spacing.

The slice spacing is the distance between slice centres taken from the geometry (the length of
the IJK->RAS ``k`` column), never from ``SliceThickness`` / ``SliceLocation`` tags, which are often
wrong for cine stacks (gaps, overlaps, vendor conventions).
"""
from __future__ import annotations

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError

#: Known label values per modality (DESIGN section 3): anything else is refused.
KNOWN_LABELS = {0, 1, 2, 3}

#: Myocardial density used for LV mass (g/ml).
MYOCARDIAL_DENSITY_G_ML = 1.05


def check_labels(seg: Cine) -> np.ndarray:
    """Return the label array as ``uint8`` after checking it holds only the known labels.

    Raises:
        InputError: non-integer values, or labels outside {0, 1, 2, 3}.
    """
    arr = np.asarray(seg.array)
    if arr.size == 0:
        raise InputError("the segmentation is empty (no voxels)")
    if not np.issubdtype(arr.dtype, np.integer) and arr.dtype != bool:
        if not np.all(np.isfinite(arr)) or not np.allclose(arr, np.round(arr)):
            raise InputError("the segmentation is not a label map (non-integer values)")
    if arr.min() >= 0 and arr.max() <= max(KNOWN_LABELS):
        return arr.astype(np.uint8, copy=False)  # fast path: no full unique over a large 4D map
    values = set(np.unique(arr).astype(np.int64).tolist())
    unknown = values - KNOWN_LABELS
    if unknown:
        raise InputError(
            f"the segmentation has unknown labels {sorted(unknown)} (expected 0-3, see the label convention)"
        )
    return arr.astype(np.uint8)


def slice_spacing_mm(seg: Cine) -> float:
    """Distance between slice centres (mm): ``|k column|`` of the IJK->RAS matrix."""
    return float(np.linalg.norm(seg.ijk_to_ras[:3, 2]))


def pixel_area_mm2(seg: Cine) -> float:
    """In-plane area of one pixel (mm^2): ``|i column x j column|`` (exact for sheared grids too)."""
    return float(np.linalg.norm(np.cross(seg.ijk_to_ras[:3, 0], seg.ijk_to_ras[:3, 1])))


def label_volumes_ml(seg: Cine, label: int, labels: np.ndarray | None = None) -> np.ndarray:
    """Volume (ml) of ``label`` per phase by disc summation over slices.

    Args:
        seg: the label cine ``[t, k, j, i]``.
        label: the label value to measure.
        labels: the already checked label array (skips re-checking when given).
    Returns:
        ``(t,)`` float64 volumes in ml. Empty slices contribute 0.
    """
    arr = check_labels(seg) if labels is None else labels
    # per-slice areas then a sum over slices: the literal disc summation
    area_per_slice = (arr == label).sum(axis=(2, 3)) * pixel_area_mm2(seg)  # [t, k] mm^2
    return area_per_slice.sum(axis=1) * slice_spacing_mm(seg) / 1000.0


def slice_areas_mm2(seg: Cine, label: int, labels: np.ndarray | None = None) -> np.ndarray:
    """``[t, k]`` cross-sectional area (mm^2) of ``label`` per phase and slice."""
    arr = check_labels(seg) if labels is None else labels
    return (arr == label).sum(axis=(2, 3)) * pixel_area_mm2(seg)


def lv_mass_g(myocardial_volume_ml: float) -> float:
    """LV mass (g) from the myocardial volume at ED (ml) at 1.05 g/ml."""
    return float(myocardial_volume_ml) * MYOCARDIAL_DENSITY_G_ML
