"""Per-phase LV extent of a short-axis segmentation: which slices hold LV, from apex to mitral valve.

In systole the mitral annulus descends toward the apex (4-18 mm), so a basal slice that cuts the
LV at end-diastole cuts the left atrium or the outflow tract at end-systole, and toward the apex
the thickened walls close the cavity. Propagation (any method) carries the LV labels into those
slices. This training-free step runs after propagation and relabels them:

- above the valve plane the LV cavity and myocardium become background (0);
- a kept basal slice whose ring score is low (:data:`PARTIAL_RING`) cuts the LV on one side of the
  oblique valve plane only: its labels in the directions with no dark wall (open into the atrium or
  outflow tract) become background;
- the apex is fixed at its extent in the largest phase (a cavity that widens toward the apex has left
  the LV); beyond it no LV label remains; a small apical cavity that is dark in the image, or a tiny one
  (:data:`CLOSED_TINY`), has closed and becomes myocardium;
- an RV label much wider than every slice below it (spilled into the right atrium) is removed.

Basal evidence per phase and slice is the smaller of (a) the clinical basal rule measured in the
image: around the labelled cavity, the fraction of directions in which a myocardium-dark wall
surrounds the bright blood ("ring score"; the clinical rule counts a basal slice at >= 0.5), and (b)
the cavity's continuity with the slices below it (much smaller: outflow tract or partial slice; much
wider: atrium). A slice is kept at evidence >= :data:`KEEP_THRESHOLD` (0.4, below the clinical 0.5:
tuned on training-phantom seeds 100-111, whose truth counts every slice whose centre plane cuts the
cavity, with the Sunnybrook experts' slice ranges as a check). Modes:

- ``plane`` (default): the valve plane per phase is ``b(t) = b0 + d * s(t)`` (slice units), with
  ``s(t)`` the normalised contraction from the volume curve of the slices from the anchor to the
  apex, so the plane moves smoothly and descends in systole: ``b0`` from the phases near ED (closest
  to the seed), then ``d`` (0-20 mm) from all phases, each maximising the evidence of the kept slices.
- ``ring``: the same evidence per phase, walking from the seed toward the base and stopping at the
  first slice that fails it (no smoothing over the cycle).
- ``off``: nothing is relabelled (user limits still apply).

Seeded (user-drawn or corrected) frames are never changed.
User limits (``basal`` / ``apical``: one slice index for every phase or ``{phase: slice}``) override
the estimate at the phases they name.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from scipy import ndimage

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.function.slices import Limits, apex_direction, limit_at, lv_slices_per_phase

#: Extent modes, the default first.
EXTENT_MODES = ("plane", "ring", "off")

#: Ring score at which a basal slice counts as LV (the clinical ">= 50 % myocardium" rule).
RING_THRESHOLD = 0.5
#: Ring scores this close to the threshold make the basal decision "ambiguous" (warned).
AMBIGUOUS_MARGIN = 0.15
#: Largest systolic descent of the valve plane the fit considers (mm).
MAX_DESCENT_MM = 20.0
#: Cavity-area ratio above which a basal slice is "much wider" (evidence 1 at the first, 0 at the second).
WIDENING = (1.25, 1.75)
#: Phases with contraction up to this count as near end-diastole for the valve plane's ED position.
DIASTOLE = 0.3
#: Cavity-area ratio to the apical neighbour mapped to continuity evidence 0..1 (0.5 at the midpoint).
CONTINUITY = (0.45, 0.8)
#: Toward the apex the cavity narrows: one wider than this times its basal neighbour has left the LV.
APEX_WIDENING = 1.25
#: An apical cavity is closed when under this fraction of the phase's largest slice area ...
CLOSED_AREA = 0.3
#: ... and under this fraction of its pixels is blood-bright.
CLOSED_BRIGHT = 0.35
#: An apical cavity under this fraction of the phase's largest slice is closed whatever its brightness
#: (the Sunnybrook experts counted an apical slice with 4 % of the largest cavity, not one with 0.8 %).
CLOSED_TINY = 0.02
#: Basal evidence at which the valve-plane fit keeps a slice (the clinical rule is RING_THRESHOLD).
KEEP_THRESHOLD = 0.4
#: A kept basal slice whose ring score is under this is partial: its open directions are trimmed (0: never).
PARTIAL_RING = 0.75
_SECTORS = 36
_MIN_CAVITY_PX = 6

CAV, MYO, RV = 3, 2, 1
#: An RV more than this times wider than every slice below it has spilled into the right atrium.
RV_SPILL = 1.5


def _phase_levels(image: np.ndarray, labels: np.ndarray, t: int, ref_slices: list[int]) -> Optional[tuple[float, float]]:
    """``(threshold, band)`` at phase ``t``: the blood/myocardium intensity midpoint and the wall band
    width (pixels) from the reference slices' labels; None when they do not tell."""
    ref_c = np.concatenate([image[t, k][labels[t, k] == CAV] for k in ref_slices] + [np.zeros(0)])
    ref_m = np.concatenate([image[t, k][labels[t, k] == MYO] for k in ref_slices] + [np.zeros(0)])
    if ref_c.size < _MIN_CAVITY_PX or ref_m.size < _MIN_CAVITY_PX:
        return None
    blood, myo = float(np.median(ref_c)), float(np.median(ref_m))
    if blood <= myo:
        return None
    a_c = max(ref_c.size / len(ref_slices), 1.0)
    a_m = max(ref_m.size / len(ref_slices), 1.0)
    wall_px = np.sqrt((a_c + a_m) / np.pi) - np.sqrt(a_c / np.pi)
    return 0.5 * (blood + myo), float(np.clip(0.8 * wall_px, 2.0, 8.0))


