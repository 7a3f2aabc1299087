"""Motion of the independent heart and point classification at any moment of the cycle.

The cycle is driven by a contraction curve ``c(tau)`` (0 at ED, 1 at ES, ``tau`` the fraction of the
RR interval) with isovolumic contraction, front-loaded ejection, isovolumic relaxation, rapid
filling, diastasis and an atrial kick. Tissue moves by three fields written as a *pull-back* from
the current position to the ED reference: long-axis shortening (base descent, apex almost fixed;
the atria translate with the base), torsion (apex and base rotating in opposite senses) and
regional radial motion of the endocardium (per AHA segment: normal, hypokinetic, akinetic,
dyskinetic) with the wall thickness following from incompressibility.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cardiacmotion.independent.anatomy import HeartParams, HeartTables, psi_index

# anatomical classes
A_NONE, A_RV, A_MYO, A_LV, A_LA = 0, 1, 2, 3, 4
# tissue classes (the image models give each its own signal)
T_BODY, T_LV_BLOOD, T_MYO, T_RV_BLOOD, T_LA_BLOOD, T_FAT, T_TRAB, T_WALL, T_OTHER_BLOOD = range(9)


def contraction_curve(tau: np.ndarray, p: HeartParams) -> np.ndarray:
    """``c(tau)``: 0 at ED (tau = 0), 1 at end-systole; periodic in ``tau``."""
    tau = np.mod(np.asarray(tau, dtype=np.float64), 1.0)
    t_ivc = 0.04
    x = np.clip((tau - t_ivc) / (p.t_es - t_ivc), 0, 1)
    systole = 0.5 - 0.5 * np.cos(np.pi * x**0.8)  # faster early ejection
    t_fill = p.t_es + p.t_ivr
    t_a = 0.82
    t_e = min(0.18, max(0.06, t_a - t_fill - 0.02))
    xe = np.clip((tau - t_fill) / t_e, 0, 1)
    early = p.e_fraction * (0.5 - 0.5 * np.cos(np.pi * xe))
    slow = 0.05 * np.clip((tau - t_fill - t_e) / max(t_a - t_fill - t_e, 1e-3), 0, 1) * (1 - p.e_fraction)
    xa = np.clip((tau - t_a) / 0.15, 0, 1)
    before_a = 1 - early - slow
    atrial = before_a * (0.5 + 0.5 * np.cos(np.pi * xa))
    return np.where(tau <= p.t_es, systole, np.where(tau < t_a, before_a, atrial))


@dataclass
class PhaseState:
    """Scalars of one moment of the cycle."""

    c: float          # radial contraction 0..1
    cl: float         # long-axis contraction 0..1
    descent: float    # base descent (mm)
    apex: float       # apex displacement towards the base (mm)


def phase_state(p: HeartParams, tau: float) -> PhaseState:
    c = float(contraction_curve(np.array([tau]), p)[0])
    cl = c**0.9
    return PhaseState(c=c, cl=cl, descent=p.base_descent_mm * cl, apex=p.apex_motion_mm * cl)


def _ellipsoid(x, y, z, centre, axes) -> np.ndarray:
    return ((x - centre[0]) / axes[0]) ** 2 + ((y - centre[1]) / axes[1]) ** 2 + ((z - centre[2]) / axes[2]) ** 2


def _tube(x, y, z, start, direction, radius_fn, length) -> tuple[np.ndarray, np.ndarray]:
    """(inside, distance outside the wall) of a tube along ``direction`` from ``start``."""
    d = np.asarray(direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    px, py, pz = x - start[0], y - start[1], z - start[2]
    s = px * d[0] + py * d[1] + pz * d[2]
    perp = np.sqrt(np.maximum(px * px + py * py + pz * pz - s * s, 0))
    r = radius_fn(s)
    along = (s >= 0) & (s <= length)
    return along & (perp < r), np.where(along, perp - r, np.inf)


@dataclass
class Classified:
    """Per-point results of :func:`classify`."""

    anat: np.ndarray      # uint8 anatomical class (A_*)
    tissue: np.ndarray    # uint8 tissue class (T_*)
    rho_ref: np.ndarray   # material (ED) radial coordinate
    psi_ref: np.ndarray   # material angle (rad)
    z_ref: np.ndarray     # material height


def classify(x: np.ndarray, y: np.ndarray, z: np.ndarray, p: HeartParams, t: HeartTables, s: PhaseState,
             material: bool = False) -> Classified:
    """Classify heart-frame points (mm) at the moment ``s`` of the cycle (``material``: also the ED coordinates)."""
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.float32)
    z = np.asarray(z, np.float32)
    zb_c = t.base_z
    rho = np.hypot(x, y)
    psi = np.arctan2(y, x)
    # long-axis pull-back: linear stretch between apex and base, translation above the base
    s_l = (zb_c - s.descent - s.apex) / zb_c
    zr = np.where(z <= zb_c - s.descent, (z - s.apex) / s_l, z + s.descent)
    frac = np.clip(zr / zb_c, 0, 1)
    twist = np.radians(s.c * (p.twist_apex_deg * (1 - frac) - p.twist_base_deg * frac))
    psr = psi - twist
    ip = psi_index(psr)
    iz = t.zi(zr)
    g = t.stacked()[ip * t.nz + iz]  # one gather of every (psi, z) table
    re0, rp0, k, trab_depth, d0, fat_mm = (g[..., c] for c in range(6))
    zb = t.base[ip]
    r_endo = re0 * np.maximum(1 - t.radial_fraction * s.c * k, 0.05)
    wall_area = (rp0 * rp0 - re0 * re0) * (1 + (1 / s_l - 1) * np.maximum(k, 0))
    r_epi = np.sqrt(r_endo * r_endo + wall_area)

    anat = np.zeros(rho.shape, np.uint8)
    tissue = np.zeros(rho.shape, np.uint8)
    below = (zr <= zb) & (zr >= 0)
    lv = below & (rho < r_endo)
    myo = below & ~lv & (rho < r_epi)
    anat[lv], tissue[lv] = A_LV, T_LV_BLOOD
    anat[myo], tissue[myo] = A_MYO, T_MYO
    # trabeculae and papillary muscles: myocardial signal, cavity label
    trab = lv & (rho > r_endo - trab_depth)
    pm_r = t.pm_radius[iz] * (1 + 0.25 * s.c)
    for j, ang in enumerate(p.pm_angles_deg):
        a = np.radians(ang) + twist
        rc = t.pm_endo[j, iz] * (1 - t.radial_fraction * s.c * k) - 0.9 * pm_r - 0.5
        trab |= lv & ((x - rc * np.cos(a)) ** 2 + (y - rc * np.sin(a)) ** 2 < pm_r * pm_r)
    tissue[trab] = T_TRAB

    # RV crescent: free wall moves towards the septum; the tricuspid plane descends further
    rv_top = t.rv_top[ip] - p.rv_extra_descent_mm * s.cl
    depth = d0 * (1 - p.rv_fraction * s.c)
    rv_out = r_epi + depth
    free = anat == A_NONE
    rv_region = free & (depth > 0) & (zr >= 0) & (zr <= rv_top) & (rho >= r_epi) & (rho < rv_out)
    rv_cav = rv_region & (rho < rv_out - p.rv_wall_mm * (1 + 0.3 * s.c))
    anat[rv_cav], tissue[rv_cav] = A_RV, T_RV_BLOOD
    tissue[rv_region & ~rv_cav] = T_WALL

    # atria and great vessels above the base (material coordinates: they ride on the base)
    cand = (anat == A_NONE) & (tissue == 0) & (zr > zb_c - 8.0 - p.base_tilt_mm)
    if cand.any():
        idx = np.nonzero(cand)
        at, ti = _atria(x[idx], y[idx], zr[idx], zb[idx], rho[idx], p, t)
        anat[idx] = at
        tissue[idx] = ti

    # epicardial fat around both ventricles and in the atrioventricular groove
    r_out = np.where(d0 > 0, np.maximum(rv_out, r_epi), r_epi)
    fat = (tissue == 0) & (anat == A_NONE) & (zr >= -1.0) & (zr <= np.maximum(zb, rv_top) + 12.0) & (rho < r_out + fat_mm)
    tissue[fat] = T_FAT

    if not material:
        return Classified(anat=anat, tissue=tissue, rho_ref=None, psi_ref=None, z_ref=None)
    # material coordinates (used by the echo speckle so that it moves with the tissue)
    xi = np.clip((rho - r_endo) / np.maximum(r_epi - r_endo, 1e-3), 0, 1)
    rho_ref = np.where(myo, re0 + xi * (rp0 - re0),
                       np.where(lv, rho * re0 / np.maximum(r_endo, 1e-3), rho + (rp0 - r_epi)))
    return Classified(anat=anat, tissue=tissue, rho_ref=rho_ref, psi_ref=psr, z_ref=zr)


def _atria(x, y, zr, zb, rho, p: HeartParams, t: HeartTables) -> tuple[np.ndarray, np.ndarray]:
    """Classes of points near or above the base: left atrium, aortic root, right atrium, pulmonary trunk."""
    anat = np.zeros(x.shape, np.uint8)
    tissue = np.zeros(x.shape, np.uint8)
    zb_c = t.base_z
    above = zr > zb
    r_eb = t.base_endo_radius
    ra = np.radians(45.0)
    ao_start = (0.6 * r_eb * np.cos(ra), 0.6 * r_eb * np.sin(ra), zb_c - 6.0)
    ao_r = p.aorta_radius_mm
    in_ao, ao_gap = _tube(x, y, zr, ao_start, (0.35 * np.cos(ra + 0.1), 0.35 * np.sin(ra + 0.1), 1.0),
                          lambda u: ao_r * (1 + 0.22 * np.exp(-(((u - 12.0) / 7.0) ** 2))), 70.0)
    lr = p.la_radius_mm
    la_dir = np.radians(200.0)
    la_c = (0.25 * r_eb * np.cos(la_dir), 0.25 * r_eb * np.sin(la_dir), zb_c + 0.8 * lr)
    la_q = _ellipsoid(x, y, zr, la_c, (1.15 * lr, 0.95 * lr, lr))
    # the mitral vestibule: a funnel from the annulus into the atrium
    vestibule = (zr < zb + 14.0) & (rho < r_eb * (0.95 - 0.25 * np.clip((zr - zb) / 14.0, 0, 1)))
    in_la = ((la_q < 1) | vestibule) & ~in_ao
    la_wall = (la_q < (1 + 2.5 / lr) ** 2) & ~in_la & ~in_ao
    rr = 1.05 * lr
    ra_ang = np.radians(-30.0)
    ra_d = r_eb + p.wall_mm + 0.55 * rr
    ra_q = _ellipsoid(x, y, zr, (ra_d * np.cos(ra_ang), ra_d * np.sin(ra_ang), zb_c + 0.6 * rr), (rr, 0.9 * rr, 1.1 * rr))
    pa_ang = t.ins_ant - 0.35
    pa_base = (r_eb + p.wall_mm + 0.5 * p.rv_depth_mm) * np.array([np.cos(pa_ang), np.sin(pa_ang)])
    in_pa, _ = _tube(x, y, zr, (pa_base[0], pa_base[1], float(t.rv_top.max()) - 3.0),
                     (-0.5 * np.cos(pa_ang), -0.5 * np.sin(pa_ang), 1.0), lambda u: 12.0 + 0 * u, 50.0)
    sel = above & in_la
    anat[sel], tissue[sel] = A_LA, T_LA_BLOOD
    tissue[above & in_ao] = T_OTHER_BLOOD
    tissue[above & ~in_ao & (ao_gap < 2.0) & ~in_la] = T_WALL
    tissue[above & la_wall & (tissue == 0)] = T_WALL
    rest = (anat == A_NONE) & (tissue == 0)
    tissue[rest & ((ra_q < 1) | in_pa)] = T_OTHER_BLOOD
    tissue[rest & (ra_q >= 1) & (ra_q < (1 + 2.5 / rr) ** 2) & ~in_pa] = T_WALL
    return anat, tissue


def cavity_volume_ml(p: HeartParams, t: HeartTables, s: PhaseState) -> float:
    """The model's own LV cavity volume (ml) at moment ``s``, integrated on the tables (no raster)."""
    from cardiacmotion.independent.anatomy import DZ, N_PSI

    z = t.z0 + DZ * np.arange(t.nz)
    below = z[None, :] <= t.base[:, None]
    r = t.endo * np.maximum(1 - t.radial_fraction * s.c * t.motion, 0.05)
    s_l = (t.base_z - s.descent - s.apex) / t.base_z
    return float((0.5 * r.astype(np.float64) ** 2 * below).sum() * (2 * np.pi / N_PSI) * DZ * s_l / 1000.0)
