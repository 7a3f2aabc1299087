"""Starting a short-axis cine MR without any user input: find the LV, pick ED/ES, build the seed.

The left ventricle is the bright, round blood pool that moves over the cardiac cycle and is
surrounded by a darker myocardial ring. :func:`find_lv` looks for it on the middle slices of the
stack (bright components of the temporal-mean image, scored by roundness, solidity, size and the
temporal variance around them, and by their agreement between neighbouring slices).
:func:`estimate_ed_es` takes ED as the phase nearest the R wave by trigger time, cross-checked with
the LV blood-pool area of the mid slice (the largest area among the phases near the R wave), and ES
as the phase of the smallest area. :func:`auto_seed` builds the ED seed on the mid-ventricular
slice (LV cavity with papillary muscles, myocardium, RV) and the three MR landmarks, with a
confidence in [0, 1]. The slice builder (:func:`build_seed_slice`) first divides out the coil
shading fitted over the blood pool, takes each ray's own blood and wall levels for the
endocardium, and draws the ED cavity as experts do: convex, around trabeculae and papillary
muscles, never inside its own ellipse-like fit. Nothing here is learned: it runs on any
scanner's cine without weights.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from scipy import ndimage as ndi

from cardiacmotion.cine import Cine, LV_MYO, RV_CAVITY
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
        # the blood level near the centre, robust to a papillary muscle under it
        w = max(2, int(round(6.0 / sp)))
        core = float(np.percentile(sm[max(0, cj - w): cj + w + 1, max(0, ci - w): ci + w + 1], 75))
        threshold = 0.5 * (core + float(np.percentile(roi, 25)))
    bright = sm > threshold
    if limit_radius is not None:
        jj, ii = np.mgrid[0:J, 0:I]
        bright &= np.hypot(ii - centre_ij[0], jj - centre_ij[1]) <= limit_radius
    lab, _ = ndi.label(bright)
    idx = lab[cj, ci]
    if idx == 0:
        # the centre may sit on a papillary muscle: the component covering most of a 10 mm disc
        jj, ii = np.mgrid[0:J, 0:I]
        disc = np.hypot(ii - centre_ij[0], jj - centre_ij[1]) <= 10.0 / sp
        hits = lab[disc & (lab > 0)]
        if hits.size == 0:
            return np.zeros_like(bright)
        idx = int(np.bincount(hits).argmax())
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


# --------------------------------------------------------------------------------------------
# the seed slice: cavity, myocardium, RV, landmarks

_N_ANG = 120


def _rays(img: np.ndarray, centre_ij: np.ndarray, r_max: float, step: float = 0.5):
    theta = np.linspace(0, 2 * np.pi, _N_ANG, endpoint=False)
    radii = np.arange(0, r_max, step)
    xs = centre_ij[0] + np.cos(theta)[:, None] * radii[None]
    ys = centre_ij[1] + np.sin(theta)[:, None] * radii[None]
    prof = ndi.map_coordinates(img, [ys, xs], order=1, mode="nearest")
    return theta, radii, prof, (xs, ys)


def cavity_radii(pool: np.ndarray, centre_ij: np.ndarray, sp: float) -> tuple[np.ndarray, np.ndarray]:
    """Endocardial radius per angle: the farthest pool pixel along each ray (papillary muscles and
    trabeculae inside the pool count as cavity), low-pass filtered over the angle."""
    from cardiacmotion.propagation.topology import lowpass

    theta, radii, inside, _ = _rays(pool.astype(np.float32), centre_ij, 60.0 / sp)
    hit = inside > 0.5
    r = np.where(hit.any(axis=1), radii[np.clip(hit.shape[1] - 1 - np.argmax(hit[:, ::-1], axis=1), 0, None)], np.nan)
    if np.isnan(r).all():
        raise InputError("automatic start: the LV blood pool is empty on the seed slice")
    r = np.where(np.isnan(r), np.nanmedian(r), r)
    # a ray that leaks into a neighbouring pool: clip to the robust radius range
    med = float(np.median(r))
    r = np.clip(r, 0.6 * med, 1.35 * med)
    return theta, np.maximum(lowpass(r, 5), 2.0)


def wall_radii(img: np.ndarray, centre_ij: np.ndarray, theta: np.ndarray, r_endo: np.ndarray, sp: float,
               blood: float) -> np.ndarray:
    """Epicardial radius per angle: where the dark wall outside the endocardium ends.

    Along each ray the wall is followed outward from the endocardium until the intensity rises
    back above half-way to blood (epicardial fat, RV blood) or falls to air/lung darkness; rays
    without a clear edge take the median thickness of the others. Thickness stays in 3-15 mm.
    """
    from cardiacmotion.propagation.topology import lowpass

    step = 0.5
    _, radii, prof, _ = _rays(ndi.gaussian_filter(img, 0.7), centre_ij, float(r_endo.max() + 20.0 / sp), step)
    t_min, t_max = 3.0 / sp, 15.0 / sp
    thick = np.full(_N_ANG, np.nan)
    levels = []
    for a in range(_N_ANG):
        b0 = int((r_endo[a] + 1.0 / sp) / step)
        b1 = min(len(radii), int((r_endo[a] + 4.0 / sp) / step) + 1)
        if b1 > b0:
            levels.append(float(np.median(prof[a, b0:b1])))
    myo = float(np.median(levels)) if levels else 0.3 * blood
    up = myo + 0.45 * (blood - myo)
    down = 0.45 * myo
    for a in range(_N_ANG):
        start = int((r_endo[a] + t_min) / step)
        stop = min(len(radii), int((r_endo[a] + t_max) / step))
        seg = prof[a, start:stop]
        if seg.size == 0:
            continue
        out = np.flatnonzero((seg > up) | (seg < down))
        if out.size:
            thick[a] = radii[start + out[0]] - r_endo[a]
    valid = np.isfinite(thick)
    med = float(np.median(thick[valid])) if valid.sum() >= 0.25 * _N_ANG else 7.0 / sp
    thick = np.where(valid, thick, med)
    thick = np.clip(thick, 0.7 * med, 1.3 * med)
    thick = ndi.median_filter(thick, size=9, mode="wrap")
    return r_endo + np.clip(lowpass(thick, 4), t_min, t_max)


def _ras_dir_in_plane(image: Cine, ras_dir: np.ndarray) -> np.ndarray:
    """A RAS direction as an in-plane (i, j) unit vector of the image grid."""
    m = image.ijk_to_ras[:3, :3]
    ij = np.linalg.lstsq(m, ras_dir, rcond=None)[0][:2]
    ij = ij * np.asarray(image.spacing[:2])  # to mm so that the angle is physical
    n = float(np.linalg.norm(ij))
    return ij / n if n > 1e-6 else np.array([1.0, 0.0])


def rv_region(img: np.ndarray, lv_wall: np.ndarray, centre_ij: np.ndarray, sp: float, blood: float, myo: float,
              rv_dir: np.ndarray, half_angle: float = np.deg2rad(100)) -> np.ndarray:
    """The RV blood pool: the largest bright region next to the LV wall, in the sector around ``rv_dir``."""
    from cardiacmotion.propagation.topology import largest_component

    J, I = img.shape
    jj, ii = np.mgrid[0:J, 0:I]
    d = np.stack([ii - centre_ij[0], jj - centre_ij[1]], axis=-1) * sp
    ang = np.arccos(np.clip((d @ rv_dir) / np.maximum(np.linalg.norm(d, axis=-1), 1e-6), -1, 1))
    sm = ndi.gaussian_filter(img, 0.8)
    near = ndi.distance_transform_edt(~lv_wall) * sp
    cand = (sm > myo + 0.5 * (blood - myo)) & ~lv_wall & (ang <= half_angle) & (near < 45.0)
    cand = ndi.binary_opening(cand, iterations=max(1, int(round(1.5 / sp))))
    lab, n = ndi.label(cand)
    if n == 0:
        return np.zeros_like(cand)
    # it must touch the wall's neighbourhood (within 6 mm)
    touching = np.unique(lab[(near < 6.0) & cand])
    touching = touching[touching > 0]
    if touching.size == 0:
        return np.zeros_like(cand)
    sizes = ndi.sum(cand, lab, index=touching)
    rv = lab == touching[int(np.argmax(sizes))]
    if rv.sum() * sp * sp < 80:
        return np.zeros_like(cand)
    rv = ndi.binary_closing(rv, iterations=2) & ~lv_wall
    return largest_component(ndi.binary_fill_holes(rv) & ~lv_wall)


def convex_radii(theta: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Radii, along the same rays, of the convex hull of the closed contour ``r(theta)``.

    Experts draw the ED endocardium around papillary muscles and trabeculae (a convex outline);
    a pool threshold carves them out as notches, which the hull fills.
    """
    from scipy.spatial import ConvexHull, QhullError

    pts = np.stack([np.cos(theta) * r, np.sin(theta) * r], axis=1)
    try:
        hull = ConvexHull(pts)
    except QhullError:
        return r
    # each facet: unit outward normal n and offset d (n . x = d, d > 0 since the centre is inside)
    n, d = hull.equations[:, :2], -hull.equations[:, 2]
    if (d <= 0).any():
        return r
    u = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    proj = u @ n.T
    with np.errstate(divide="ignore"):
        cand = np.where(proj > 1e-9, d[None] / proj, np.inf)
    out = cand.min(axis=1)
    return np.where(np.isfinite(out), np.maximum(out, r), r)