def ring_scores(image: np.ndarray, labels: np.ndarray, ref_slices: list[int]) -> np.ndarray:
    """``[t, k]`` clinical basal-rule score in the image: the fraction of directions around the
    labelled cavity in which the wall band just outside it is myocardium-dark; NaN where no cavity.

    Blood and myocardium intensities per phase come from the reference (mid) slices' labels.
    """
    T, K = labels.shape[:2]
    out = np.full((T, K), np.nan)
    for t in range(T):
        levels = _phase_levels(image, labels, t, ref_slices)
        if levels is None:
            continue
        for k in range(K):
            cav = labels[t, k] == CAV
            if cav.sum() < _MIN_CAVITY_PX:
                continue
            dark = _dark_sectors(image[t, k], cav, *levels)
            out[t, k] = np.nan if dark is None else float(np.mean(dark[0][dark[1]]))
    return out


def _dark_sectors(img: np.ndarray, cav: np.ndarray, thr: float, band: float):
    """Per direction sector around the cavity centroid: whether the wall band just outside the
    cavity is mostly dark, which sectors have band pixels, and the centroid; None without a band."""
    rows = np.nonzero(cav.any(axis=1))[0]
    cols = np.nonzero(cav.any(axis=0))[0]
    pad = int(np.ceil(band)) + 2
    j0, j1 = max(rows[0] - pad, 0), min(rows[-1] + pad + 1, cav.shape[0])
    i0, i1 = max(cols[0] - pad, 0), min(cols[-1] + pad + 1, cav.shape[1])
    c = cav[j0:j1, i0:i1]
    im = ndimage.gaussian_filter(img[j0:j1, i0:i1].astype(np.float64), 0.7)
    dist = ndimage.distance_transform_edt(~c)
    ring = (dist >= 1.0) & (dist <= band)
    if not ring.any():
        return None
    jj, ii = np.nonzero(c)
    cj, ci = jj.mean() + j0, ii.mean() + i0
    rj, ri = np.nonzero(ring)
    sector = _sector_of(rj + j0 - cj, ri + i0 - ci)
    dark = im[rj, ri] < thr
    n = np.bincount(sector, minlength=_SECTORS)
    d = np.bincount(sector, weights=dark, minlength=_SECTORS)
    used = n > 0
    return (d / np.maximum(n, 1)) >= 0.5, used, (cj, ci)


def _sector_of(dj: np.ndarray, di: np.ndarray) -> np.ndarray:
    return ((np.arctan2(dj, di) + np.pi) / (2 * np.pi) * _SECTORS).astype(int) % _SECTORS


