"""Short-axis cine MR from the independent heart: oblique stack, thick slices, breath-hold shifts.

Each slice is integrated over its slab: five sub-planes across the slice thickness (weighted by a
smooth slab profile), each at a different sub-pixel in-plane offset, so both the through-plane and
the in-plane partial volume reach the image and the labels. Labels are the weighted majority of
the anatomical class over those samples, on every phase, so basal slices that cut the LV at ED cut
the atrium or outflow tract at ES when the base has descended past them.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from scipy import ndimage

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.independent import motion as mo
from cardiacmotion.independent import mr_signal as sig
from cardiacmotion.independent.anatomy import SEGMENT_NAMES, HeartParams, HeartTables, build_tables, sample_heart
from cardiacmotion.independent.case import GENERATOR, VERSION, IndependentCase

SUB_OFFSETS = np.array([-0.4, -0.2, 0.0, 0.2, 0.4])
SUB_WEIGHTS = np.array([0.55, 0.9, 1.0, 0.9, 0.55])
SUB_JITTER = np.array([[0.25, -0.25], [-0.25, 0.25], [0.0, 0.0], [0.25, 0.25], [-0.25, -0.25]])


@dataclass
class MRScan:
    """Acquisition parameters (mm, degrees, ms)."""

    pixel_mm: float = 1.6
    fov_mm: float = 340.0
    phase_fov: float = 0.85
    slice_spacing_mm: float = 8.0
    slice_thickness_mm: float = 7.0
    phases: int = 25
    tilt_deg: float = 6.0             # stack normal vs the true long axis
    inplane_rot_deg: float = 0.0
    base_offset: float = 0.4          # first slice below the base, in slice spacings
    breath_hold_mm: float = 2.0       # SD of the per-slice shift along S
    snr: float = 25.0
    flip_deg: float = 60.0
    tr_ms: float = 3.2
    blur_px: float = 0.5
    inflow: float = 0.25


def sample_scan(rng: np.random.Generator, **overrides: Any) -> MRScan:
    """Draw acquisition parameters; ``overrides`` replace :class:`MRScan` fields."""
    u = rng.uniform
    s = MRScan()
    s.pixel_mm = u(1.2, 2.2)
    s.fov_mm = u(300, 380)
    s.phase_fov = u(0.75, 1.0)
    s.slice_spacing_mm = u(6.0, 10.0)
    s.slice_thickness_mm = u(5.0, min(10.0, s.slice_spacing_mm + 0.5))
    s.phases = int(rng.integers(20, 31))
    s.tilt_deg = u(2.0, 14.0)
    s.inplane_rot_deg = u(-35, 35)
    s.base_offset = u(0.05, 0.75)
    s.breath_hold_mm = u(0.5, 3.0)
    s.snr = u(12, 45)
    s.flip_deg = u(45, 75)
    s.tr_ms = u(2.6, 3.8)
    s.blur_px = u(0.3, 0.8)
    s.inflow = u(0.1, 0.45)
    for k, v in overrides.items():
        setattr(s, k, v)
    if not (0.5 <= s.pixel_mm <= 5 and 2 <= s.slice_spacing_mm <= 20 and s.phases >= 2):
        raise InputError("MR scan overrides out of range (pixel 0.5-5 mm, spacing 2-20 mm, >= 2 phases)")
    return s


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _rotate(v: np.ndarray, axis: np.ndarray, deg: float) -> np.ndarray:
    a = _unit(axis)
    t = np.radians(deg)
    return v * np.cos(t) + np.cross(a, v) * np.sin(t) + a * (a @ v) * (1 - np.cos(t))


def heart_pose(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(3x3 heart-frame axes as columns [septal, anterior, long] in RAS, LV mid-centre RAS)."""
    e_long = _unit(np.array([0.6, -0.5, 0.62]) + rng.uniform(-0.15, 0.15, 3))
    sep = np.array([0.7, 0.7, 0.0]) + rng.uniform(-0.2, 0.2, 3)
    e_sep = _unit(sep - (sep @ e_long) * e_long)
    e_ant = np.cross(e_long, e_sep)
    centre = np.array([-30.0, 25.0, 10.0]) + rng.uniform(-10, 10, 3)
    return np.stack([e_sep, e_ant, e_long], axis=1), centre


