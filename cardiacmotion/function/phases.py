"""End-diastole / end-systole and the handling of phases without a segmentation.

Rule for a missing phase (no LV cavity at all in that phase, e.g. a propagation that lost the
heart, or contours drawn only at ED and ES): its volume is interpolated linearly from the nearest
segmented phases around the cycle (cine cycles wrap around), a warning names the phases, and such a
phase is never chosen as ED or ES. At least two segmented phases are required.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from cardiacmotion.errors import InputError


def fill_missing(volumes: np.ndarray, present: np.ndarray, periodic: bool = True) -> np.ndarray:
    """Interpolate ``volumes`` at phases where ``present`` is False from the present ones.

    Args:
        volumes: ``(t,)`` per-phase volumes.
        present: ``(t,)`` bool, phases that carry a segmentation.
        periodic: interpolate around the cycle (the last phase neighbours the first); otherwise
            hold the end values.
    """
    v = np.asarray(volumes, dtype=np.float64).copy()
    present = np.asarray(present, dtype=bool)
    if present.all() or not present.any():
        return v
    idx = np.arange(v.size, dtype=np.float64)
    known = np.nonzero(present)[0]
    if periodic:
        v[~present] = np.interp(idx[~present], known, v[known], period=v.size)
    else:
        v[~present] = np.interp(idx[~present], known, v[known])
    return v


def ed_es_phases(
    lv_volumes: np.ndarray,
    present: np.ndarray,
    ed_phase: Optional[int] = None,
    es_phase: Optional[int] = None,
) -> tuple[int, int, str]:
    """ED = phase of the largest LV volume, ES = smallest, over the segmented phases.

    Args:
        lv_volumes: ``(t,)`` LV cavity volumes.
        present: ``(t,)`` phases that carry a segmentation.
        ed_phase / es_phase: phases from the caller (e.g. DICOM trigger times); used as given.
    Returns:
        ``(ed, es, how)`` with ``how`` a short phrase for the ``method`` string.
    Raises:
        InputError: fewer than 2 phases, fewer than 2 segmented phases, or a given phase out of range.
    """
    v = np.asarray(lv_volumes, dtype=np.float64)
    t = v.size
    if t < 2:
        raise InputError("needs at least 2 phases for ED/ES (the segmentation has 1)")
    present = np.asarray(present, dtype=bool)
    if present.sum() < 2:
        raise InputError(f"needs at least 2 segmented phases for ED/ES (LV cavity found in {int(present.sum())} of {t})")
    for name, p in (("ED", ed_phase), ("ES", es_phase)):
        if p is not None and not 0 <= int(p) < t:
            raise InputError(f"{name} phase {p} is out of range (0-{t - 1})")
    masked = np.where(present, v, np.nan)
    given = []
    if ed_phase is None:
        ed = int(np.nanargmax(masked))
    else:
        ed = int(ed_phase)
        given.append("ED")
    if es_phase is None:
        es = int(np.nanargmin(masked))
    else:
        es = int(es_phase)
        given.append("ES")
    if not given:
        how = "ED/ES = largest/smallest LV volume"
    elif len(given) == 2:
        how = "ED/ES given by the caller (trigger times)"
    else:
        other = "ES = smallest" if given == ["ED"] else "ED = largest"
        how = f"{given[0]} given by the caller (trigger times), {other} LV volume"
    return ed, es, how


def missing_phase_warning(present: np.ndarray, what: str = "LV cavity") -> Optional[str]:
    """A one-line warning naming the phases without a segmentation, or None."""
    missing = np.nonzero(~np.asarray(present, dtype=bool))[0]
    if missing.size == 0:
        return None
    listed = ", ".join(str(int(p)) for p in missing[:12]) + (", ..." if missing.size > 12 else "")
    return f"no {what} in phase(s) {listed}: volume interpolated from the neighbouring phases"
