"""Apical echocardiography (A4C / A2C) from the independent heart: scatterers, PSF, envelope, log.

Image formation, per frame: the sector is sampled on a polar grid (depth x beam angle); every
sample gets a tissue reflectivity (myocardium with an angle-dependent specular term, so walls
parallel to the beam drop out; weak blood; bright pericardium/fat; a textured background) times a
complex Gaussian scatterer amplitude looked up in a fixed random field at the sample's *material*
(end-diastolic) coordinates, so the speckle moves with the myocardium while blood decorrelates.
The complex field is convolved with an anisotropic Gaussian PSF (short axially, wider laterally),
the envelope is detected, near-field clutter, shadowing and an imperfect depth gain are applied,
then log compression and scan conversion to a Cartesian grid. Labels (CAMUS: 1 LV cavity,
2 myocardium, 3 left atrium) are the anatomy at every Cartesian pixel centre of every frame.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from scipy import ndimage

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.independent import motion as mo
from cardiacmotion.independent.anatomy import SEGMENT_NAMES, HeartParams, HeartTables, build_tables, sample_heart
from cardiacmotion.independent.case import GENERATOR, VERSION, IndependentCase
from cardiacmotion.independent.mr import heart_pose

VIEWS = ("A4C", "A2C")
N_DISCS = 20
ECHO_OF_ANAT = np.array([0, 0, 2, 1, 3], np.uint8)  # RV -> 0, myocardium 2, LV 1, LA 3


@dataclass
class EchoScan:
    """Acquisition parameters (mm, degrees, Hz, dB)."""

    pixel_mm: float = 0.55
    depth_mm: float = 150.0
    half_angle_deg: float = 38.0
    fps: float = 45.0
    cycles: float = 1.3
    start_tau: float = 0.0            # cycle fraction of the first frame
    view_angle_jitter_deg: float = 0.0
    axis_tilt_deg: float = 0.0        # LV long axis vs the sector axis, in plane
    probe_offset_mm: float = 0.0      # probe position across the apex
    standoff_mm: float = 14.0         # probe to epicardial apex
    beams: int = 160
    axial_psf_mm: float = 0.4
    lateral_psf_mm: float = 1.4
    dynamic_range_db: float = 55.0
    clutter: float = 0.3
    dropout: float = 0.5


def sample_echo_scan(rng: np.random.Generator, heart_seed: int, **overrides: Any) -> EchoScan:
    """Draw echo acquisition parameters; ``overrides`` replace :class:`EchoScan` fields."""
    u = rng.uniform
    s = EchoScan()
    s.pixel_mm = u(0.45, 0.7)
    s.depth_mm = u(135, 170)
    s.half_angle_deg = u(34, 42)
    # the clip timing comes from the heart's own stream: both views of a seed share it (biplane pairs)
    timing = np.random.default_rng([int(heart_seed), 25])
    s.fps = timing.uniform(30, 60)
    s.cycles = timing.uniform(1.0, 2.0)
    s.start_tau = timing.uniform(0.0, 1.0)
    s.view_angle_jitter_deg = u(-8, 8)
    s.axis_tilt_deg = u(-10, 10)
    s.probe_offset_mm = u(-6, 6)
    s.standoff_mm = u(15, 30)
    s.beams = int(rng.integers(128, 192))
    s.axial_psf_mm = u(0.3, 0.55)
    s.lateral_psf_mm = u(1.0, 2.0)
    s.dynamic_range_db = u(45, 62)
    s.clutter = u(0.1, 0.6)
    s.dropout = u(0.2, 0.8)
    for k, v in overrides.items():
        setattr(s, k, v)
    return s


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@dataclass
class _Geometry:
    probe: np.ndarray      # RAS
    axial: np.ndarray      # unit sector axis (into the body)
    lateral: np.ndarray    # unit in-plane image column direction
    view_dir: np.ndarray   # unit in-plane direction across the LV (heart frame angle phi)
    phi: float             # heart-frame angle of the view direction (rad)
    ijk_to_ras: np.ndarray
    rows: int
    cols: int


def _geometry(view: str, p: HeartParams, t: HeartTables, axes: np.ndarray, apex: np.ndarray, s: EchoScan) -> _Geometry:
    e_sep, e_ant, e_long = axes[:, 0], axes[:, 1], axes[:, 2]
    # A4C cuts the inferoseptum and the anterolateral wall; A2C the anterior and inferior walls
    phi = np.radians((-22.0 if view == "A4C" else 100.0) + s.view_angle_jitter_deg)
    view_dir = np.cos(phi) * e_sep + np.sin(phi) * e_ant
    # image columns run towards the lateral wall (A4C) or the anterior wall (A2C)
    across = -view_dir if view == "A4C" else view_dir
    tilt = np.radians(s.axis_tilt_deg)
    axial = _unit(np.cos(tilt) * e_long + np.sin(tilt) * across)
    lateral = _unit(across - (across @ axial) * axial)
    probe = apex - axial * s.standoff_mm + lateral * s.probe_offset_mm
    px = s.pixel_mm
    half = np.radians(s.half_angle_deg)
    rows = int(np.ceil(s.depth_mm / px)) + 1
    half_cols = int(np.ceil(s.depth_mm * np.sin(half) / px)) + 2
    cols = 2 * half_cols + 1
    normal = np.cross(lateral, axial)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2] = lateral * px, axial * px, normal * 1.0
    m[:3, 3] = probe - lateral * px * half_cols
    return _Geometry(probe, axial, lateral, view_dir, float(phi), m, rows, cols)


def generate_echo(seed: int, view: str = "A4C", **overrides: Any) -> IndependentCase:
    """An apical echo clip of an independently modelled heart.

    Args:
        seed: random seed (same seed, view and overrides, same clip). The heart of a seed is the
            same in both views, so A4C + A2C of one seed make a biplane pair.
        view: ``'A4C'`` or ``'A2C'``.
        overrides: any :class:`~cardiacmotion.independent.anatomy.HeartParams` or :class:`EchoScan` field.
    Returns:
        The case; ``truth`` volumes are the method of discs on its own labels and landmarks.
    """
    view = view.upper()
    if view not in VIEWS:
        raise InputError(f"unknown echo view {view!r} (expected A4C or A2C)")
    heart_names = {f.name for f in fields(HeartParams)}
    scan_names = {f.name for f in fields(EchoScan)}
    unknown = set(overrides) - heart_names - scan_names
    if unknown:
        raise InputError(f"unknown generator parameter(s): {', '.join(sorted(unknown))}")
    rng = np.random.default_rng([int(seed), 20])  # the same heart as generate_mr(seed)
    p = sample_heart(rng, **{k: v for k, v in overrides.items() if k in heart_names})
    tables = build_tables(p, rng)
    axes, mid_centre = heart_pose(np.random.default_rng([int(seed), 21]))
    apex = mid_centre - axes[:, 2] * 0.5 * tables.base_z
    srng = np.random.default_rng([int(seed), 22, VIEWS.index(view)])
    scan = sample_echo_scan(srng, int(seed), **{k: v for k, v in overrides.items() if k in scan_names})
    # the whole LV and atrium inside the sector
    scan.depth_mm = max(scan.depth_mm, scan.standoff_mm + tables.base_z + 2.3 * p.la_radius_mm + 5.0)
    need = np.degrees(np.arctan2(float(tables.epi.max()) + 6.0, scan.standoff_mm + 0.75 * tables.base_z)) + abs(scan.axis_tilt_deg)
    scan.half_angle_deg = float(min(max(scan.half_angle_deg, need), 45.0))
    g = _geometry(view, p, tables, axes, apex, scan)

    period = p.rr_ms
    n_frames = int(round(scan.cycles * period / 1000.0 * scan.fps))
    n_frames = max(int(np.ceil(period / 1000.0 * scan.fps)) + 1, min(n_frames, 90))
    times = np.arange(n_frames) * 1000.0 / scan.fps
    taus = scan.start_tau + times / period
    states = [mo.phase_state(p, float(tau)) for tau in taus]

    # Cartesian pixel centres in the heart frame (labels)
    jj, ii = np.meshgrid(np.arange(g.rows, dtype=np.float64), np.arange(g.cols, dtype=np.float64), indexing="ij")
    ras = g.ijk_to_ras[:3, 3] + ii[..., None] * g.ijk_to_ras[:3, 0] + jj[..., None] * g.ijk_to_ras[:3, 1]
    hx, hy, hz = _heart_frame(ras, apex, axes)
    # polar samples (image formation)
    dr = 0.3
    radii = np.arange(int(scan.depth_mm / dr)) * dr + dr / 2
    half = np.radians(scan.half_angle_deg)
    angles = np.linspace(-half, half, scan.beams)
    pol = g.probe + radii[:, None, None] * (np.cos(angles)[None, :, None] * g.axial + np.sin(angles)[None, :, None] * g.lateral)
    px_, py_, pz_ = _heart_frame(pol, apex, axes)
    beam_dir = np.stack([np.cos(angles)[None, :] * (g.axial @ axes[:, c]) + np.sin(angles)[None, :] * (g.lateral @ axes[:, c])
                         for c in range(3)], axis=-1)           # unit beam direction in the heart frame, [1, beams, 3]

    lattice = _Lattice(rng=np.random.default_rng([int(seed), 23, VIEWS.index(view)]))
    texture = ndimage.gaussian_filter(srng.random((64, 64)), 3.0)
    texture = 0.6 + 0.8 * (texture - texture.min()) / (np.ptp(texture) + 1e-9)
    shadow = _shadow_mask(srng, angles, radii, scan)
    gain = np.exp(srng.uniform(-0.004, 0.004) * radii)[:, None]
    frames = np.zeros((n_frames, 1, g.rows, g.cols), np.float32)
    labels = np.zeros((n_frames, 1, g.rows, g.cols), np.uint8)
    noise_rng = np.random.default_rng([int(seed), 24, VIEWS.index(view)])
    lat_mm = (ii - (g.cols - 1) / 2) * scan.pixel_mm
    in_sector = (np.abs(np.arctan2(lat_mm, jj * scan.pixel_mm)) <= half) & (np.hypot(lat_mm, jj * scan.pixel_mm) <= scan.depth_mm)
    near_lab = _near_heart(hx, hy, hz, p, tables)
    near_pol = _near_heart(px_, py_, pz_, p, tables)
    for f, st in enumerate(states):
        anat = np.zeros(hx.shape, np.uint8)
        anat[near_lab] = mo.classify(hx[near_lab], hy[near_lab], hz[near_lab], p, tables, st).anat
        labels[f, 0] = ECHO_OF_ANAT[anat] * in_sector  # what lies outside the sector is not seen
        c = _classify_near(px_, py_, pz_, near_pol, p, tables, st)
        refl = _reflectivity(c, px_, py_, beam_dir, texture, radii)
        amp = lattice.sample(c, g.phi, px_, py_, pz_, noise_rng)
        field = refl * amp
        env = np.abs(_psf(field, dr, angles, radii, scan))
        env = env * shadow * gain + scan.clutter * np.exp(-radii / 18.0)[:, None] * np.abs(lattice.haze(noise_rng, env.shape))
        frames[f, 0] = _scan_convert(env, g, radii, angles, scan)
    ft = times
    img = Cine(frames, g.ijk_to_ras, ft, modality="US", view=view)
    labc = img.with_array(labels)
    return _assemble_echo(img, labc, p, tables, g, states, axes, apex, scan, int(seed), view)


def _near_heart(x, y, z, p: HeartParams, t: HeartTables) -> np.ndarray:
    """Points that can hold heart tissue at some moment (the rest is background all along)."""
    reach = float(t.epi.max()) + p.rv_depth_mm + 40.0
    return (np.hypot(x, y) < reach) & (z > -5.0) & (z < t.base_z + 2.5 * p.la_radius_mm + 20.0)


def _classify_near(x, y, z, near: np.ndarray, p: HeartParams, t: HeartTables, st: mo.PhaseState) -> mo.Classified:
    """:func:`motion.classify` with material coordinates on ``near`` points; background elsewhere."""
    c = mo.classify(x[near], y[near], z[near], p, t, st, material=True)
    anat = np.zeros(x.shape, np.uint8)
    tissue = np.zeros(x.shape, np.uint8)
    rho_ref = np.hypot(x, y)
    psi_ref = np.arctan2(y, x)
    z_ref = np.array(z, copy=True)
    anat[near], tissue[near], rho_ref[near], psi_ref[near], z_ref[near] = c.anat, c.tissue, c.rho_ref, c.psi_ref, c.z_ref
    return mo.Classified(anat=anat, tissue=tissue, rho_ref=rho_ref, psi_ref=psi_ref, z_ref=z_ref)


def _heart_frame(ras: np.ndarray, apex: np.ndarray, axes: np.ndarray):
    rel = ras - apex
    return tuple((rel @ axes[:, c]).astype(np.float32) for c in range(3))


class _Lattice:
    """Fixed complex Gaussian scatterer amplitudes indexed by material coordinates."""

    def __init__(self, rng: np.random.Generator, size: int = 1024, step: float = 0.2) -> None:
        self.step = step
        self.size = size
        self.field = (rng.standard_normal((size, size)) + 1j * rng.standard_normal((size, size))).astype(np.complex64) / np.sqrt(2)

    def _at(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ia = np.floor(a / self.step).astype(np.intp) % self.size
        ib = np.floor(b / self.step).astype(np.intp) % self.size
        return self.field[ia, ib]

    def sample(self, c: mo.Classified, phi: float, x, y, z, rng: np.random.Generator) -> np.ndarray:
        # tissue: material coordinates (in-plane lateral coordinate and height at ED); body: fixed space
        u_ref = c.rho_ref * np.cos(c.psi_ref - phi)
        heart = c.tissue != mo.T_BODY
        amp = np.where(heart, self._at(u_ref + 300.0, c.z_ref + 100.0), self._at(x * 0.7 + y * 0.7 + 50.0, z + 700.0))
        blood = np.isin(c.tissue, (mo.T_LV_BLOOD, mo.T_RV_BLOOD, mo.T_LA_BLOOD, mo.T_OTHER_BLOOD))
        fresh = (rng.standard_normal(amp.shape) + 1j * rng.standard_normal(amp.shape)).astype(np.complex64) / np.sqrt(2)
        return np.where(blood, fresh, amp)

    def haze(self, rng: np.random.Generator, shape) -> np.ndarray:
        return ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), (3, 1))


REFLECT = {
    mo.T_BODY: 0.45, mo.T_LV_BLOOD: 0.01, mo.T_MYO: 1.0, mo.T_RV_BLOOD: 0.01, mo.T_LA_BLOOD: 0.01,
    mo.T_FAT: 1.6, mo.T_TRAB: 0.8, mo.T_WALL: 1.1, mo.T_OTHER_BLOOD: 0.01,
}
_REFLECT_LUT = np.array([REFLECT[k] for k in range(9)], np.float32)


def _reflectivity(c: mo.Classified, x, y, beam_dir: np.ndarray, texture: np.ndarray, radii: np.ndarray) -> np.ndarray:
    r = _REFLECT_LUT[c.tissue]
    # specular term: a wall seen face-on (radial normal along the beam) echoes more than one seen edge-on
    rho = np.maximum(np.hypot(x, y), 1e-3)
    cos_inc = np.abs((x * beam_dir[..., 0] + y * beam_dir[..., 1]) / rho)
    wall = np.isin(c.tissue, (mo.T_MYO, mo.T_WALL))
    r = np.where(wall, r * (0.45 + 0.9 * cos_inc), r)
    body = c.tissue == mo.T_BODY
    ti = (np.clip(radii / radii[-1], 0, 0.999)[:, None] * texture.shape[0]).astype(int)
    tj = (np.linspace(0, 0.999, x.shape[1])[None, :] * texture.shape[1]).astype(int)
    r = np.where(body, r * texture[ti, tj], r)
    # the chest wall next to the probe
    r = np.where(radii[:, None] < 12.0, np.maximum(r, 1.2), r)
    return r.astype(np.float32)


def _psf(field: np.ndarray, dr: float, angles: np.ndarray, radii: np.ndarray, s: EchoScan) -> np.ndarray:
    """Anisotropic Gaussian PSF on the polar grid: axial in samples, lateral as a beam-width angle."""
    d_angle = float(angles[1] - angles[0])
    sig_ax = s.axial_psf_mm / dr
    sig_lat = s.lateral_psf_mm / 70.0 / d_angle  # beam width at a mid depth, as an angle
    re = ndimage.gaussian_filter(field.real, (sig_ax, sig_lat))
    im = ndimage.gaussian_filter(field.imag, (sig_ax, sig_lat))
    return re + 1j * im


def _shadow_mask(rng: np.random.Generator, angles: np.ndarray, radii: np.ndarray, s: EchoScan) -> np.ndarray:
    """Rib/lung shadowing: a band of beams attenuated beyond some depth (on some clips)."""
    mask = np.ones((radii.size, angles.size), np.float32)
    if rng.random() < s.dropout:
        centre = rng.uniform(angles[0], angles[-1])
        width = rng.uniform(0.05, 0.15)
        band = np.exp(-0.5 * ((angles - centre) / width) ** 2)
        start = rng.uniform(20, 60)
        mask *= 1 - rng.uniform(0.4, 0.8) * band[None, :] * (radii[:, None] > start)
    return mask


def _scan_convert(env: np.ndarray, g: _Geometry, radii: np.ndarray, angles: np.ndarray, s: EchoScan) -> np.ndarray:
    ref = np.percentile(env, 99.5) + 1e-9
    db = 20 * np.log10(np.maximum(env / ref, 1e-6))
    img = np.clip((db + s.dynamic_range_db) / s.dynamic_range_db, 0, 1) * 255.0
    jj, ii = np.meshgrid(np.arange(g.rows), np.arange(g.cols), indexing="ij")
    lat = (ii - (g.cols - 1) / 2) * s.pixel_mm
    ax = jj * s.pixel_mm
    r = np.hypot(lat, ax)
    th = np.arctan2(lat, ax)
    ri = (r - radii[0]) / (radii[1] - radii[0])
    ti = (th - angles[0]) / (angles[1] - angles[0])
    out = ndimage.map_coordinates(img, [ri, ti], order=1, mode="constant", cval=0.0)
    inside = (ti >= 0) & (ti <= angles.size - 1) & (ri <= radii.size - 1)
    return np.where(inside, out, 0.0).astype(np.float32)


def _annulus_and_apex(p: HeartParams, t: HeartTables, st: mo.PhaseState, psi_side: float, axes, apex) -> tuple[np.ndarray, np.ndarray]:
    """RAS of the endocardial apex and of the mitral hinge point seen at angle ``psi_side``."""
    from cardiacmotion.independent.anatomy import DZ, psi_index

    s_l = (t.base_z - st.descent - st.apex) / t.base_z
    tip = apex + axes[:, 2] * (st.apex + p.wall_apex_mm * s_l)
    psi_ref = psi_side + np.radians(st.c * p.twist_base_deg)
    ip = int(psi_index(np.array([psi_ref]))[0])
    zb_ref = float(t.base[ip])
    iz = int(np.clip(np.rint((zb_ref - DZ - t.z0) / DZ), 0, t.nz - 1))
    r = float(t.endo[ip, iz]) * max(1 - t.radial_fraction * st.c * float(t.motion[ip, iz]), 0.05)
    z = st.apex + zb_ref * s_l if zb_ref <= t.base_z else zb_ref - st.descent
    hinge = apex + r * (np.cos(psi_side) * axes[:, 0] + np.sin(psi_side) * axes[:, 1]) + z * axes[:, 2]
    return tip, hinge


def discs_volume_ml(cavity: np.ndarray, ijk_to_ras: np.ndarray, base: np.ndarray, tip: np.ndarray, n: int = N_DISCS) -> float:
    """Single-plane method of discs on a label raster: ``pi/4 sum(d^2) L/n``, widths measured at
    the disc mid-levels along the perpendicular, each fine sample taking the label of its pixel."""
    ci, cj = ijk_to_ras[:3, 0], ijk_to_ras[:3, 1]
    px = float(np.linalg.norm(ci))
    e1, e2 = ci / px, cj / np.linalg.norm(cj)
    origin = ijk_to_ras[:3, 3]
    b = np.array([(base - origin) @ e1, (base - origin) @ e2])
    a = np.array([(tip - origin) @ e1, (tip - origin) @ e2])
    length = float(np.linalg.norm(a - b))
    if length <= 0 or not cavity.any():
        return 0.0
    axis = (a - b) / length
    perp = np.array([-axis[1], axis[0]])
    step = px / 40.0
    jc, ic = np.nonzero(cavity)
    across = (np.stack([ic, jc], axis=1) * px - b) @ perp  # sample only across the cavity (plus a margin)
    r = np.arange(across.min() - 2 * px, across.max() + 2 * px, step) + step / 2
    centres = b + np.outer((np.arange(n) + 0.5) / n * length, axis)
    pts = centres[:, None, :] + r[None, :, None] * perp
    i = np.rint(pts[..., 0] / px).astype(np.intp)
    j = np.rint(pts[..., 1] / px).astype(np.intp)
    ok = (i >= 0) & (i < cavity.shape[1]) & (j >= 0) & (j < cavity.shape[0])
    inside = np.zeros(ok.shape, bool)
    inside[ok] = cavity[j[ok], i[ok]]
    d = inside.sum(axis=1) * step
    return float(np.pi / 4 * np.sum(d * d) * length / n / 1000.0)


def _assemble_echo(img: Cine, lab: Cine, p: HeartParams, t: HeartTables, g: _Geometry, states, axes, apex,
                   scan: EchoScan, seed: int, view: str) -> IndependentCase:
    sides = {"septal": g.phi, "lateral": g.phi + np.pi} if view == "A4C" else {"lateral": g.phi, "septal": g.phi + np.pi}
    per_frame = {"Apex": [], "Mitral annulus septal": [], "Mitral annulus lateral": []}
    volumes, volumes_3d = [], []
    for f, st in enumerate(states):
        tip, sep = _annulus_and_apex(p, t, st, sides["septal"], axes, apex)
        _, lat = _annulus_and_apex(p, t, st, sides["lateral"], axes, apex)
        per_frame["Apex"].append(tip)
        per_frame["Mitral annulus septal"].append(sep)
        per_frame["Mitral annulus lateral"].append(lat)
        volumes.append(discs_volume_ml(lab.array[f, 0] == 1, lab.ijk_to_ras, 0.5 * (sep + lat), tip))
        volumes_3d.append(mo.cavity_volume_ml(p, t, st))
    per_frame = {k: np.array(v) for k, v in per_frame.items()}
    lv = np.array(volumes)
    ed, es = int(np.argmax(lv)), int(np.argmin(lv))
    seed_cine = lab.with_array(lab.array[ed:ed + 1].copy(), frame_times_ms=img.frame_times_ms[ed:ed + 1])
    landmarks = {k: v[ed] for k, v in per_frame.items()}
    edv, esv = float(lv[ed]), float(lv[es])
    v3 = np.array(volumes_3d)
    truth = {
        "generator": GENERATOR, "version": VERSION, "seed": seed, "modality": "US", "view": view,
        "ed_phase": ed, "es_phase": es, "seed_phase": ed, "frame_times_ms": img.frame_times_ms,
        "lv_volume_ml": lv, "lv_edv_ml": edv, "lv_esv_ml": esv, "lv_sv_ml": edv - esv,
        "lv_ef_pct": (edv - esv) / edv * 100.0 if edv > 0 else None,
        "volume_method": "single-plane method of discs (20) on the labels, long axis from the landmarks per frame",
        "lv_volume_3d_ml": v3, "lv_ef_3d_pct": float((v3.max() - v3.min()) / v3.max() * 100.0),
        "landmarks_per_frame": per_frame,
        "wall_motion": {str(i + 1): int(v) for i, v in enumerate(p.wall_motion)},
        "wall_motion_names": {str(i + 1): n for i, n in enumerate(SEGMENT_NAMES)},
        "pathology": p.pathology, "base_descent_mm": p.base_descent_mm,
        "pixel_mm": scan.pixel_mm, "fps": scan.fps, "cycles": scan.cycles, "rr_ms": p.rr_ms,
        "depth_mm": scan.depth_mm, "sector_half_angle_deg": scan.half_angle_deg,
        "heart_parameters": {f.name: getattr(p, f.name) for f in fields(HeartParams)},
        "note": "evaluation only: never train or tune on this generator",
    }
    return IndependentCase(image=img, labels=lab, seed=seed_cine, seed_phase=ed, landmarks=landmarks, truth=truth)