def trim_open_sectors(img: np.ndarray, lab: np.ndarray, thr: float, band: float) -> None:
    """A partial-volume basal slice cuts the LV on one side of the oblique valve plane only: the
    directions around its cavity with no dark wall open into the atrium or outflow tract, and the
    LV labels there (cavity and myocardium) become background (in place)."""
    cav = lab == CAV
    if cav.sum() < _MIN_CAVITY_PX:
        return
    dark = _dark_sectors(img, cav, thr, band)
    if dark is None:
        return
    closed, used, (cj, ci) = dark
    open_ = used & ~closed
    if not open_.any() or open_.all():
        return
    jj, ii = np.nonzero((lab == CAV) | (lab == MYO))
    drop = open_[_sector_of(jj - cj, ii - ci)]
    lab[jj[drop], ii[drop]] = 0


def cavity_brightness(image: np.ndarray, labels: np.ndarray, ref_slices: list[int]) -> np.ndarray:
    """``[t, k]`` fraction of labelled cavity pixels brighter than the blood/myocardium midpoint."""
    T, K = labels.shape[:2]
    out = np.full((T, K), np.nan)
    for t in range(T):
        ref_c = np.concatenate([image[t, k][labels[t, k] == CAV] for k in ref_slices] + [np.zeros(0)])
        ref_m = np.concatenate([image[t, k][labels[t, k] == MYO] for k in ref_slices] + [np.zeros(0)])
        if ref_c.size < _MIN_CAVITY_PX or ref_m.size < _MIN_CAVITY_PX:
            continue
        thr = 0.5 * (float(np.median(ref_c)) + float(np.median(ref_m)))
        for k in range(K):
            cav = labels[t, k] == CAV
            if cav.any():
                out[t, k] = float(np.mean(image[t, k][cav] > thr))
    return out


def _contraction(area: np.ndarray, below: list[int]) -> np.ndarray:
    """Normalised contraction per phase (0 at the largest, 1 at the smallest volume of ``below``)."""
    v = area[:, below].sum(axis=1).astype(np.float64)
    span = v.max() - v.min()
    return np.zeros_like(v) if span <= 0 else (v.max() - v) / span


def fit_plane(evidence: np.ndarray, s: np.ndarray, first: int, last: int, max_d: float,
              diastole: float = DIASTOLE) -> tuple[float, float]:
    """``(b0, d)`` of the valve plane ``b(t) = b0 + d * s(t)`` (base-first slice positions).

    ``evidence[t, u]``: basal evidence - threshold (0 where there is no cavity). The end-diastolic
    position ``b0`` comes from the phases near ED (``s <= diastole``), where the labels are closest
    to the seed; the descent ``d >= 0`` then from every phase. Each maximises the kept evidence.
    """
    u = np.arange(evidence.shape[1])[None, :]
    near = s <= diastole

    def score(b0: float, d: float, rows) -> float:
        keep = u >= (b0 + d * s[rows])[:, None]
        return float(evidence[rows][keep].sum())

    b0s = np.arange(first - 0.5, last + 0.51, 0.05)
    b0 = float(max(b0s, key=lambda b: (score(b, 0.0, near), -b)))
    ds = np.arange(0.0, max_d + 1e-9, 0.05)
    d = float(max(ds, key=lambda x: (score(b0, x, slice(None)), -x)))  # ties: the smaller descent
    return b0, d


def basal_evidence(ring_u: np.ndarray, area_u: np.ndarray, u0: int) -> np.ndarray:
    """``[t, u]`` (base-first) evidence that a slice basal to the anchor ``u0`` is LV, in [0, 1].

    The smaller of the image ring score and the cavity continuity: the LV is widest near its base,
    so a labelled cavity much smaller than the largest between it and the anchor has left the LV
    (outflow tract, atrium) or is a partial-volume slice the basal rule would not count, and one
    much wider has spilled into the atrium.
    """
    ev = ring_u.copy()
    # the reference: the largest cavity between the slice and the anchor (the LV is widest basally)
    ref = np.maximum.accumulate(area_u[:, u0::-1], axis=1)[:, ::-1]
    nxt = np.concatenate([ref[:, 1:], ref[:, -1:]], axis=1)
    nxt = np.concatenate([nxt, area_u[:, u0 + 1:]], axis=1)
    ratio = np.where(nxt > 0, area_u / np.maximum(nxt, 1.0), 1.0)
    lo, hi = CONTINUITY
    continuity = np.clip((ratio - lo) / (hi - lo), 0.0, 1.0)
    # ... and a cavity much wider than every slice below it has spilled into the atrium
    w_lo, w_hi = WIDENING
    continuity = np.fmin(continuity, np.clip((w_hi - ratio) / (w_hi - w_lo), 0.0, 1.0))
    ev[:, :u0] = np.fmin(ev[:, :u0], continuity[:, :u0])
    ev[:, u0:] = np.nan
    return ev


