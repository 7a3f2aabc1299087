"""Which short-axis slices count as LV, per phase: the user's basal/apical limits, the reported
slice lists, and the clinical basal rule measured on the labels (for the "ambiguous basal slice"
warning).

Pure numpy (no torch): shared by ``function`` and the propagation's extent step.
"""
from __future__ import annotations

from typing import Mapping, Optional, Union

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError

#: A slice limit: one slice index for every phase, or ``{phase: slice}``.
Limits = Union[None, int, Mapping[int, int]]

CAV, MYO = 3, 2
#: A basal slice counts as LV when at least this fraction of its cavity border is myocardium.
BASAL_RULE = 0.5
#: Scores within this margin of the rule are reported as ambiguous.
AMBIGUOUS_MARGIN = 0.15

#: Apex direction of a short-axis stack in RAS (left, anterior, inferior), as in the propagation order.
_APEX_RAS = np.array([-1.0, 1.0, -1.0]) / np.sqrt(3.0)


def parse_limits(text: Optional[str], phases: Optional[int] = None) -> Limits:
    """``'K'`` (every phase) or ``'PHASE:K,PHASE:K'`` -> an int or ``{phase: slice}``.

    Raises:
        InputError: malformed text, negative values or a phase outside ``[0, phases)``.
    """
    if text is None or str(text).strip() == "":
        return None
    s = str(text).strip()
    try:
        if ":" not in s:
            v = int(s)
            if v < 0:
                raise ValueError
            return v
        out: dict[int, int] = {}
        for part in s.split(","):
            ph, k = part.split(":")
            ph_i, k_i = int(ph), int(k)
            if ph_i < 0 or k_i < 0:
                raise ValueError
            out[ph_i] = k_i
    except ValueError:
        raise InputError(f"slice limit {text!r} is not 'K' or 'PHASE:K,PHASE:K,...' with non-negative integers") from None
    if phases is not None and any(p >= phases for p in out):
        raise InputError(f"slice limit {text!r} names a phase outside 0..{phases - 1}")
    return out


def limit_at(limits: Limits, phase: int) -> Optional[int]:
    """The limit at ``phase`` (None when the user gave none there)."""
    if limits is None:
        return None
    if isinstance(limits, (int, np.integer)):
        return int(limits)
    return limits.get(phase)


def geometric_apex_step(cine: Cine) -> int:
    """+1 when the apex lies toward increasing slice index by the geometry, -1 otherwise."""
    kdir = cine.ijk_to_ras[:3, 2]
    n = float(np.linalg.norm(kdir))
    return 1 if n == 0 or float(np.dot(kdir / n, _APEX_RAS)) >= 0 else -1


def apex_direction(cine: Cine, cavity_area: np.ndarray) -> int:
    """+1 when the apex lies toward increasing slice index, -1 otherwise.

    From the cavity at its largest phase: the LV is widest near the base, so the area-weighted
    centre of the labelled slices lies on the basal side of their middle; when it does not tell
    (under a quarter slice), from the geometry (apex left, anterior, inferior).
    """
    ed = int(np.argmax(cavity_area.sum(axis=1)))
    row = np.asarray(cavity_area[ed], dtype=np.float64)
    present = np.nonzero(row > 0)[0]
    if present.size >= 3:
        centre = float(np.dot(np.arange(row.size), row) / row.sum())
        middle = 0.5 * (present[0] + present[-1])
        if abs(centre - middle) >= 0.25:
            return 1 if centre < middle else -1
    return geometric_apex_step(cine)


def apply_limits(cine: Cine, labels: np.ndarray, basal: Limits = None, apical: Limits = None) -> np.ndarray:
    """Labels with the LV (cavity and myocardium) removed beyond the user's limits per phase.

    ``basal``: the most basal slice counted as LV; ``apical``: the most apical. The RV is kept.
    Raises:
        InputError: a limit outside the stack, or basal beyond apical.
    """
    if basal is None and apical is None:
        return labels
    lab = np.array(labels, dtype=np.uint8, copy=True)
    T, K = lab.shape[:2]
    step = apex_direction(cine, (lab == CAV).sum(axis=(2, 3)))
    pos = np.arange(K) if step == 1 else np.arange(K)[::-1]  # pos[k]: base-first position
    for t in range(T):
        b, a = limit_at(basal, t), limit_at(apical, t)
        for name, v in (("basal", b), ("apical", a)):
            if v is not None and not 0 <= v < K:
                raise InputError(f"{name} limit {v} is outside the stack (slices 0..{K - 1})")
        if b is not None and a is not None and pos[b] > pos[a]:
            raise InputError(f"at phase {t} the basal limit {b} lies beyond the apical limit {a}")
        lo = pos[b] if b is not None else 0
        hi = pos[a] if a is not None else K - 1
        drop = (pos < lo) | (pos > hi)
        sub = lab[t, drop]
        sub[(sub == CAV) | (sub == MYO)] = 0
        lab[t, drop] = sub
    return lab


def lv_slices_per_phase(labels: np.ndarray) -> list[list[int]]:
    """Per phase, the slices holding LV cavity (label 3)."""
    has = (np.asarray(labels) == CAV).any(axis=(2, 3))
    return [[int(k) for k in np.nonzero(row)[0]] for row in has]


def myocardial_border_fraction(slice_labels: np.ndarray) -> Optional[float]:
    """The clinical basal rule on labels: fraction of the cavity's outer border that is myocardium."""
    cav = slice_labels == CAV
    if not cav.any():
        return None
    grown = cav.copy()
    grown[1:] |= cav[:-1]
    grown[:-1] |= cav[1:]
    grown[:, 1:] |= cav[:, :-1]
    grown[:, :-1] |= cav[:, 1:]
    border = grown & ~cav
    if not border.any():
        return None
    return float(np.mean(slice_labels[border] == MYO))


def basal_slice_report(cine: Cine, labels: np.ndarray, phases: list[int]) -> tuple[list[Optional[int]], list[str]]:
    """The most basal LV slice at each phase and warnings where it is ambiguous by the basal rule."""
    area = (labels == CAV).sum(axis=(2, 3))
    step = apex_direction(cine, area)
    basal: list[Optional[int]] = []
    for row in area:
        ks = np.nonzero(row)[0]
        basal.append(None if ks.size == 0 else int(ks[0] if step == 1 else ks[-1]))
    warnings = []
    for name, t in zip(("ED", "ES"), phases):
        k = basal[t]
        if k is None:
            continue
        f = myocardial_border_fraction(labels[t, k])
        if f is not None and abs(f - BASAL_RULE) < AMBIGUOUS_MARGIN:
            warnings.append(
                f"the basal LV slice {k} at {name} (phase {t}) is ambiguous: myocardium surrounds "
                f"{100 * f:.0f} % of its cavity (the basal rule counts it at >= 50 %); check it or set "
                "--basal-limit"
            )
    return basal, warnings
