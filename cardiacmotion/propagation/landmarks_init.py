"""Three landmarks -> an end-diastolic seed, without training.

MR short axis (``RV anterior insertion``, ``RV inferior insertion``, ``LV center``): on the
landmark slice at ED, the endocardium and epicardium are found along rays from the LV centre
as the smoothest strong edge path (dynamic programming over the angle): the endocardium as a
bright-blood -> darker-wall edge, the epicardium as the next edge outward. The insertion
points (on the epicardium at the septum) set the expected size. The RV is the bright region on
the septal side, between the two insertion points, outside the LV wall.

Echo apical view (``Apex``, ``Mitral annulus septal``, ``Mitral annulus lateral``): an LV
template (bullet shape) aligned to the apex and the annulus, whose width per level is refined
to the strongest dark-cavity -> bright-wall edge, with a myocardial band around it.
"""
from __future__ import annotations

from typing import Mapping, Optional

import numpy as np
from scipy import ndimage as ndi

from cardiacmotion.cine import Cine, LV_CAVITY, LV_MYO, RV_CAVITY
from cardiacmotion.errors import InputError
from cardiacmotion.io.markups import ECHO_LANDMARKS, MR_LANDMARKS
from cardiacmotion.propagation.order import SeedSet, normalise
from cardiacmotion.propagation.topology import clean_labels, largest_component


def _points_ijk(points: Mapping[str, np.ndarray], names: tuple, image: Cine) -> dict[str, np.ndarray]:
    missing = [n for n in names if n not in points]
    if missing:
        raise InputError(f"missing landmark(s): {', '.join(missing)} (expected {', '.join(names)})")
    out = {}
    for n in names:
        ijk = image.ras_to_ijk_points(np.asarray(points[n], dtype=np.float64))[0]
        if not image.contains_ijk(ijk[None])[0]:
            raise InputError(f"landmark {n!r} lies outside the image")
        out[n] = ijk
    return out


def _dp_path(cost: np.ndarray, max_jump: int) -> np.ndarray:
    """Cyclic-ish minimum-cost path over angles (rows) choosing a radius index (cols)."""
    n, m = cost.shape
    acc = cost.copy()
    back = np.zeros((n, m), dtype=np.int64)
    for a in range(1, n):
        prev = acc[a - 1]
        best = np.full(m, np.inf)
        arg = np.zeros(m, dtype=np.int64)
        for d in range(-max_jump, max_jump + 1):
            shifted = np.full(m, np.inf)
            if d >= 0:
                shifted[d:] = prev[: m - d] if d else prev
            else:
                shifted[:d] = prev[-d:]
            better = shifted < best
            best[better] = shifted[better]
            arg[better] = (np.arange(m) - d)[better]
        acc[a] += best
        back[a] = arg
    path = np.zeros(n, dtype=np.int64)
    path[-1] = int(np.argmin(acc[-1]))
    for a in range(n - 1, 0, -1):
        path[a - 1] = back[a, path[a]]
    return path


def mr_seed_from_landmarks(image: Cine, points: Mapping[str, np.ndarray], phase: int = 0) -> SeedSet:
    """ED seed (LV cavity, myocardium, RV) on the landmark slice of a short-axis cine.

    The LV pool is grown from the LV centre and the wall followed outward along rays (the same
    builder as the automatic start, :func:`~cardiacmotion.propagation.autostart.build_seed_slice`);
    the RV is looked for between the two insertions. When that builder finds no pool at the
    centre, the edge search along rays (:func:`mr_seed_from_landmarks_edges`) is used.
    """
    from cardiacmotion.propagation.autostart import _norm, build_seed_slice

    p = _points_ijk(points, MR_LANDMARKS, image)
    T, K, J, I = image.array.shape
    k = int(round(p["LV center"][2]))
    sp = float(np.mean(image.spacing[:2]))
    c = p["LV center"][:2]
    ant, inf = p["RV anterior insertion"][:2], p["RV inferior insertion"][:2]
    if np.linalg.norm(ant - c) * sp < 5 or np.linalg.norm(inf - c) * sp < 5:
        raise InputError("the RV insertion points are too close to the LV centre")
    img = _norm(np.asarray(image.array, np.float32))[phase, k]
    mid = (ant - c) / np.linalg.norm(ant - c) + (inf - c) / np.linalg.norm(inf - c)
    try:
        lab, _facts = build_seed_slice(img, c, sp, mid / max(np.linalg.norm(mid), 1e-6), insertions=(ant, inf))
    except InputError:
        return mr_seed_from_landmarks_edges(image, points, phase)
    return SeedSet.single(lab, T, K, phase, k)