def _local_levels(prof: np.ndarray, radii: np.ndarray, r0: np.ndarray, sp: float) -> tuple[np.ndarray, np.ndarray]:
    """Blood and wall intensity per ray, smooth over the angle (coil shading varies slowly).

    Blood: the upper quartile of the inner part of the ray (trabeculae lower only the mean);
    wall: the darkest value within 5 mm outside the pool edge.
    """
    from cardiacmotion.propagation.topology import lowpass

    step = float(radii[1] - radii[0])
    blood, wall = np.empty(len(r0)), np.empty(len(r0))
    for a in range(len(r0)):
        i0, i1 = int(0.3 * r0[a] / step), max(int(0.9 * r0[a] / step), int(0.3 * r0[a] / step) + 2)
        blood[a] = np.percentile(prof[a, i0:i1], 75)
        j0, j1 = int(r0[a] / step), min(prof.shape[1], int((r0[a] + 5.0 / sp) / step) + 1)
        wall[a] = prof[a, j0:j1].min() if j1 > j0 else blood[a] * 0.4
    return lowpass(blood, 3), lowpass(ndi.median_filter(wall, size=7, mode="wrap"), 4)


def _local_endo(img: np.ndarray, c: np.ndarray, theta: np.ndarray, r0: np.ndarray, sp: float,
                fraction: float = 0.25) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Endocardial radius per ray: outward from the pool edge to the wall, at the ray's own levels.

    The conservative pool threshold stops inside the partial-volume edge that experts include, and
    coil shading changes the blood level across the heart: each ray is followed outward (at most
    8 mm) until it falls below ``fraction`` of the way from its own wall level to its own blood
    level (levels smooth over the angle, :func:`_local_levels`).
    Returns ``(r_endo, blood, wall)`` per ray.
    """
    from cardiacmotion.propagation.topology import lowpass

    step = 0.25
    _, radii, prof, _ = _rays(ndi.gaussian_filter(img, 0.7), c, float(r0.max() + 14.0 / sp), step)
    blood, wall = _local_levels(prof, radii, r0, sp)
    out = r0.copy()
    for a in range(len(r0)):
        lo = int(r0[a] / step)
        hi = min(prof.shape[1], int((r0[a] + 8.0 / sp) / step) + 1)
        below = np.flatnonzero(prof[a, lo:hi] < wall[a] + fraction * (blood[a] - wall[a]))
        out[a] = radii[lo + below[0]] if below.size else r0[a]
    return np.maximum(lowpass(ndi.median_filter(out, size=5, mode="wrap"), 8), 2.0), blood, wall


def flatten_shading(img: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """``img`` divided by a plane fitted to the log intensity of the blood pool.

    Surface coils shade the heart: on some studies the blood at one side of the LV is half as
    bright as at the other, and one threshold then cuts the dim side of the cavity. Trabeculae are
    left out of the fit (the pool's darkest quarter); the correction is bounded to 0.5-2x.
    """
    jj, ii = np.nonzero(pool)
    v = img[jj, ii]
    keep = v >= np.percentile(v, 25)
    if keep.sum() < 30:
        return img
    jj, ii, v = jj[keep], ii[keep], np.log(np.maximum(v[keep], 1e-4))
    ci, cj = ii.mean(), jj.mean()
    A = np.stack([np.ones_like(v), ii - ci, jj - cj], axis=1)
    coef = np.linalg.lstsq(A, v, rcond=None)[0]
    J, I = img.shape
    gj, gi = np.mgrid[0:J, 0:I]
    field = np.exp(np.clip(coef[1] * (gi - ci) + coef[2] * (gj - cj), np.log(0.5), np.log(2.0)))
    return (img / field).astype(np.float32)


def build_seed_slice(img: np.ndarray, centre_ij: np.ndarray, sp: float, rv_dir: np.ndarray,
                     insertions: Optional[tuple] = None) -> tuple[np.ndarray, dict]:
    """ED seed labels of one short-axis slice (normalised image) from the LV centre.

    ``rv_dir``: in-plane unit vector (i, j) toward the RV (from anatomy or the insertions);
    ``insertions``: the user's (anterior, inferior) insertion points (i, j) when known: the RV
    is then looked for between them only. Returns ``(labels uint8 [J, I], facts)``.
    """
    from cardiacmotion.propagation.topology import clean_labels, draw_ring, lowpass

    J, I = img.shape
    pool = pool_mask(img, centre_ij, sp, limit_radius=45.0 / sp)
    if pool.sum() * sp * sp < 50:
        raise InputError("automatic start: no blood pool at the LV centre on the seed slice")
    img = flatten_shading(img, pool)
    pool2 = pool_mask(img, centre_ij, sp, limit_radius=45.0 / sp)
    if pool2.sum() * sp * sp >= 50:
        pool = pool2
    jj, ii = np.nonzero(pool)
    c = np.array([ii.mean(), jj.mean()])
    theta, r_endo = cavity_radii(pool, c, sp)
    blood = float(np.median(img[pool]))
    r_endo, _, _ = _local_endo(img, c, theta, r_endo, sp)
    r_endo = convex_radii(theta, r_endo)
    # a long trabeculated arc stays flat under the hull: experts draw the ED endocardium as a
    # near-ellipse, so no ray falls inside the contour's own two-harmonic (ellipse-like) fit
    r_endo = convex_radii(theta, np.maximum(r_endo, lowpass(r_endo, 2)))
    r_epi = wall_radii(img, c, theta, r_endo, sp, blood)
    lab = draw_ring(np.zeros((J, I), np.uint8), "MR", (c[1], c[0]), theta, r_endo, r_epi)
    wall = lab > 0
    myo_level = float(np.median(img[lab == LV_MYO["MR"]])) if (lab == LV_MYO["MR"]).any() else 0.3 * blood
    half = np.deg2rad(100)
    if insertions is not None:
        a, b = (np.asarray(p, float) - c for p in insertions)
        a, b = a / max(np.linalg.norm(a), 1e-6), b / max(np.linalg.norm(b), 1e-6)
        mid = a + b
        rv_dir = mid / max(np.linalg.norm(mid), 1e-6)
        half = 0.5 * float(np.arccos(np.clip(a @ b, -1, 1))) + np.deg2rad(25)
    rv = rv_region(img, wall, c, sp, blood, myo_level, rv_dir, half)
    lab[rv] = RV_CAVITY["MR"]
    lab = clean_labels(lab, "MR")
    facts = {"centre_ij": c, "theta": theta, "r_endo": r_endo, "r_epi": r_epi, "rv_found": bool(rv.any()),
             "blood": blood, "myo": myo_level}
    return lab, facts


def _insertions(lab: np.ndarray, facts: dict, sp: float, rv_dir: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two RV insertion points (i, j): the ends of the arc of the LV wall the RV lies against."""
    c, theta, r_epi = facts["centre_ij"], facts["theta"], facts["r_epi"]
    rv = lab == RV_CAVITY["MR"]
    covered = np.zeros(_N_ANG, bool)
    if rv.any():
        for a in range(_N_ANG):
            rs = r_epi[a] + np.arange(0.0, 12.0 / sp, 0.5)
            xs = np.clip(np.round(c[0] + np.cos(theta[a]) * rs).astype(int), 0, lab.shape[1] - 1)
            ys = np.clip(np.round(c[1] + np.sin(theta[a]) * rs).astype(int), 0, lab.shape[0] - 1)
            covered[a] = rv[ys, xs].any()
    if covered.sum() >= 6 and not covered.all():
        # the longest cyclic run of covered angles
        start = int(np.argmin(covered))  # begin the scan on an uncovered angle
        order = np.roll(np.arange(_N_ANG), -start)
        best, run = (0, 0, 0), None
        for pos, a in enumerate(order):
            if covered[a]:
                run = pos if run is None else run
                if pos - run + 1 > best[0]:
                    best = (pos - run + 1, order[run], a)
            else:
                run = None
        a0, a1 = best[1], best[2]
    else:
        centre_ang = np.arctan2(rv_dir[1], rv_dir[0])
        a0 = int(np.round(np.mod(centre_ang - np.deg2rad(60), 2 * np.pi) / (2 * np.pi) * _N_ANG)) % _N_ANG
        a1 = int(np.round(np.mod(centre_ang + np.deg2rad(60), 2 * np.pi) / (2 * np.pi) * _N_ANG)) % _N_ANG
    pts = [c + r_epi[a] * np.array([np.cos(theta[a]), np.sin(theta[a])]) for a in (a0, a1)]
    return pts[0], pts[1]


def auto_seed(image: Cine, phase: Optional[int] = None):
    """Build the ED seed and the three MR landmarks of a short-axis cine without any input
    (an apical echo clip: :func:`~cardiacmotion.propagation.echo_autostart.echo_auto_seed`).

    Returns:
        ``(SeedSet, landmarks {name: RAS}, report)``; ``report`` has ``seed_phase``, ``seed_slice``,
        ``confidence`` (0-1), ``ed``/``es`` estimates and ``notes``.
    Raises:
        InputError: not a short-axis MR stack, or no LV found.
    """
    from cardiacmotion.io.markups import MR_LANDMARKS
    from cardiacmotion.io.seeds import SeedSet

    if image.modality == "US" and image.slices == 1:
        from cardiacmotion.propagation.echo_autostart import echo_auto_seed

        return echo_auto_seed(image, phase)
    lv = find_lv(image)
    phases = estimate_ed_es(image, lv)
    ed = int(phases["ed_phase"]) if phase is None else int(phase)
    if not 0 <= ed < image.phases:
        raise InputError(f"seed phase {ed} is outside 0..{image.phases - 1}")
    sp = float(np.mean(image.spacing[:2]))
    vol = _norm(np.asarray(image.array, np.float32))
    img = vol[ed, lv.slice]
    # the RV lies to the patient's right of and in front of the LV
    rv_dir = _ras_dir_in_plane(image, np.array([1.0, 1.0, 0.0]) / np.sqrt(2))
    lab, facts = build_seed_slice(img, lv.centre_ij, sp, rv_dir)
    ant, inf = _insertions(lab, facts, sp, rv_dir)
    k = lv.slice
    ijk = np.array([[ant[0], ant[1], k], [inf[0], inf[1], k], [facts["centre_ij"][0], facts["centre_ij"][1], k]], float)
    ras = image.ijk_to_ras_points(ijk)
    # anterior = the insertion further toward the patient's front (RAS +A)
    if ras[0, 1] < ras[1, 1]:
        ras[[0, 1]] = ras[[1, 0]]
    landmarks = {name: ras[n] for n, name in enumerate(MR_LANDMARKS)}
    labels = np.zeros(image.array.shape, np.uint8)
    labels[ed, k] = lab
    seeded = np.zeros((image.phases, image.slices), bool)
    seeded[ed, k] = True
    notes = []
    conf = lv.confidence
    if not facts["rv_found"]:
        notes.append("no RV blood pool found next to the LV: the RV is left to propagation and the insertions are estimated")
        conf *= 0.7
    report = {"seed_phase": ed, "seed_slice": int(k), "lv_slices": [int(v) for v in lv.slices],
              "confidence": round(float(conf), 3), "ed_phase": phases["ed_phase"], "es_phase": phases["es_phase"],
              "ed_source": phases["ed_source"], "notes": notes}
    return SeedSet(labels=labels, seeded=seeded), landmarks, report