def _split_overrides(overrides: dict) -> tuple[dict, dict]:
    heart_names = {f.name for f in fields(HeartParams)}
    scan_names = {f.name for f in fields(MRScan)}
    unknown = set(overrides) - heart_names - scan_names
    if unknown:
        raise InputError(f"unknown generator parameter(s): {', '.join(sorted(unknown))}")
    return ({k: v for k, v in overrides.items() if k in heart_names},
            {k: v for k, v in overrides.items() if k in scan_names})


@dataclass
class MRDraw:
    """Everything drawn for one MR case before rendering (cheap: no image is formed)."""

    heart: HeartParams
    tables: HeartTables
    scan: MRScan
    axes: np.ndarray          # heart-frame axes (columns: septal, anterior, long) in RAS
    mid_centre: np.ndarray    # LV mid-cavity centre (RAS)
    apex: np.ndarray          # epicardial apex at ED (RAS), the heart-frame origin
    normal: np.ndarray        # stack normal (towards the base)
    ijk_to_ras: np.ndarray
    rows: int
    cols: int
    n_slices: int
    h0: float                 # height of the first (basal) slice above the apex along the normal
    shifts: np.ndarray        # [n_slices, 3] breath-hold shift of the anatomy (RAS mm)
    rng: np.random.Generator  # the stream the renderer continues


def draw_mr(seed: int, **overrides: Any) -> MRDraw:
    """Draw the heart, its pose and the acquisition of :func:`generate_mr` without rendering."""
    heart_ov, scan_ov = _split_overrides(overrides)
    rng = np.random.default_rng([int(seed), 20])
    p = sample_heart(rng, **heart_ov)
    tables = build_tables(p, rng)
    scan = sample_scan(rng, **scan_ov)
    axes, mid_centre = heart_pose(rng)
    e_long = axes[:, 2]
    apex = mid_centre - e_long * 0.5 * tables.base_z

    # slice stack: normal tilted off the long axis, k running from base to apex
    perp = _unit(np.cross(e_long, rng.normal(size=3)))
    normal = _rotate(e_long, perp, scan.tilt_deg)
    u0 = -axes[:, 0] - (-axes[:, 0] @ normal) * normal
    u_dir = _rotate(_unit(u0), normal, scan.inplane_rot_deg)
    k_dir = -normal
    v_dir = np.cross(k_dir, u_dir)
    h_base = (e_long * tables.base_z) @ normal
    sp = scan.slice_spacing_mm
    h0 = h_base - scan.base_offset * sp
    n_slices = int(np.floor((h0 + 0.3 * sp) / sp)) + 1
    line_point = mid_centre - ((mid_centre - apex) @ normal) * normal  # at height 0 (the apex)
    cols = int(round(scan.fov_mm / scan.pixel_mm))
    rows = int(round(scan.fov_mm * scan.phase_fov / scan.pixel_mm))
    px = scan.pixel_mm
    offset = rng.uniform(-15, 15, 2)
    c0 = line_point + h0 * normal + offset[0] * u_dir + offset[1] * v_dir
    origin = c0 - 0.5 * (cols - 1) * px * u_dir - 0.5 * (rows - 1) * px * v_dir
    ijk_to_ras = np.eye(4)
    ijk_to_ras[:3, 0], ijk_to_ras[:3, 1], ijk_to_ras[:3, 2], ijk_to_ras[:3, 3] = u_dir * px, v_dir * px, k_dir * sp, origin
    shifts = np.clip(rng.normal(size=(n_slices, 3)) * np.array([0.4, 0.5, 1.0]) * scan.breath_hold_mm, -6, 6)
    return MRDraw(p, tables, scan, axes, mid_centre, apex, normal, ijk_to_ras, rows, cols, n_slices, float(h0), shifts, rng)