def mr_seed_from_landmarks_edges(image: Cine, points: Mapping[str, np.ndarray], phase: int = 0) -> SeedSet:
    """ED seed on the landmark slice from edge paths along rays (the first landmark start)."""
    p = _points_ijk(points, MR_LANDMARKS, image)
    T, K, J, I = image.array.shape
    k = int(round(p["LV center"][2]))
    img = normalise(image.array[phase, k])
    sp = float(np.mean(image.spacing[:2]))
    c = p["LV center"][:2]  # (i, j)
    ant, inf = p["RV anterior insertion"][:2], p["RV inferior insertion"][:2]
    r_ins = float(np.mean([np.linalg.norm(ant - c), np.linalg.norm(inf - c)]))
    if r_ins * sp < 5:
        raise InputError("the RV insertion points are too close to the LV centre")

    n_ang = 120
    theta = np.linspace(0, 2 * np.pi, n_ang, endpoint=False)
    step = 0.5
    radii = np.arange(0, 1.8 * r_ins, step)
    xs = c[0] + np.cos(theta)[:, None] * radii[None]
    ys = c[1] + np.sin(theta)[:, None] * radii[None]
    sm = ndi.gaussian_filter(img, 1.0)
    prof = ndi.map_coordinates(sm, [ys, xs], order=1, mode="nearest")
    grad = np.gradient(prof, step, axis=1)

    # endocardium: bright -> dark edge between 0.25 and 0.95 of the insertion radius
    blood = float(np.median(prof[:, : max(2, int(0.25 * r_ins / step))]))
    lo, hi = int(0.25 * r_ins / step), int(0.95 * r_ins / step)
    cost = np.full(prof.shape, 1e3)
    cost[:, lo:hi] = grad[:, lo:hi] / max(blood, 1e-3)  # negative gradient = good
    r_endo = radii[_dp_path(cost, max_jump=2)]
    # epicardium: next edge of either sign, 2-12 mm outside the endocardium, near r_ins
    cost = np.full(prof.shape, 1e3)
    for a in range(n_ang):
        a0 = int((r_endo[a] + 3.0 / sp) / step)
        a1 = min(len(radii), int((r_endo[a] + 14.0 / sp) / step))
        if a1 > a0:
            # start past the darkest point of the wall: the endocardial edge must not attract it
            b0 = int(r_endo[a] / step)
            a0 = max(a0, b0 + int(np.argmin(prof[a, b0:a1])) + 1) if a1 > b0 else a0
            a0 = min(a0, a1 - 1)
            cost[a, a0:a1] = -np.abs(grad[a, a0:a1]) / max(blood, 1e-3) + 0.5 * np.abs(radii[a0:a1] - r_ins) / r_ins
    r_epi = radii[_dp_path(cost, max_jump=2)]
    r_endo = ndi.uniform_filter1d(r_endo, 7, mode="wrap")
    r_epi = np.maximum(ndi.uniform_filter1d(r_epi, 9, mode="wrap"), r_endo + 2.0 / sp)

    jj, ii = np.mgrid[0:J, 0:I]
    rho = np.hypot(ii - c[0], jj - c[1])
    phi = np.mod(np.arctan2(jj - c[1], ii - c[0]), 2 * np.pi)
    ext = np.concatenate([theta, [2 * np.pi]])
    re = np.interp(phi, ext, np.concatenate([r_endo, r_endo[:1]]))
    rp = np.interp(phi, ext, np.concatenate([r_epi, r_epi[:1]]))
    lab = np.zeros((J, I), np.uint8)
    lab[rho <= rp] = LV_MYO["MR"]
    lab[rho <= re] = LV_CAVITY["MR"]

    # RV: bright pixels outside the LV wall, in the septal sector between the insertions
    a_ant = np.arctan2(ant[1] - c[1], ant[0] - c[0])
    a_inf = np.arctan2(inf[1] - c[1], inf[0] - c[0])
    mid = np.angle(np.exp(1j * a_ant) + np.exp(1j * a_inf))  # septal direction
    half = abs(np.angle(np.exp(1j * (a_ant - mid)))) + np.deg2rad(25)
    dphi = np.abs(np.angle(np.exp(1j * (np.arctan2(jj - c[1], ii - c[0]) - mid))))
    thr = 0.5 * (blood + float(np.median(sm[(rho > re) & (rho <= rp)])))
    cand = (sm > thr) & (rho > rp) & (rho < 3.0 * r_ins) & (dphi <= half)
    cand = ndi.binary_opening(cand, iterations=1)
    rv = largest_component(cand)
    rv = ndi.binary_closing(rv, iterations=2) & (lab == 0)
    rv = ndi.binary_fill_holes(rv) & (lab == 0)
    lab[rv] = RV_CAVITY["MR"]
    lab = clean_labels(lab, "MR")

    return SeedSet.single(lab, T, K, phase, k)


