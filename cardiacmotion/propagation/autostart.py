"""Starting a short-axis cine MR without any user input: find the LV, pick ED/ES, build the seed.

The left ventricle is the bright, round blood pool that moves over the cardiac cycle and is
surrounded by a darker myocardial ring. :func:`find_lv` looks for it on the middle slices of the
stack (bright components of the temporal-mean image, scored by roundness, solidity, size and the
temporal variance around them, and by their agreement between neighbouring slices).
:func:`estimate_ed_es` takes ED as the phase nearest the R wave by trigger time, cross-checked with
the LV blood-pool area of the mid slice (the largest area among the phases near the R wave), and ES
as the phase of the smallest area. :func:`auto_seed` builds the ED seed on the mid-ventricular
slice (LV cavity with papillary muscles, myocardium, RV) and the three MR landmarks, with a
confidence in [0, 1]. Nothing here is learned: it runs on any scanner's cine without weights.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from scipy import ndimage as ndi

from cardiacmotion.cine import Cine, LV_CAVITY, LV_MYO, RV_CAVITY
from cardiacmotion.errors import InputError


@dataclass
class LVLocation:
    """Where the LV is: the seed slice, its centre (i, j) and the slices it was seen on."""

    slice: int
    centre_ij: np.ndarray
    slices: list
    confidence: float
    notes: list = field(default_factory=list)


def _norm(a: np.ndarray) -> np.ndarray:
    hi = float(np.percentile(a, 99.5))
    return np.clip(a / max(hi, 1e-6), 0, 1.5).astype(np.float32)


def _otsu(values: np.ndarray) -> float:
    hist, edges = np.histogram(values, bins=128)
    p = hist.astype(np.float64) / max(hist.sum(), 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    w0 = np.cumsum(p)
    m0 = np.cumsum(p * centres)
    mt = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mt * w0 - m0) ** 2 / (w0 * (1 - w0))
    between[~np.isfinite(between)] = 0
    return float(centres[int(np.argmax(between))])


def _roundness(mask: np.ndarray) -> tuple[float, float]:
    """(solidity, minor/major axis ratio) of a 2D mask."""
    jj, ii = np.nonzero(mask)
    if len(ii) < 5:
        return 0.0, 0.0
    cov = np.cov(np.stack([ii, jj]).astype(np.float64))
    ev = np.sort(np.linalg.eigvalsh(cov))
    ratio = float(np.sqrt(max(ev[0], 1e-9) / max(ev[1], 1e-9)))
    # solidity against the ellipse of the same second moments (cheaper than a convex hull)
    ellipse_area = np.pi * 2.0 * np.sqrt(max(ev[0], 1e-9)) * 2.0 * np.sqrt(max(ev[1], 1e-9))
    solidity = float(min(1.0, len(ii) / ellipse_area))
    return solidity, ratio


def _candidates(mean: np.ndarray, std: np.ndarray, sp: float) -> list[dict]:
    """Bright round moving components of one slice's temporal-mean image."""
    sm = ndi.gaussian_filter(mean, 1.0)
    fg = sm[sm > 0.05]
    if fg.size < 100:
        return []
    thr = _otsu(fg)
    bright = sm > thr
    bright = ndi.binary_opening(bright, iterations=2)
    lab, n = ndi.label(bright)
    out = []
    area_px = ndi.sum(np.ones_like(lab), lab, index=np.arange(1, n + 1))
    for idx in np.flatnonzero((area_px * sp * sp > 150) & (area_px * sp * sp < 8000)) + 1:
        m = lab == idx
        m = ndi.binary_fill_holes(m)
        solidity, ratio = _roundness(m)
        ring = ndi.binary_dilation(m, iterations=max(2, int(round(5.0 / sp)))) & ~m
        motion = float(std[ring].mean()) / max(float(std.mean()), 1e-6)
        wall = float(sm[ring].mean()) / max(float(sm[m].mean()), 1e-6)  # darker ring around the pool: low
        jj, ii = np.nonzero(m)
        area = m.sum() * sp * sp
        size = float(np.exp(-0.5 * (np.log(area / 1500.0) / 0.9) ** 2))  # LV pools span ~300-6000 mm^2
        # cardiac cine is planned on the heart: prefer candidates near the middle of the field of view
        off = np.hypot(ii.mean() - mean.shape[1] / 2, jj.mean() - mean.shape[0] / 2) / (0.35 * max(mean.shape))
        central = float(np.exp(-off**2))
        score = solidity * ratio**2 * size * min(motion, 4.0) * max(0.0, 1.2 - wall) * central
        out.append({"mask": m, "centre": np.array([ii.mean(), jj.mean()]), "score": score, "area_mm2": area,
                    "solidity": solidity, "ratio": ratio, "motion": motion, "wall": wall})
    return out