def _apex_walk(present: np.ndarray, bright: np.ndarray, area: np.ndarray, u0: int, K: int, widening: bool) -> int:
    """The most apical position from ``u0`` whose cavity is present and open, and (``widening``)
    not wider than its basal neighbour by more than :data:`APEX_WIDENING`.

    A cavity is closed when it is small (under :data:`CLOSED_AREA` of the phase's largest slice)
    and mostly dark in the image (under :data:`CLOSED_BRIGHT` of its pixels blood-bright).
    """
    largest = float(area.max()) if area.size else 0.0
    u = u0
    while u + 1 < K and present[u + 1]:
        if bright[u + 1] < CLOSED_BRIGHT and area[u + 1] < CLOSED_AREA * largest:
            break
        if area[u + 1] < CLOSED_TINY * largest:
            break
        if widening and area[u + 1] > APEX_WIDENING * area[u]:
            break
        u += 1
    return u


def _trim_rv_spill(lab: np.ndarray, order: np.ndarray, u0: int, seeded: np.ndarray) -> None:
    """Above the tricuspid plane the RV label spills into the right atrium: walking basally from the
    anchor, an RV much wider than every slice below it (:data:`RV_SPILL`) is removed, with the rest
    of the RV above it, at that phase (in place)."""
    rv = (lab == RV).sum(axis=(2, 3))[:, order].astype(np.float64)
    for t in range(lab.shape[0]):
        widest = rv[t, u0]
        for u in range(u0 - 1, -1, -1):
            if widest > 0 and rv[t, u] > RV_SPILL * widest:
                for v in range(u, -1, -1):
                    k = int(order[v])
                    if not seeded[t, k]:
                        lab[t, k][lab[t, k] == RV] = 0
                break
            widest = max(widest, rv[t, u])