def echo_seed_from_landmarks(image: Cine, points: Mapping[str, np.ndarray], frame: int = 0) -> SeedSet:
    """Frame-0 seed (LV cavity, myocardium) of an apical echo view from a refined template."""
    p = _points_ijk(points, ECHO_LANDMARKS, image)
    T, K, J, I = image.array.shape
    img = normalise(image.array[frame, 0])
    apex, sep, lat = p["Apex"][:2], p["Mitral annulus septal"][:2], p["Mitral annulus lateral"][:2]
    base = 0.5 * (sep + lat)
    axis = apex - base
    L = float(np.linalg.norm(axis))
    if L < 5:
        raise InputError("the apex is too close to the mitral annulus")
    u_dir = axis / L
    v_dir = np.array([-u_dir[1], u_dir[0]])
    half_w = 0.5 * float(np.linalg.norm(lat - sep))
    sp = float(np.mean(image.spacing[:2]))

    levels = np.linspace(0.0, 1.0, 41)
    template = half_w * np.sqrt(np.clip(1.0 - levels**2.2, 0.0, None))
    sm = ndi.gaussian_filter(img, max(1.0, 1.5 / sp))
    frac = np.linspace(0.6, 2.2, 49)  # the mid-cavity is often much wider than the annulus
    widths = {}
    for side in (-1.0, 1.0):
        cost = np.zeros((len(levels), len(frac)))
        for n, (u, w0) in enumerate(zip(levels, template)):
            s_ = np.maximum(frac * w0, 0.5)
            pts = base[None] + u * axis[None] + side * s_[:, None] * v_dir[None]
            prof = ndi.map_coordinates(sm, [pts[:, 1], pts[:, 0]], order=1, mode="nearest")
            g = np.gradient(prof)
            cost[n] = -g / max(float(np.abs(g).max()), 1e-6)  # dark cavity -> bright wall
            cost[n] += 0.15 * np.abs(frac - 1.2)  # mild pull toward the template
        path = _dp_path(cost, max_jump=2)
        f = ndi.uniform_filter1d(frac[path], 5, mode="nearest")
        widths[side] = f * template

    jj, ii = np.mgrid[0:J, 0:I]
    d = np.stack([ii - base[0], jj - base[1]], axis=-1)
    u = (d @ u_dir) / L
    v = d @ v_dir
    uc = np.clip(u, 0, 1)
    wv = np.where(v >= 0, np.interp(uc, levels, widths[1.0]), np.interp(uc, levels, widths[-1.0]))
    cav = (u >= 0) & (u <= 1) & (np.abs(v) <= wv)
    thick = 8.0 / sp
    # the wall: the cavity grown by the wall thickness, above the annulus plane
    dist = ndi.distance_transform_edt(~cav)
    myo = (dist > 0) & (dist <= thick) & (u >= 0)
    lab = np.zeros((J, I), np.uint8)
    lab[myo] = LV_MYO["US"]
    lab[cav] = LV_CAVITY["US"]
    lab = clean_labels(lab, "US")
    return SeedSet.single(lab, T, K, frame, 0)


def seed_from_landmarks(image: Cine, points: Mapping[str, np.ndarray], phase: Optional[int] = None) -> SeedSet:
    """Dispatch on the modality: MR short axis or echo apical view."""
    ph = 0 if phase is None else int(phase)
    if not 0 <= ph < image.phases:
        raise InputError(f"seed phase {ph} is outside 0..{image.phases - 1}")
    if image.modality == "US" or image.slices == 1:
        return echo_seed_from_landmarks(image, points, ph)
    return mr_seed_from_landmarks(image, points, ph)
