"""The heart of the independent generator: sampled parameters and reference-shape lookup tables.

Heart frame (mm): origin at the epicardial apex at end-diastole (ED); ``z`` runs along the LV long
axis from apex to base; ``x`` points to the septum (towards the RV); ``y = z cross x`` points to the
anterior wall. ``psi = atan2(y, x)`` is the circumferential angle, 0 on the septum, increasing
towards the anterior wall.

The reference (ED) shape is not an ellipsoid: the endocardium is a truncated superquadric of
revolution with a blunt-to-pointed long-axis profile, a narrowing base, 2nd/3rd circumferential
harmonics (a flattened septum), an optional apical aneurysm bulge and a tilted mitral base plane;
the wall thickness varies per AHA segment (septal hypertrophy, thinned infarct). The RV is a
crescent over the septum between two insertion angles with its own depth profile, blunt or pointed
tips and an outflow tract that rises above the LV base. Everything is tabulated on a
(psi, z) grid so that rendering is a few vectorised table look-ups.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from scipy import ndimage

from cardiacmotion.errors import InputError

PATHOLOGIES = ("normal", "dilated", "hypertrophic", "infarct", "aneurysm")

#: Wall-motion class -> regional radial-motion factor (1 normal ... negative = outward in systole).
MOTION_FACTOR = {1: 1.0, 2: 0.45, 3: 0.0, 4: -0.4}

SEGMENT_NAMES = (
    "basal anterior", "basal anteroseptal", "basal inferoseptal", "basal inferior", "basal inferolateral",
    "basal anterolateral", "mid anterior", "mid anteroseptal", "mid inferoseptal", "mid inferior",
    "mid inferolateral", "mid anterolateral", "apical anterior", "apical septal", "apical inferior",
    "apical lateral",
)

#: Coronary territories (AHA 16 segments) used to place infarcts.
TERRITORIES = {
    "LAD": (1, 2, 7, 8, 13, 14, 16),
    "RCA": (3, 4, 9, 10, 15),
    "LCX": (5, 6, 11, 12, 16),
}

N_PSI = 360
DZ = 0.5


@dataclass
class HeartParams:
    """Sampled description of one heart (all lengths mm, angles degrees, fractions 0-1)."""

    pathology: str = "normal"
    edv_target_ml: float = 130.0
    sphericity: float = 1.7          # cavity length / cavity diameter at ED
    q_long: float = 2.4              # long-axis profile exponent (2 ~ elliptic, larger = blunter)
    base_narrowing: float = 0.08
    harm2: float = 0.05              # 2nd circumferential harmonic amplitude
    harm2_deg: float = 0.0
    harm3: float = 0.03
    harm3_deg: float = 0.0
    wall_mm: float = 9.0             # mid-ventricular wall thickness
    wall_apex_mm: float = 7.0
    septal_factor: float = 1.0       # septal / free wall thickness ratio (HCM > 1)
    ef_target_pct: float = 60.0
    base_descent_mm: float = 12.0
    apex_motion_mm: float = 1.0
    twist_apex_deg: float = 10.0
    twist_base_deg: float = 4.0
    base_tilt_mm: float = 5.0        # mitral plane tilt: higher at the aortic (anteroseptal) side
    wall_motion: list = field(default_factory=lambda: [1] * 16)
    infarct_thinning: float = 1.0    # wall thickness factor in akinetic/dyskinetic segments
    aneurysm_bulge: float = 0.0
    # RV
    rv_depth_mm: float = 22.0
    rv_ext_ant_deg: float = 80.0
    rv_ext_inf_deg: float = 55.0
    rv_gamma: float = 0.7            # <1 blunt crescent tips, >1 pointed
    rv_skew: float = 1.0             # >1 bulge towards the anterior insertion
    rv_apex_frac: float = 0.3        # RV apex height as a fraction of the LV length
    rv_wall_mm: float = 3.5
    rv_fraction: float = 0.35        # systolic inward free-wall motion fraction
    rv_extra_descent_mm: float = 6.0 # tricuspid descent beyond the mitral descent
    rvot_rise_mm: float = 14.0
    # cavity content
    pm_radius_mm: float = 4.5
    pm_angles_deg: tuple = (150.0, -120.0)  # anterolateral, posteromedial
    trab_depth_mm: float = 2.0
    trab_threshold: float = 0.55
    # surroundings
    fat_mm: float = 3.0
    la_radius_mm: float = 20.0
    aorta_radius_mm: float = 13.0
    # timing
    rr_ms: float = 900.0
    t_es: float = 0.36
    e_fraction: float = 0.7          # share of filling in early diastole
    t_ivr: float = 0.07


def _choose_wall_motion(rng: np.random.Generator, pathology: str) -> tuple[list[int], str]:
    wm = [1] * 16
    territory = ""
    if pathology == "dilated":
        wm = [int(v) for v in rng.choice([2, 2, 2, 3, 1], size=16)]
    elif pathology == "infarct":
        territory = str(rng.choice(sorted(TERRITORIES)))
        segs = list(TERRITORIES[territory])
        rng.shuffle(segs)
        n_core = int(rng.integers(2, max(3, len(segs) - 1)))
        for s in segs[:n_core]:
            wm[s - 1] = int(rng.choice([3, 3, 4]))
        for s in segs[n_core:]:
            wm[s - 1] = 2
    elif pathology == "aneurysm":
        territory = "LAD"
        for s in (13, 14, 15, 16):
            wm[s - 1] = 4
        for s in (7, 8):
            wm[s - 1] = int(rng.choice([3, 4]))
        for s in (1, 2, 9, 12):
            wm[s - 1] = int(rng.choice([1, 2]))
    elif pathology == "normal" and rng.random() < 0.25:
        # isolated mild regional dysfunction in an otherwise normal heart
        s = int(rng.integers(1, 17))
        wm[s - 1] = 2
    return wm, territory


def sample_heart(rng: np.random.Generator, **overrides: Any) -> HeartParams:
    """Draw a heart. ``overrides`` replace any :class:`HeartParams` field (unknown names refused)."""
    names = {f.name for f in fields(HeartParams)}
    unknown = set(overrides) - names
    if unknown:
        raise InputError(f"unknown heart parameter(s): {', '.join(sorted(unknown))}")
    pathology = overrides.get("pathology") or str(
        rng.choice(PATHOLOGIES, p=[0.35, 0.15, 0.15, 0.2, 0.15])
    )
    if pathology not in PATHOLOGIES:
        raise InputError(f"unknown pathology {pathology!r} (expected one of {', '.join(PATHOLOGIES)})")
    u = rng.uniform
    p = HeartParams(pathology=pathology)
    p.q_long = u(1.9, 3.2)
    p.base_narrowing = u(0.0, 0.12)
    p.harm2, p.harm2_deg = u(0.0, 0.09), u(0, 180)
    p.harm3, p.harm3_deg = u(0.0, 0.05), u(0, 120)
    p.apex_motion_mm = u(0.0, 2.5)
    p.twist_apex_deg, p.twist_base_deg = u(6, 16), u(2, 7)
    p.base_tilt_mm = u(2.0, 9.0)
    p.rv_depth_mm = u(17, 30)
    p.rv_ext_ant_deg, p.rv_ext_inf_deg = u(80, 120), u(50, 80)
    p.rv_gamma, p.rv_skew = u(0.6, 1.3), u(0.7, 1.5)
    p.rv_apex_frac = u(0.1, 0.3)
    p.rv_wall_mm = u(2.5, 5.0)
    p.rv_fraction = u(0.22, 0.36)
    p.rv_extra_descent_mm = u(2.0, 9.0)
    p.rvot_rise_mm = u(8, 22)
    p.pm_radius_mm = u(3.0, 6.0)
    p.pm_angles_deg = (u(130, 170), u(-140, -100))
    p.trab_depth_mm = u(0.8, 3.5)
    p.trab_threshold = u(0.45, 0.7)
    p.fat_mm = u(0.8, 4.5)
    p.la_radius_mm = u(17, 24)
    p.aorta_radius_mm = u(11, 15)
    p.rr_ms = u(650, 1200)
    p.t_es = float(np.clip(0.30 + 0.1 * (p.rr_ms - 650) / 550 + u(-0.02, 0.03), 0.28, 0.44))
    p.e_fraction = u(0.6, 0.85)
    p.t_ivr = u(0.05, 0.09)
    if pathology == "normal":
        p.edv_target_ml, p.sphericity, p.ef_target_pct = u(95, 175), u(1.55, 2.0), u(55, 70)
        p.wall_mm, p.wall_apex_mm = u(7.0, 10.5), u(5.0, 8.0)
        p.base_descent_mm = u(10, 18)
        p.septal_factor = u(0.95, 1.15)
    elif pathology == "dilated":
        p.edv_target_ml, p.sphericity, p.ef_target_pct = u(200, 260), u(1.2, 1.45), u(18, 35)
        p.wall_mm, p.wall_apex_mm = u(5.5, 7.5), u(4.0, 6.0)
        p.base_descent_mm = u(4, 8)
        p.e_fraction = u(0.8, 0.92)
        p.la_radius_mm = u(22, 28)
        p.rv_fraction = u(0.12, 0.25)
        p.twist_apex_deg, p.twist_base_deg = u(2, 6), u(0.5, 2)
        p.septal_factor = u(0.9, 1.05)
    elif pathology == "hypertrophic":
        p.edv_target_ml, p.sphericity, p.ef_target_pct = u(80, 120), u(1.7, 2.2), u(62, 78)
        p.wall_mm, p.wall_apex_mm = u(12, 17), u(8, 12)
        p.base_descent_mm = u(6, 12)
        p.septal_factor = u(1.1, 1.6)
        p.e_fraction, p.t_ivr = u(0.4, 0.55), u(0.08, 0.12)
    elif pathology == "infarct":
        p.edv_target_ml, p.sphericity, p.ef_target_pct = u(130, 220), u(1.4, 1.8), u(30, 50)
        p.wall_mm, p.wall_apex_mm = u(7.5, 10.0), u(5.0, 7.0)
        p.base_descent_mm = u(6, 13)
        p.infarct_thinning = u(0.4, 0.65)
    else:  # aneurysm
        p.edv_target_ml, p.sphericity, p.ef_target_pct = u(160, 250), u(1.35, 1.7), u(22, 40)
        p.wall_mm, p.wall_apex_mm = u(7.5, 10.0), u(2.5, 4.0)
        p.base_descent_mm = u(5, 11)
        p.infarct_thinning = u(0.35, 0.5)
        p.aneurysm_bulge = u(0.15, 0.35)
    p.wall_motion, _ = _choose_wall_motion(rng, pathology)
    for k, v in overrides.items():
        setattr(p, k, v)
    p.wall_motion = [int(v) for v in p.wall_motion]
    if len(p.wall_motion) != 16 or any(v not in (1, 2, 3, 4) for v in p.wall_motion):
        raise InputError("wall_motion must be 16 scores in 1-4")
    return p


# ---------------------------------------------------------------------------------------------
def segment_map(psi: np.ndarray, z_frac: np.ndarray, ins_ant: float, ins_inf: float) -> np.ndarray:
    """AHA segment (1-16) of angles ``psi`` (rad) at relative heights ``z_frac`` (0 apex, 1 base).

    ``ins_ant`` / ``ins_inf`` are the insertion angles (rad, anterior > 0 > inferior). The septal
    arc between them is split in two, the rest in four; apical segments are 90 degrees wide with
    the septal one centred on the septum; levels are thirds of the apex-base extent.
    """
    mid = 0.5 * (ins_ant + ins_inf)
    two_pi = 2 * np.pi
    a = np.mod(psi - ins_inf, two_pi)                 # 0 at the inferior insertion, increasing anteriorly
    septal_arc = ins_ant - ins_inf
    rest = (two_pi - septal_arc) / 4.0
    # order from the inferior insertion going anteriorly: inferoseptal, anteroseptal, anterior,
    # anterolateral, inferolateral, inferior
    idx = np.where(a < septal_arc / 2, 0, np.where(a < septal_arc, 1, 2 + np.minimum(3, ((a - septal_arc) // rest).astype(int))))
    order = np.array([3, 2, 1, 6, 5, 4])
    basal = order[idx]
    b = np.mod(psi - mid + np.pi / 4, two_pi)         # 0..90 deg = septal
    apical = np.array([14, 13, 16, 15])[np.minimum(3, (b // (np.pi / 2)).astype(int))]
    level = np.where(z_frac >= 2.0 / 3.0, 0, np.where(z_frac >= 1.0 / 3.0, 1, 2))
    return np.where(level == 2, apical, basal + 6 * level).astype(np.int16)


@dataclass
class HeartTables:
    """Reference (ED) geometry on a (psi, z) grid: ``[N_PSI, nz]`` float32 arrays."""

    z0: float
    nz: int
    base_z: float                    # base height at the mid (untilted) level
    endo: np.ndarray                 # endocardial radius (0 below the endocardial apex)
    epi: np.ndarray                  # epicardial radius
    base: np.ndarray                 # [N_PSI] base height of the mitral plane per angle
    motion: np.ndarray               # regional radial-motion factor
    trab: np.ndarray                 # trabeculation depth (mm) reaching into the cavity
    rv_depth: np.ndarray             # RV cavity depth beyond the LV epicardium (0 = no RV)
    rv_top: np.ndarray               # [N_PSI] RV top height (tricuspid plane / RVOT)
    fat: np.ndarray                  # epicardial fat thickness
    base_endo_radius: float          # median endocardial radius just below the base
    radial_fraction: float           # systolic endocardial radial shortening at factor 1
    ins_ant: float                   # insertion angles (rad)
    ins_inf: float
    pm_endo: np.ndarray              # [2, nz] endocardial radius along each papillary muscle angle
    pm_radius: np.ndarray            # [nz] papillary muscle radius (0 outside its extent)

    def stacked(self) -> np.ndarray:
        """``[N_PSI * nz, 6]`` endo, epi, motion, trabeculae, RV depth, fat (cached)."""
        if getattr(self, "_stacked", None) is None:
            self._stacked = np.ascontiguousarray(np.stack(
                [self.endo, self.epi, self.motion, self.trab, self.rv_depth, self.fat], axis=-1).reshape(-1, 6))
        return self._stacked

    def zi(self, z: np.ndarray) -> np.ndarray:
        return np.clip(np.rint((z - self.z0) / DZ), 0, self.nz - 1).astype(np.intp)


def psi_index(psi: np.ndarray) -> np.ndarray:
    """Table column of angles ``psi`` (rad)."""
    # the offset keeps the argument positive so truncation is a floor (angles here are > -4 pi)
    return ((np.asarray(psi) + 4 * np.pi) * (N_PSI / (2 * np.pi))).astype(np.intp) % N_PSI


def _smooth(table: np.ndarray, sigma_deg: float, sigma_mm: float) -> np.ndarray:
    return ndimage.gaussian_filter(table, (sigma_deg * N_PSI / 360.0, sigma_mm / DZ), mode=("wrap", "nearest"))


def build_tables(p: HeartParams, rng: np.random.Generator) -> HeartTables:
    """Tabulate the reference geometry of ``p`` (see the module doc)."""
    psi = (np.arange(N_PSI) + 0.5) * 2 * np.pi / N_PSI
    harm = 1 + p.harm2 * np.cos(2 * (psi - np.radians(p.harm2_deg))) + p.harm3 * np.cos(3 * (psi - np.radians(p.harm3_deg)))

    # cavity size from the target EDV: V = pi R^2 L * k(q), L = 2 R * sphericity
    u = np.linspace(0, 1, 401)
    prof = np.sqrt(np.clip(1 - u ** p.q_long, 0, None)) * (1 - p.base_narrowing * np.exp(-u / 0.12))
    k_q = float(np.trapezoid(prof**2, u)) * float(np.mean(harm**2))
    r_e = (p.edv_target_ml * 1000.0 / (2 * np.pi * p.sphericity * k_q)) ** (1 / 3)
    length = 2 * r_e * p.sphericity
    z_ea = p.wall_apex_mm
    base_z = z_ea + length
    z0 = -2.0
    z_top = base_z + p.base_tilt_mm + 90.0
    nz = int(np.ceil((z_top - z0) / DZ)) + 1
    z = z0 + DZ * np.arange(nz)

    ins_ant, ins_inf = np.radians(p.rv_ext_ant_deg), -np.radians(p.rv_ext_inf_deg)
    z_frac = np.clip(z / base_z, 0, 1)
    seg = segment_map(psi[:, None], z_frac[None, :], ins_ant, ins_inf)
    wm = np.asarray(p.wall_motion)
    motion = np.vectorize(MOTION_FACTOR.get)(wm[seg - 1]).astype(np.float32)
    thin = np.where(wm[seg - 1] >= 3, p.infarct_thinning, 1.0)
    septal = np.abs(np.angle(np.exp(1j * (psi - 0.5 * (ins_ant + ins_inf))))) < 0.5 * (ins_ant - ins_inf)
    thick_factor = thin * np.where(septal[:, None], p.septal_factor, 1.0)
    motion = _smooth(motion, 8.0, 3.0)
    thick_factor = _smooth(thick_factor.astype(np.float32), 10.0, 4.0)

    # endocardium: truncated superquadric of revolution with harmonics
    uu = np.clip((base_z - z) / length, 0, None)
    inside = (z >= z_ea)
    prof_z = np.where(inside, np.sqrt(np.clip(1 - np.minimum(uu, 1) ** p.q_long, 0, None)), 0.0)
    prof_z *= 1 - p.base_narrowing * np.exp(-uu / 0.12)
    endo = r_e * harm[:, None] * prof_z[None, :]
    if p.aneurysm_bulge > 0:
        # a spherical apical pouch: the bulge grows towards the apex, centred anteroseptally
        centre = np.radians(30.0)
        ang = np.exp(-0.5 * (np.angle(np.exp(1j * (psi - centre))) / 1.6) ** 2)
        zb = np.clip(1 - (z - z_ea) / (0.45 * length), 0, 1) * inside
        endo = endo + r_e * p.aneurysm_bulge * ang[:, None] * np.sin(np.pi * zb)[None, :] ** 0.7 * 1.4
    # wall thickness tapers from mid-wall to the apical wall
    w_mid = p.wall_mm
    taper = np.clip((z - z_ea) / (0.35 * length), 0, 1)
    wall = (p.wall_apex_mm + (w_mid - p.wall_apex_mm) * (3 * taper**2 - 2 * taper**3))[None, :] * thick_factor
    wall = np.maximum(wall, 2.0)
    base = base_z + p.base_tilt_mm * np.cos(psi - np.radians(35.0)) - 0.3 * p.base_tilt_mm
    epi = _dilate_profile(endo, wall, z, z_ea, base)
    # above the base the tables keep the base values (used by the RV / fat / atrial logic)
    bidx = np.clip(np.rint((base - z0) / DZ).astype(int), 0, nz - 1)
    for a in range(N_PSI):
        endo[a, bidx[a]:] = endo[a, bidx[a]]
        epi[a, bidx[a]:] = epi[a, bidx[a]]

    # trabeculation: smooth random field, thresholded into finger-like protrusions
    noise = ndimage.gaussian_filter(rng.standard_normal((N_PSI, nz)), (2.0, 2.5 / DZ), mode=("wrap", "nearest"))
    noise = (noise - noise.mean()) / (noise.std() + 1e-9)
    levels = 0.5 + 0.5 * np.tanh(noise)
    lateral = 0.6 + 0.4 * np.cos(psi - np.pi)[:, None]           # more trabeculae on the free wall
    apical = 1.0 + 0.6 * np.clip(1 - z_frac, 0, 1)[None, :]
    trab = np.clip((levels - p.trab_threshold) / (1 - p.trab_threshold), 0, 1) * p.trab_depth_mm * lateral * apical
    trab = trab * (z >= z_ea + 3)[None, :]

    # RV crescent between the insertion angles
    ext = ins_ant - ins_inf
    a_rel = np.mod(psi - ins_inf, 2 * np.pi) / ext
    in_rv = a_rel <= 1
    shape = np.where(in_rv, np.sin(np.pi * np.clip(a_rel, 0, 1) ** (1 / p.rv_skew)) ** p.rv_gamma, 0.0)
    # the outflow tract rises above the LV base next to the anterior insertion
    rv_top = base_z + 4.0 + p.rvot_rise_mm * np.exp(-0.5 * (psi_wrap_pos(psi - (ins_ant - 0.35)) / 0.5) ** 2)
    z_ra = p.rv_apex_frac * base_z
    height = np.clip((z - z_ra) / (base_z - z_ra), 0, None)
    depth_z = np.sqrt(np.clip(1 - np.clip(1 - height, 0, 1) ** 3.0, 0, None)) * (z > z_ra)
    rv_depth = p.rv_depth_mm * (r_e / 25.0) ** 0.25 * shape[:, None] * depth_z[None, :]
    rv_depth = np.where(z[None, :] <= rv_top[:, None], rv_depth, 0.0)

    # epicardial fat: AV groove, interventricular grooves, RV acute margin
    groove = np.exp(-0.5 * (np.angle(np.exp(1j * (psi[:, None] - np.array([ins_ant, ins_inf])[None, :]))) / 0.18) ** 2).sum(1)
    av = np.exp(-np.clip(base_z - z, 0, None) / 10.0)
    fat_noise = ndimage.gaussian_filter(rng.random((N_PSI, nz)), (6.0, 8.0 / DZ), mode=("wrap", "nearest"))
    fat = p.fat_mm * (0.3 + 1.0 * groove[:, None] + 1.2 * av[None, :] + 4.0 * (fat_noise - 0.5))
    fat = np.clip(fat, 0.3, None) * (z >= -1)[None, :]

    # papillary muscles: columns from 25 % to 65 % of the cavity length
    pm_endo = np.stack([endo[psi_index(np.radians(a))] for a in p.pm_angles_deg])
    zrel = (z - z_ea) / length
    pm_radius = p.pm_radius_mm * np.sqrt(np.clip(1 - ((zrel - 0.42) / 0.2) ** 2, 0, None))

    tables = HeartTables(
        z0=z0, nz=nz, base_z=float(base_z), endo=endo.astype(np.float32), epi=epi.astype(np.float32),
        base=base.astype(np.float32), motion=motion.astype(np.float32), trab=trab.astype(np.float32),
        rv_depth=rv_depth.astype(np.float32), rv_top=rv_top.astype(np.float32), fat=fat.astype(np.float32),
        base_endo_radius=float(np.median(endo[:, int(np.rint((base_z - 1.0 - z0) / DZ))])),
        radial_fraction=0.0, ins_ant=float(ins_ant), ins_inf=float(ins_inf),
        pm_endo=pm_endo.astype(np.float32), pm_radius=pm_radius.astype(np.float32),
    )
    tables.radial_fraction = _radial_fraction_for_ef(p, tables)
    return tables


def _dilate_profile(endo: np.ndarray, wall: np.ndarray, z: np.ndarray, z_ea: float, base: np.ndarray) -> np.ndarray:
    """Epicardial radius: the endocardial profile (psi, z) dilated by a disc of the local wall thickness
    in each meridian half-plane, so the wall is measured normal to the surface and closes the apex."""
    valid = (z >= z_ea)[None, :] & (z[None, :] <= base[:, None] + DZ)
    e = np.where(valid, endo, -np.inf)
    epi = np.full(endo.shape, -np.inf)
    n = int(np.ceil(float(wall.max()) / DZ))
    for sh in range(-n, n + 1):
        src_e = np.full(endo.shape, -np.inf)
        src_w = np.zeros(endo.shape)
        if sh >= 0:
            src_e[:, sh:], src_w[:, sh:] = e[:, : e.shape[1] - sh], wall[:, : e.shape[1] - sh]
        else:
            src_e[:, :sh], src_w[:, :sh] = e[:, -sh:], wall[:, -sh:]
        dz = sh * DZ
        reach = np.sqrt(np.maximum(src_w * src_w - dz * dz, 0.0))
        epi = np.where(np.abs(dz) <= src_w, np.maximum(epi, src_e + reach), epi)
    return np.where(np.isfinite(epi), epi, 0.0)


def psi_wrap_pos(psi: np.ndarray) -> np.ndarray:
    """Angles folded to (-pi, pi]."""
    return np.angle(np.exp(1j * np.asarray(psi)))


def _radial_fraction_for_ef(p: HeartParams, t: HeartTables) -> float:
    """Endocardial radial shortening that gives roughly the target EF with this long-axis motion."""
    z = t.z0 + DZ * np.arange(t.nz)
    below = z[None, :] <= t.base[:, None]
    area = lambda r: (0.5 * r**2 * below).sum(0) * (2 * np.pi / N_PSI)
    edv = area(t.endo).sum() * DZ
    stretch = (t.base_z - p.base_descent_mm - p.apex_motion_mm) / t.base_z
    target = edv * (1 - p.ef_target_pct / 100.0)
    lo, hi = 0.0, 0.75
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        esv = area(t.endo * np.clip(1 - mid * t.motion, 0, None)).sum() * DZ * stretch
        lo, hi = (mid, hi) if esv > target else (lo, mid)
    return 0.5 * (lo + hi)