def lv_extent(
    image: Cine,
    labels: np.ndarray,
    seeded: Optional[np.ndarray] = None,
    mode: str = "plane",
    basal: Limits = None,
    apical: Limits = None,
) -> tuple[np.ndarray, dict]:
    """Relabel the slices outside the LV per phase (module doc).

    Args:
        image: the MR cine the labels belong to (``[T, K, J, I]``).
        labels: propagated MR labels (1 RV, 2 LV myocardium, 3 LV cavity), same shape.
        seeded: ``[T, K]`` user-seeded frames (kept exactly as drawn; their slices anchor the fit).
        mode: 'plane', 'ring' or 'off'.
        basal / apical: user slice limits (most basal / most apical slice counted as LV).
    Returns:
        ``(labels, info)``; info has ``mode``, ``apex_direction``, ``lv_slices_per_phase``,
        ``basal_slice``/``apical_slice`` per phase, ``ring_score`` per phase and slice,
        ``valve_plane`` (b0, descent in slices and mm) and ``ambiguous`` [(phase, slice, score)].
    """
    if mode not in EXTENT_MODES:
        raise InputError(f"unknown extent mode {mode!r} (expected one of {', '.join(EXTENT_MODES)})")
    lab = np.array(labels, dtype=np.uint8, copy=True)
    T, K = lab.shape[:2]
    info: dict = {"mode": mode}
    if image.modality != "MR" or K < 3:
        info["mode"] = "not applicable"
        return lab, info
    area = (lab == CAV).sum(axis=(2, 3))
    if not area.any():
        return lab, info
    seeded = np.zeros((T, K), bool) if seeded is None else np.asarray(seeded, bool)
    step = apex_direction(image, area)
    info["apex_direction"] = step
    # anchor: the seeded slice (else the largest ED slice); base-first positions u
    if seeded.any():
        k0 = int(np.bincount(np.nonzero(seeded)[1], minlength=K).argmax())
    else:
        k0 = int(np.argmax(area[int(np.argmax(area.sum(axis=1)))]))
    order = np.arange(K) if step == 1 else np.arange(K)[::-1]  # order[u] = slice k
    pos = np.empty(K, int)
    pos[order] = np.arange(K)
    u0 = int(pos[k0])
    ref = [k for k in (k0, int(order[min(u0 + 1, K - 1)])) if area[:, k].any()]
    arr = np.asarray(image.array, dtype=np.float32)
    ring = ring_scores(arr, lab, ref) if mode != "off" else np.full((T, K), np.nan)
    info["ring_score"] = [[None if np.isnan(v) else round(float(v), 3) for v in row] for row in ring]
    base_u = np.zeros(T, int)  # most basal kept position per phase
    apex_u = np.full(T, K - 1)
    apex_cap = np.full(T, K - 1)
    if mode != "off":
        area_u = area[:, order].astype(np.float64)
        present = area_u >= _MIN_CAVITY_PX
        first = int(np.nonzero(present.any(axis=0))[0][0])
        below = [int(order[u]) for u in range(u0, K)]
        s = _contraction(area, below)
        evidence = basal_evidence(ring[:, order], area_u, u0)
        info["basal_evidence"] = [[None if np.isnan(v) else round(float(v), 3) for v in row[pos]] for row in evidence]
        if mode == "ring":
            for t in range(T):
                u = u0
                while u - 1 >= 0 and present[t, u - 1] and evidence[t, u - 1] >= KEEP_THRESHOLD:
                    u -= 1
                base_u[t] = u
        else:
            ev = np.where(present, np.nan_to_num(evidence - KEEP_THRESHOLD, nan=0.0), 0.0)
            spacing = float(np.linalg.norm(image.ijk_to_ras[:3, 2])) or 1.0
            b0, d = fit_plane(ev[:, :u0], s, first, u0, min(MAX_DESCENT_MM / spacing, 3.0))
            base_u = np.clip(np.ceil(b0 + d * s - 1e-9).astype(int), 0, u0)
            info["valve_plane"] = {"b0_slice_position": round(b0, 3), "descent_slices": round(d, 3),
                                   "descent_mm": round(d * spacing, 2), "contraction": np.round(s, 4).tolist()}
        # apex: fixed through the cycle (set at the largest phase), and a labelled cavity that is
        # dark in the image has closed
        bright = cavity_brightness(arr, lab, ref)[:, order]
        te = int(np.argmin(s))
        apex_ed = _apex_walk(present[te], bright[te], area_u[te], u0, K, True)
        apex_cap = np.full(T, apex_ed)
        for t in range(T):
            apex_u[t] = min(_apex_walk(present[t], bright[t], area_u[t], u0, K, False), apex_ed)
    ambiguous = []
    for t in range(T):
        b_user, a_user = limit_at(basal, t), limit_at(apical, t)
        if b_user is not None:
            if not 0 <= b_user < K:
                raise InputError(f"basal limit {b_user} is outside the stack (0..{K - 1})")
            base_u[t] = pos[b_user]
        if a_user is not None:
            if not 0 <= a_user < K:
                raise InputError(f"apical limit {a_user} is outside the stack (0..{K - 1})")
            apex_u[t] = pos[a_user]
        for u in range(K):
            k = int(order[u])
            if seeded[t, k]:
                continue
            if u < base_u[t]:
                lab[t, k][(lab[t, k] == CAV) | (lab[t, k] == MYO)] = 0
            elif u < u0 and b_user is None and mode != "off" and ring[t, k] < PARTIAL_RING:
                levels = _phase_levels(arr, lab, t, ref)
                if levels is not None:
                    trim_open_sectors(arr[t, k], lab[t, k], *levels)
            elif u > apex_u[t]:
                if a_user is not None or (mode != "off" and u > apex_cap[t]):
                    lab[t, k][(lab[t, k] == CAV) | (lab[t, k] == MYO)] = 0
                else:
                    lab[t, k][lab[t, k] == CAV] = MYO
        kb = int(order[base_u[t]])
        score = ring[t, kb]
        if b_user is None and mode != "off" and not np.isnan(score) and abs(score - RING_THRESHOLD) < AMBIGUOUS_MARGIN:
            ambiguous.append((t, kb, round(float(score), 3)))
    if mode != "off":
        _trim_rv_spill(lab, order, u0, seeded)
    info["basal_slice"] = [int(order[u]) for u in base_u]
    info["apical_slice"] = [int(order[u]) for u in apex_u]
    info["lv_slices_per_phase"] = lv_slices_per_phase(lab)
    info["ambiguous"] = ambiguous
    return lab, info