def generate_mr(seed: int, **overrides: Any) -> IndependentCase:
    """A short-axis cine MR case of an independently modelled heart.

    Args:
        seed: random seed (same seed and overrides, same case).
        overrides: any :class:`~cardiacmotion.independent.anatomy.HeartParams` or :class:`MRScan`
            field, e.g. ``pathology='dilated'``, ``base_descent_mm=15``, ``slice_spacing_mm=8``.
    Returns:
        The case; ``truth`` volumes are the label maps' own disc-summation values.
    """
    d = draw_mr(seed, **overrides)
    p, tables, scan, axes, mid_centre, apex = d.heart, d.tables, d.scan, d.axes, d.mid_centre, d.apex
    normal, ijk_to_ras, rows, cols, n_slices, h0, shifts, rng = (
        d.normal, d.ijk_to_ras, d.rows, d.cols, d.n_slices, d.h0, d.shifts, d.rng)
    e_long = axes[:, 2]
    k_dir = -normal
    u_dir, v_dir = ijk_to_ras[:3, 0] / scan.pixel_mm, ijk_to_ras[:3, 1] / scan.pixel_mm
    origin = ijk_to_ras[:3, 3]
    sp, px = scan.slice_spacing_mm, scan.pixel_mm
    body = sig.Body(
        centre=mid_centre + np.array([rng.uniform(35, 55), -rng.uniform(30, 45), 0.0]),
        semi_r=rng.uniform(140, 175), semi_a=rng.uniform(95, 125), subcut_fat=rng.uniform(6, 25),
        muscle=rng.uniform(7, 13), dome_s=0.0, heart_ras=mid_centre, stomach_gas=bool(rng.random() < 0.4),
    )
    # the diaphragm just under the inferior wall of the heart
    zz = np.linspace(0, tables.base_z, 12)
    ang = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    rad = float(tables.epi.max())
    pts = apex + zz[:, None, None] * e_long + rad * (np.cos(ang)[None, :, None] * axes[:, 0] + np.sin(ang)[None, :, None] * axes[:, 1])
    body.dome_s = float(pts[..., 2].min() - body.centre[2] - 14.0 * np.tanh((mid_centre[0] - body.centre[0]) / 70.0) - 3.0)
    coils = sig.place_coils(body, rng)
    signals = sig.tissue_signals(rng, scan.tr_ms, scan.flip_deg)

    rr = p.rr_ms
    taus = np.arange(scan.phases) / scan.phases
    states = [mo.phase_state(p, float(tau)) for tau in taus]
    cs = np.array([s.c for s in states])
    flow = np.abs(np.gradient(np.concatenate([cs[-1:], cs, cs[:1]])))[1:-1]
    flow = flow / max(flow.max(), 1e-6)

    image = np.zeros((scan.phases, n_slices, rows, cols), np.float32)
    labels = np.zeros((scan.phases, n_slices, rows, cols), np.uint8)
    half = int(np.ceil((rad + p.rv_depth_mm + 45.0) / px))
    ii, jj = np.meshgrid(np.arange(cols, dtype=np.float64), np.arange(rows, dtype=np.float64))
    w = (SUB_WEIGHTS / SUB_WEIGHTS.sum()).astype(np.float32)
    mr_of_anat = np.array([0, 1, 2, 3, 0], np.uint8)
    blood_lut = np.zeros(sig.N_TISSUES, bool)
    blood_lut[list(sig.BLOOD_CODES)] = True
    es_like = mo.phase_state(p, p.t_es)
    reach = rng.uniform(140, 220)
    for k in range(n_slices):
        centre_k = origin + k * sp * k_dir
        sub_pts = np.stack([
            centre_k + ((ii + du) * px)[..., None] * u_dir + ((jj + dv) * px)[..., None] * v_dir + off * normal + shifts[k]
            for off, (du, dv) in zip(SUB_OFFSETS * scan.slice_thickness_mm, SUB_JITTER)
        ])                                                            # [5, rows, cols, 3] anatomy positions
        body_t = body.tissue(sub_pts)
        body_s = signals[body_t]
        coil = sig.coil_sensitivity(sub_pts[2], coils, reach_mm=reach)
        static = np.tensordot(w, body_s, axes=1)
        # a box around the heart on this slice: the union of the heart at ED and at end-systole
        axis_ras = apex + e_long * (h0 - k * sp) / max(float(e_long @ normal), 0.3)
        axis_ijk = np.linalg.solve(ijk_to_ras[:3, :3], axis_ras - shifts[k] - origin)
        ci, cj = int(round(axis_ijk[0])), int(round(axis_ijk[1]))
        i0, i1 = max(ci - half, 0), min(ci + half + 1, cols)
        j0, j1 = max(cj - half, 0), min(cj + half + 1, rows)
        rel = sub_pts[:, j0:j1, i0:i1] - apex
        hx, hy, hz = (rel @ axes[:, 0]).astype(np.float32), (rel @ axes[:, 1]).astype(np.float32), (rel @ axes[:, 2]).astype(np.float32)
        mask = np.zeros(hx.shape[1:], bool)
        for st in (states[0], es_like):
            mask |= (mo.classify(hx, hy, hz, p, tables, st).tissue != mo.T_BODY).any(axis=0)
        for t in range(scan.phases):
            image[t, k] = static
        if not mask.any():
            continue
        jm, im = np.nonzero(mask)
        b0, b1 = max(jm.min() - 3, 0), min(jm.max() + 4, mask.shape[0])
        a0, a1 = max(im.min() - 3, 0), min(im.max() + 4, mask.shape[1])
        hx, hy, hz = hx[:, b0:b1, a0:a1], hy[:, b0:b1, a0:a1], hz[:, b0:b1, a0:a1]
        box = (slice(j0 + b0, j0 + b1), slice(i0 + a0, i0 + a1))
        body_box = body_t[:, box[0], box[1]]
        height_from_base = tables.base_z - float(hz[2].mean())
        inflow = scan.inflow * np.exp(-max(height_from_base, 0.0) / 30.0)
        for t, state in enumerate(states):
            res = mo.classify(hx, hy, hz, p, tables, state)
            tissue = np.where(res.tissue != mo.T_BODY, res.tissue, body_box)
            sub = signals[tissue] * np.where(blood_lut[tissue], np.float32(1 + inflow * (0.4 + 0.6 * flow[t])), np.float32(1))
            image[t, k][box] = np.tensordot(w, sub, axes=1)
            mr = mr_of_anat[res.anat]
            votes = np.stack([np.tensordot(w, (mr == lab).astype(np.float32), axes=1) for lab in range(4)])
            labels[t, k][box] = np.argmax(votes, axis=0)
        image[:, k] *= coil
    if scan.blur_px > 0:
        image = ndimage.gaussian_filter(image, (0, 0, scan.blur_px, scan.blur_px))
    blood_level = float(np.percentile(image[labels == 3], 75)) if (labels == 3).any() else float(image.max())
    image = sig.rician(image, blood_level / scan.snr, rng)
    image *= 1000.0 / max(blood_level, 1e-6)
    image = image.astype(np.float32)

    ft = taus * rr
    img = Cine(image, ijk_to_ras, ft, modality="MR", view="SAX")
    lab = img.with_array(labels)
    return _assemble_mr(img, lab, p, tables, scan, axes, apex, shifts, int(seed))