def find_lv(image: Cine) -> LVLocation:
    """Find the LV blood pool on the middle slices of a short-axis cine.

    Raises:
        InputError: not a short-axis stack, or nothing round, bright and moving was found.
    """
    if image.modality != "MR" or image.slices < 2:
        raise InputError("automatic start finds the LV in a short-axis MR stack (use landmarks or a seed for echo)")
    a = _norm(np.asarray(image.array, np.float32))
    sp = float(np.mean(image.spacing[:2]))
    K = image.slices
    mean, std = a.mean(axis=0), a.std(axis=0)
    per_slice = {k: _candidates(mean[k], std[k], sp) for k in range(K)}
    # a candidate earns support from overlapping candidates on the neighbouring slices
    best = None
    for k in range(max(0, K // 5), K - K // 5):
        for c in per_slice[k]:
            support = 0.0
            for kk in (k - 1, k + 1):
                for d in per_slice.get(kk, []):
                    if d["mask"][int(round(c["centre"][1])), int(round(c["centre"][0]))]:
                        support += d["score"]
            total = c["score"] + 0.5 * support
            if best is None or total > best[0]:
                best = (total, k, c)
    if best is None:
        raise InputError("automatic start found no bright, round, moving blood pool (give landmarks or a seed)")
    total, k0, c0 = best
    # the slices the LV spans: follow the pool through the stack from the best slice
    slices = [k0]
    r_eq = float(np.sqrt(c0["mask"].sum() / np.pi))
    for step in (-1, 1):
        k, centre, area = k0 + step, c0["centre"], float(c0["mask"].sum())
        while 0 <= k < K:
            m = pool_mask(mean[k], centre, sp, limit_radius=1.6 * r_eq + 5.0 / sp)
            solidity, ratio = _roundness(m)
            if m.sum() * sp * sp < 60 or ratio < 0.35 or m.sum() > 2.5 * area:
                break
            slices.append(k)
            jj, ii = np.nonzero(m)
            centre, area = np.array([ii.mean(), jj.mean()]), float(m.sum())
            k += step
    slices.sort()
    mid = slices[len(slices) // 2]
    m = pool_mask(mean[mid], c0["centre"], sp, limit_radius=1.6 * r_eq + 5.0 / sp)
    if m.any():
        jj, ii = np.nonzero(m)
        centre = np.array([ii.mean(), jj.mean()])
    else:
        centre = c0["centre"]
    confidence = float(np.clip(c0["solidity"] * c0["ratio"] * min(1.0, len(slices) / 4.0), 0, 1))
    return LVLocation(slice=int(mid), centre_ij=np.asarray(centre, float), slices=slices, confidence=confidence)


def pool_mask(img: np.ndarray, centre_ij: np.ndarray, sp: float, threshold: Optional[float] = None,
              limit_radius: Optional[float] = None) -> np.ndarray:
    """The bright blood pool containing ``centre_ij`` on one 2D frame (normalised image).

    ``limit_radius`` (pixels): the pool is cut to this disc around the centre, so that a pool
    joined to the RV or the atrium cannot run away.
    """
    J, I = img.shape
    sm = ndi.gaussian_filter(img, 0.8)
    ci, cj = int(round(centre_ij[0])), int(round(centre_ij[1]))
    r = int(round(45.0 / sp))
    roi = sm[max(0, cj - r): cj + r, max(0, ci - r): ci + r]
    if threshold is None:
        core = float(np.median(sm[max(0, cj - 2): cj + 3, max(0, ci - 2): ci + 3]))
        threshold = 0.5 * (core + float(np.percentile(roi, 25)))
    bright = sm > threshold
    if limit_radius is not None:
        jj, ii = np.mgrid[0:J, 0:I]
        bright &= np.hypot(ii - centre_ij[0], jj - centre_ij[1]) <= limit_radius
    lab, _ = ndi.label(bright)
    idx = lab[cj, ci]
    if idx == 0:
        # the centre may sit on a papillary muscle: take the nearest bright component
        d, (nj, ni) = ndi.distance_transform_edt(~bright, return_indices=True)
        if d[cj, ci] > 10.0 / sp:
            return np.zeros_like(bright)
        idx = lab[nj[cj, ci], ni[cj, ci]]
    m = lab == idx
    # keep the pool from leaking into the RV or the atrium through a thin bridge
    m = ndi.binary_opening(m, iterations=max(1, int(round(3.0 / sp))))
    lab2, _ = ndi.label(m)
    if lab2[cj, ci]:
        m = lab2 == lab2[cj, ci]
    elif m.any():
        sizes = ndi.sum(m, lab2, index=np.arange(1, lab2.max() + 1))
        m = lab2 == (int(np.argmax(sizes)) + 1)
    return ndi.binary_fill_holes(m)


def estimate_ed_es(image: Cine, lv: Optional[LVLocation] = None) -> dict:
    """ED and ES phases the engine would use, and how they were found.

    ED: among the phases whose trigger time lies within 15 % of the RR interval of the R wave,
    the one with the largest LV blood-pool area on the mid slice (phase 0 when neither trigger
    times nor an LV are available). ES: the phase of the smallest pool area.

    Returns:
        ``{"ed_phase", "es_phase", "ed_source", "es_source", "lv_pool_area_mm2"}``.
    """
    T = image.phases
    if T < 2:
        return {"ed_phase": 0, "es_phase": None, "ed_source": "a single frame", "es_source": None}
    times = np.asarray(image.frame_times_ms, float)
    rr_list = [v for v in (image.meta.get("rr_interval_ms") or []) if v]
    rr = float(np.median(rr_list)) if rr_list else float(times[-1] + np.median(np.diff(times)))
    triggered = bool(image.meta.get("trigger_times_reliable", image.meta.get("format") == "dicom"))
    cyc = np.minimum(np.mod(times, rr), rr - np.mod(times, rr))
    near_r = np.flatnonzero(cyc <= 0.15 * rr) if triggered else np.array([0])
    if near_r.size == 0:
        near_r = np.array([int(np.argmin(cyc))])
    out: dict = {"ed_phase": int(near_r[np.argmin(cyc[near_r])]), "es_phase": None,
                 "ed_source": "trigger time nearest the R wave" if triggered else "first frame", "es_source": None}
    if image.modality != "MR" or image.slices < 2:
        return out
    try:
        lv = lv or find_lv(image)
    except InputError as exc:
        out["ed_source"] += f" (no blood-pool check: {exc})"
        return out
    sp = float(np.mean(image.spacing[:2]))
    frames = _norm(np.asarray(image.array[:, lv.slice], np.float32))
    mean_pool = pool_mask(frames.mean(axis=0), lv.centre_ij, sp)
    limit = 1.4 * float(np.sqrt(max(mean_pool.sum(), 1) / np.pi)) + 5.0 / sp
    areas = np.array([pool_mask(f, lv.centre_ij, sp, limit_radius=limit).sum() * sp * sp for f in frames])
    out["lv_pool_area_mm2"] = [round(float(v), 1) for v in areas]
    ed = int(near_r[np.argmax(areas[near_r])])
    if ed != out["ed_phase"]:
        out["ed_source"] = f"largest LV blood pool among the phases near the R wave ({', '.join(map(str, near_r))})"
    else:
        out["ed_source"] += ", largest LV blood pool there"
    out["ed_phase"] = ed
    es = int(np.argmin(areas))
    if areas[es] < 0.9 * areas[ed]:
        out["es_phase"] = es
        out["es_source"] = "smallest LV blood pool of the mid slice"
    return out