def _assemble_mr(img: Cine, lab: Cine, p: HeartParams, tables, scan: MRScan, axes: np.ndarray, apex: np.ndarray,
                 shifts: np.ndarray, seed: int) -> IndependentCase:
    """Truth from the labels themselves, the seed and the landmarks."""
    from cardiacmotion.function.volumes import label_volumes_ml, lv_mass_g

    lv = label_volumes_ml(lab, 3, lab.array)
    rv = label_volumes_ml(lab, 1, lab.array)
    myo = label_volumes_ml(lab, 2, lab.array)
    ed, es = int(np.argmax(lv)), int(np.argmin(lv))
    rv_ed, rv_es = int(np.argmax(rv)), int(np.argmin(rv))
    lv_slices = [[int(k) for k in np.flatnonzero((lab.array[t] == 3).any(axis=(1, 2)))] for t in range(img.phases)]
    ks = lv_slices[ed]
    seed_k = ks[len(ks) // 2]
    seed_arr = np.zeros((1,) + lab.array.shape[1:], np.uint8)
    seed_arr[0, seed_k] = lab.array[ed, seed_k]
    seed_cine = lab.with_array(seed_arr, frame_times_ms=img.frame_times_ms[ed:ed + 1])
    landmarks = _mr_landmarks(lab, ed, seed_k, axes, apex, shifts[seed_k])
    edv, esv = float(lv[ed]), float(lv[es])
    truth = {
        "generator": GENERATOR, "version": VERSION, "seed": seed, "modality": "MR", "view": "SAX",
        "ed_phase": ed, "es_phase": es, "seed_phase": ed, "seed_slice": int(seed_k),
        "frame_times_ms": img.frame_times_ms,
        "lv_volume_ml": lv, "lv_edv_ml": edv, "lv_esv_ml": esv, "lv_sv_ml": edv - esv,
        "lv_ef_pct": (edv - esv) / edv * 100.0 if edv > 0 else None,
        "lv_myocardium_ed_ml": float(myo[ed]), "lv_mass_g": lv_mass_g(float(myo[ed])),
        "rv_volume_ml": rv, "rv_edv_ml": float(rv[rv_ed]), "rv_esv_ml": float(rv[rv_es]),
        "rv_ef_pct": (rv[rv_ed] - rv[rv_es]) / rv[rv_ed] * 100.0 if rv[rv_ed] > 0 else None,
        "wall_motion": {str(i + 1): int(v) for i, v in enumerate(p.wall_motion)},
        "wall_motion_names": {str(i + 1): n for i, n in enumerate(SEGMENT_NAMES)},
        "pathology": p.pathology,
        "base_descent_mm": p.base_descent_mm, "apex_motion_mm": p.apex_motion_mm,
        "slice_spacing_mm": scan.slice_spacing_mm, "slice_thickness_mm": scan.slice_thickness_mm,
        "pixel_mm": scan.pixel_mm, "stack_tilt_deg": scan.tilt_deg, "breath_hold_shifts_mm": shifts,
        "lv_cavity_slices": lv_slices, "rr_ms": p.rr_ms, "snr": scan.snr,
        "heart_parameters": {f.name: getattr(p, f.name) for f in fields(HeartParams)},
        "note": "evaluation only: never train or tune on this generator",
    }
    return IndependentCase(image=img, labels=lab, seed=seed_cine, seed_phase=ed, landmarks=landmarks, truth=truth)


def _mr_landmarks(lab: Cine, ed: int, k: int, axes: np.ndarray, apex: np.ndarray, shift: np.ndarray) -> dict[str, np.ndarray]:
    """LV centre and the two RV insertion points on the seed slice at ED, from the labels."""
    sl = lab.array[ed, k]
    j, i = np.nonzero(sl == 3)
    centre = lab.ijk_to_ras_points(np.array([[i.mean(), j.mean(), k]]))[0]
    out = {}
    jr, ir = np.nonzero(sl == 1)
    if ir.size:
        ras = lab.ijk_to_ras_points(np.stack([ir, jr, np.full(ir.shape, k)], axis=1).astype(np.float64))
        d = ras - centre  # the breath-hold shift moves both alike
        psi = np.arctan2(d @ axes[:, 1], d @ axes[:, 0])
        order = np.argsort(psi)
        n = max(1, min(3, order.size // 20))
        out["RV anterior insertion"] = ras[order[-n:]].mean(axis=0)
        out["RV inferior insertion"] = ras[order[:n]].mean(axis=0)
    out["LV center"] = centre
    return out
