"""Synthetic bSSFP short-axis cine MR with exact labels, landmarks and wall-motion truth.

The heart is built in a short-axis frame: in-plane display coordinates ``x`` (mm, to the right
of the screen = lateral) and ``y`` (mm, down = inferior / posterior), and ``z`` (mm along the long
axis from the end-diastolic base plane toward the apex). Slices are short-axis planes at fixed
``z``; the oblique IJK->RAS matrix places that frame in the patient.

The LV is a truncated ellipsoid (endocardium and epicardium) whose base plane descends toward the
fixed apex in systole (4-18 mm, least in failing hearts); each slice maps its ``z`` to a material
long-axis position, so basal slices leave the ventricle and show the left atrium and aortic root
(bright blood continuous with the LV, labelled background), and toward the apex the thickened walls
close the small cavity at ES. Slice spacing is 6-10 mm, the slice thickness 75-100 % of it. In-plane, the endocardial radius and the wall thickness vary
with the angle according to the AHA segment's wall-motion class. The RV is a crescent on the septal
side between two insertion angles. Labels are sampled at pixel centres on the slice's centre plane;
the image averages three sub-planes across the slice thickness and uses one-pixel analytic edge
ramps, which gives in-plane and through-plane partial volume.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.phantom import motion
from cardiacmotion.phantom.case import PhantomCase
from cardiacmotion.phantom.texture import coil_bias, paint, rician, smooth_field, soft_inside

#: Options ``make_mr_case`` understands.
MR_OPTIONS = frozenset({"wall_motion", "phases", "slices", "grid", "pixel_mm", "slice_spacing_mm", "noise",
                        "breath_hold_mm", "image", "base_descent_mm"})

N_BINS = 720  # angular resolution of the polar wall tables (0.5 degree)

# bSSFP-like relative intensities (blood = 1)
BLOOD, MYO, TISSUE, FAT, LUNG = 1.0, 0.27, 0.33, 0.80, 0.04


def _heart_frame(rng: np.random.Generator) -> np.ndarray:
    """3x3 columns (i, j, k) in RAS: lateral, inferior, base->apex; a realistic oblique short axis."""
    long_axis = np.array([-0.58, 0.48, -0.66]) + rng.normal(0.0, 0.06, 3)  # apex: left, anterior, inferior
    long_axis /= np.linalg.norm(long_axis)
    ant = np.array([0.0, 1.0, 0.0]) - long_axis[1] * long_axis
    ant /= np.linalg.norm(ant)
    lat = np.cross(ant, long_axis)
    if lat[0] > 0:  # lateral wall toward patient left (negative R)
        lat = -lat
    beta = np.deg2rad(rng.uniform(-12.0, 12.0))  # in-plane rotation of the prescribed view
    i_dir = np.cos(beta) * lat + np.sin(beta) * (-ant)
    j_dir = -np.sin(beta) * lat + np.cos(beta) * (-ant)
    return np.stack([i_dir, j_dir, long_axis], axis=1)


def _ellipsoid_radius(z: np.ndarray, a: float, z_eq: float, apex: float, top: float) -> np.ndarray:
    """Radius of a truncated ellipsoid at long-axis position ``z`` (0 = base, ``apex`` = tip).

    Below the equator ``z_eq`` it closes at ``apex``; above it it narrows gently toward the base
    (semi-axis ``top``). Zero outside [0, apex].
    """
    z = np.asarray(z, dtype=np.float64)
    lower = a * np.sqrt(np.clip(1.0 - ((z - z_eq) / max(apex - z_eq, 1e-6)) ** 2, 0.0, None))
    upper = a * np.sqrt(np.clip(1.0 - ((z_eq - z) / top) ** 2, 0.0, None))
    r = np.where(z >= z_eq, lower, upper)
    return np.where((z >= 0.0) & (z <= apex), r, 0.0)


def _opt(options: dict, name: str, default, kind, lo, hi):
    """An option's value (``default`` when absent or None), checked against [lo, hi]."""
    value = options.get(name)
    if value is None:
        return default
    try:
        value = kind(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"phantom option {name}={value!r} is not a number") from exc
    if not lo <= value <= hi:
        raise InputError(f"phantom option {name}={value} is outside [{lo}, {hi}]")
    return value


class _Params:
    """Every random draw of one MR case (kept together so the case is reproducible)."""

    def __init__(self, rng: np.random.Generator, options: dict):
        o = options
        # every draw happens whatever the options, so an option changes only what it names
        self.phases = _opt(o, "phases", int(rng.integers(20, 31)), int, 2, 200)
        self.pixel = _opt(o, "pixel_mm", float(rng.uniform(1.4, 1.8)), float, 0.5, 4.0)
        self.spacing = _opt(o, "slice_spacing_mm", float(rng.uniform(6.0, 10.0)), float, 2.0, 20.0)
        self.grid = _opt(o, "grid", int(rng.integers(72, 97)) * 2, int, 64, 512)
        self.rr_ms = float(rng.uniform(750.0, 1100.0))
        pattern_rng = np.random.default_rng(int(rng.integers(2**62)))  # a forced pattern keeps the anatomy
        self.scores = motion.pattern_from_options(pattern_rng, o.get("wall_motion"))
        # own stream: adding vigour kept every other draw (and so every earlier case's anatomy) as it was
        vigour = float(np.random.default_rng([int(pattern_rng.integers(2**62)), 13]).uniform())
        self.radial, self.thick = motion.class_parameters(self.scores, rng, vigour)
        abnormal = float(np.mean(np.asarray(self.scores) > 1))
        # geometry: dilated when function is poor
        self.a = float(rng.uniform(21.0, 27.0) + 6.0 * abnormal * rng.uniform(0.3, 1.0))
        self.l_endo = float(rng.uniform(72.0, 90.0) + 6.0 * abnormal)
        self.z_eq = float(rng.uniform(0.18, 0.3) * self.l_endo)
        self.top = 2.2 * self.z_eq + 10.0
        self.wall = float(rng.uniform(7.5, 10.5))
        self.wall_apex = float(rng.uniform(5.0, 7.0))
        motion_quality = float(np.clip(np.mean(np.clip(self.radial, 0, None)) / 0.32, 0.0, 1.0))
        # mitral annulus descent toward the apex at ES: 4-18 mm, least in failing hearts
        self.descent = _opt(o, "base_descent_mm", float(3.5 + rng.uniform(4.0, 14.5) * (0.15 + 0.85 * motion_quality)),
                            float, 0.0, 30.0)
        self.s = motion.contraction_curve(self.phases, rng)
        # slices: the first near the ED base (up to 12 mm above it: often wholly in the atrium), enough to pass the apex
        self.z0 = float(rng.uniform(-12.0, 6.0))
        self.base_tan = float(np.tan(np.radians(rng.uniform(10.0, 20.0))))  # mitral plane tilt
        self.base_dir = float(rng.uniform(np.pi * 0.6, np.pi * 1.1))  # in-plane direction where the base is higher
        lepi = self.l_endo + self.wall_apex
        k = int(np.clip(int(np.ceil((lepi - self.z0) / self.spacing)) + 1, 8, 20))
        self.slices = _opt(o, "slices", k, int, 3, 40)
        # RV crescent
        half = float(rng.uniform(48.0, 64.0))
        mid = float(rng.uniform(172.0, 188.0))
        self.phi_ant, self.phi_inf = mid - half, mid + half
        self.rv_height = float(rng.uniform(16.0, 26.0))
        self.rv_length = float(rng.uniform(0.7, 0.85) * self.l_endo)
        self.rv_contraction = float(rng.uniform(0.35, 0.55) * (0.5 + 0.5 * motion_quality))
        self.rv_wall = float(rng.uniform(2.5, 4.0))
        # papillary muscles (angle deg, radius mm) and trabeculation comb
        self.pap = [(float(rng.uniform(25.0, 55.0)), float(rng.uniform(3.5, 5.5))),
                    (float(rng.uniform(255.0, 290.0)), float(rng.uniform(3.5, 5.5)))]
        comb = smooth_field((N_BINS,), rng, 2.0, 1.0)
        self.trab_comb = np.clip(comb - 0.3, 0.0, 0.8)  # where trabeculae protrude into the cavity
        self.trab_depth = float(rng.uniform(1.2, 2.5))
        fat = smooth_field((N_BINS,), rng, 25.0, 1.0)
        self.fat_mm = np.clip(1.0 + 2.5 * fat, 0.0, 7.0)  # pericardial fat thickness around the heart
        # placement
        self.center0 = rng.uniform(-12.0, 12.0, 2)
        self.tilt = rng.normal(0.0, 0.08, 2)  # LV axis not exactly normal to the slices (mm per mm)
        self.sway = rng.normal(0.0, 1.2, 2)  # systolic translation of the heart (mm)
        bh = o.get("breath_hold_mm")
        if bh is None:
            bh = float(rng.uniform(0.0, 2.5)) if rng.uniform() < 0.4 else 0.0
        self.breath_hold = rng.normal(0.0, 1.0, (self.slices, 2)) * float(bh) / 1.5
        self.frame = _heart_frame(rng)
        self.heart_ras = np.array([-15.0, 5.0, 10.0]) + rng.normal(0.0, 10.0, 3)
        self.noise = _opt(o, "noise", float(rng.uniform(0.025, 0.06)), float, 0.0, 1.0)
        self.bias = float(rng.uniform(0.15, 0.35))
        self.scale = float(rng.uniform(300.0, 900.0))
        self.body_shift = rng.normal(0.0, 8.0, 2)
        # own stream: the through-plane additions keep every draw above as it was
        extra = np.random.default_rng([int(pattern_rng.integers(2**62)), 17])
        # slice thickness (the profile's width) up to the spacing: gaps of 0-25 %
        self.thickness = float(self.spacing * extra.uniform(0.75, 1.0))
        # apical cavity obliteration at ES (mm of radius closed by the thickened apex), vigorous hearts most
        self.apex_close = float(extra.uniform(2.0, 7.0) * motion_quality)


def _background(p: _Params, x: np.ndarray, y: np.ndarray, z: float, rng: np.random.Generator) -> np.ndarray:
    """Static thorax around the heart on one slice (in-plane mm relative to the ED LV centre)."""
    bx, by = x - p.body_shift[0], y - p.body_shift[1]
    img = np.zeros(x.shape)
    # ellipse signed distances approximated by (normalised radius - 1) x semi-minor axis
    d_body = (np.hypot((bx + 15.0) / 185.0, (by - 40.0) / 135.0) - 1.0) * 135.0
    paint(img, soft_inside(d_body, p.pixel), FAT)  # subcutaneous fat
    paint(img, soft_inside(d_body + 10.0 + 4.0 * np.sin(bx / 23.0), p.pixel), 0.2)  # chest-wall muscle
    paint(img, soft_inside(d_body + 24.0, p.pixel), TISSUE)
    # liver in the inferior slices, lungs on both sides wrapping the heart
    liver_w = float(np.clip((z - 25.0) / 45.0, 0.0, 1.0))
    if liver_w > 0:
        d_liv = (np.hypot((bx + 75.0) / 90.0, (by - 80.0) / 60.0) - 1.0) * 60.0
        paint(img, soft_inside(d_liv, p.pixel) * liver_w, 0.4)
    heart_r = p.a + p.wall + 7.0
    d_heart = np.hypot(x, y) - heart_r
    d_heart_rv = np.hypot(x + 0.6 * heart_r, y + 0.1 * heart_r) - heart_r * 1.05
    clear = np.minimum(d_heart, d_heart_rv)  # the lungs stop at the pericardium
    wobble = smooth_field(x.shape, rng, 20.0 / p.pixel, 5.0)  # irregular lung borders
    for cx, cy, ax, ay in ((68.0, 10.0, 62.0, 95.0), (-112.0, -5.0, 58.0, 88.0)):
        d = (np.hypot((bx - cx) / ax, (by - cy) / ay) - 1.0) * min(ax, ay) + wobble
        paint(img, soft_inside(np.maximum(np.maximum(d, -clear), d_body + 22.0), p.pixel), LUNG)  # inside the ribcage
    # pulmonary vessels: a few grey dots in the lungs
    for _ in range(10):
        vx, vy = rng.uniform(-170, 130), rng.uniform(-90, 100)
        paint(img, soft_inside(np.hypot(bx - vx, by - vy) - rng.uniform(1.5, 3.5), p.pixel) * (img < 0.1), 0.3)
    # descending aorta (bright blood), vertebral body and canal
    paint(img, soft_inside(np.hypot(bx - 30.0, by - 78.0) - 11.0, p.pixel), 0.85)
    paint(img, soft_inside(np.hypot(bx + 8.0, by - 112.0) - 20.0, p.pixel), 0.45)
    paint(img, soft_inside(np.hypot(bx + 8.0, by - 142.0) - 7.0, p.pixel), 0.75)
    tex = 1.0 + smooth_field(x.shape, rng, 3.0, 0.07)
    return img * tex


def _lv_tables(p: _Params, z_slice: np.ndarray, s: float, radial: np.ndarray, thick: np.ndarray):
    """Polar tables on slices at positions ``z_slice`` (n,) for contraction ``s``.

    Returns (r_endo, r_epi, r_rv_outer, in_lv, z_m) with radii as (n, N_BINS) arrays, ``in_lv``
    whether the plane crosses the ventricle (below the moving base), and the material position.
    """
    base = p.descent * s
    lam = (p.l_endo - base) / p.l_endo
    z_m = (z_slice - base) / lam  # material long-axis position (ED mm from the base)
    lepi = p.l_endo + p.wall_apex
    r_endo_ed = _ellipsoid_radius(np.maximum(z_m, 0.0), p.a, p.z_eq, p.l_endo, p.top)
    # wall thickness follows the material level (thinner toward the apex), then an apical cap
    f = np.clip((z_m - p.z_eq) / (p.l_endo - p.z_eq), 0.0, 1.0)
    wall_z = p.wall - (p.wall - p.wall_apex) * f**2
    cap = p.wall_apex * np.sqrt(np.clip(1.0 - ((z_m - p.l_endo) / p.wall_apex) ** 2, 0.0, None))
    w_ed = np.where(z_m <= p.l_endo, wall_z, cap)
    r_endo = r_endo_ed[:, None] * (1.0 - radial * s)
    r_epi = r_endo + w_ed[:, None] * (1.0 + thick * s)
    # toward the apex the thickened walls close the small cavity at ES (the epicardium stays)
    w_apex = np.clip((z_m - p.z_eq) / (p.l_endo - p.z_eq), 0.0, 1.0) ** 2
    close = (p.apex_close * s * w_apex)[:, None]
    r_endo = np.sqrt(np.clip(r_endo**2 - close**2, 0.0, None))
    r_endo = np.where(r_endo < 1.0, 0.0, r_endo)
    # the base plane is oblique to the slices: a slice just above its centre still cuts part of the LV
    margin = p.base_tan * (p.a + p.wall + 5.0) / lam
    in_lv = (z_m >= -margin) & (z_m <= lepi)
    r_endo = np.where(in_lv[:, None], r_endo, 0.0)
    r_epi = np.where(in_lv[:, None], r_epi, 0.0)
    # RV crescent between the insertion angles, tapering toward the RV apex
    phi = (np.arange(N_BINS) + 0.5) * 360.0 / N_BINS
    u = (phi - p.phi_ant) / (p.phi_inf - p.phi_ant)
    shape = np.where((u > 0) & (u < 1), np.sin(np.pi * np.clip(u, 0, 1)) ** 0.6, 0.0)
    taper = np.sqrt(np.clip(1.0 - (np.clip(z_m, 0, None) / p.rv_length) ** 2, 0.0, None))
    height = p.rv_height * taper * (1.0 - p.rv_contraction * s)
    r_rv = r_epi + height[:, None] * shape[None, :]
    return r_endo, r_epi, r_rv, in_lv, z_m


def _lookup(table: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """table (n, N_BINS) sampled at per-pixel bin indices (n, ...)."""
    n = table.shape[0]
    flat = bins.reshape(n, -1)
    return np.take_along_axis(table, flat, axis=1).reshape(bins.shape)


def make_mr_case(seed: int, **options) -> "PhantomCase":
    """A synthetic short-axis bSSFP cine MR case with exact ground truth.

    Args:
        seed: random seed; the same seed gives the same case.
        **options: ``wall_motion`` (None/'random', 'balanced', 'normal', 'hypokinetic',
            'akinetic', 'dyskinetic', a class 1-4, or 16 explicit scores), ``phases``, ``slices``,
            ``grid`` (pixels per side), ``pixel_mm``, ``slice_spacing_mm``, ``noise``
            (Rician sigma relative to blood), ``breath_hold_mm`` (per-slice shift std; None: random),
            ``base_descent_mm`` (systolic descent of the mitral plane; None: drawn 4-18 mm),
            ``image`` (False: labels and truth only, the image stays zero; much faster).

    Returns:
        A :class:`PhantomCase` (labels: 1 RV cavity, 2 LV myocardium, 3 LV cavity).
    """
    unknown = set(options) - MR_OPTIONS
    if unknown:
        raise InputError(f"unknown MR phantom option(s) {sorted(unknown)} (known: {sorted(MR_OPTIONS)})")
    rng = np.random.default_rng(int(seed))
    tex_rng = np.random.default_rng([int(seed), 7])  # texture and noise: own stream, so labels never depend on it
    with_image = bool(options.get("image", True))
    p = _Params(rng, options)
    n, K, T = p.grid, p.slices, p.phases
    coords = (np.arange(n) - (n - 1) / 2.0) * p.pixel
    gx, gy = np.meshgrid(coords, coords)  # [j, i]
    z_centres = p.z0 + np.arange(K) * p.spacing
    sub = np.array([-1.0, 0.0, 1.0]) * p.thickness / 3.0
    z_sub = (z_centres[:, None] + sub[None, :]).reshape(-1)  # (K*3,)

    # per-slice pixel coordinates relative to the ED LV centre (breath-hold shifts move the anatomy)
    sx = gx[None] - p.breath_hold[:, 0, None, None] - p.center0[0]
    sy = gy[None] - p.breath_hold[:, 1, None, None] - p.center0[1]
    if with_image:
        bg = np.stack([_background(p, sx[k], sy[k], float(z_centres[k]), tex_rng) for k in range(K)])
    else:
        bg = np.zeros((K, n, n))
    nsub = 3 if with_image else 1
    if not with_image:
        z_sub = z_centres.copy()
    # the heart is rendered in a box around it only (the thorax is static)
    half = p.a + p.wall + p.rv_height + p.rv_wall + 18.0 + 1.5 * float(np.abs(p.breath_hold).max(initial=0.0))
    lo = np.clip(np.floor((p.center0 - half - coords[0]) / p.pixel).astype(int), 0, n)
    hi = np.clip(np.ceil((p.center0 + half - coords[0]) / p.pixel).astype(int) + 1, 0, n)
    roi = (slice(None), slice(lo[1], hi[1]), slice(lo[0], hi[0]))
    sx_full, sy_full, bg_full = sx, sy, bg
    sx, sy, bg = (a[roi].astype(np.float32) for a in (sx, sy, bg))
    rn = sx.shape[1:]

    labels = np.zeros((T, K, n, n), dtype=np.uint8)
    image = np.zeros((T, K, n, n), dtype=np.float32) if with_image else None

    def render(t: int, radial_k: np.ndarray, thick_k: np.ndarray):
        s = float(p.s[t])
        r_endo, r_epi, r_rv, in_lv, z_m = _lv_tables(p, z_sub, s, np.repeat(radial_k, nsub, 0), np.repeat(thick_k, nsub, 0))
        # LV centre: tilt along the axis plus a small systolic sway
        cx = (p.tilt[0] * z_sub + p.sway[0] * s).astype(np.float32)
        cy = (p.tilt[1] * z_sub + p.sway[1] * s).astype(np.float32)
        dx = np.repeat(sx, nsub, 0) - cx[:, None, None]
        dy = np.repeat(sy, nsub, 0) - cy[:, None, None]
        rho = np.hypot(dx, dy)
        phi = np.degrees(np.arctan2(-dy, dx)) % 360.0
        bins = np.minimum((phi * (N_BINS / 360.0)).astype(np.int64), N_BINS - 1)
        e_endo = _lookup(r_endo.astype(np.float32), bins)
        e_epi = _lookup(r_epi.astype(np.float32), bins)
        e_rv = _lookup(r_rv.astype(np.float32), bins)
        # the oblique base plane, per pixel: above it the LV gives way to atrium and aortic root
        q = dx * np.float32(np.cos(p.base_dir)) - dy * np.float32(np.sin(p.base_dir))
        lam = (p.l_endo - p.descent * s) / p.l_endo
        z_px = (z_sub[:, None, None].astype(np.float32) - np.float32(p.descent * s) - np.float32(p.base_tan) * q) / np.float32(lam)
        above_px = z_px < 0.0
        rv_above = z_px < -8.0
        has_rv = (e_rv > e_epi + 1e-6) & ~rv_above
        e_epi_raw = e_epi
        e_endo = np.where(above_px, np.float32(0.0), e_endo)
        e_epi = np.where(above_px, np.float32(0.0), e_epi)
        c = slice(1, None, 3) if nsub == 3 else slice(None)  # the centre sub-plane gives the labels
        lab = np.zeros((K,) + rn, dtype=np.uint8)
        lab[(rho[c] < e_rv[c]) & has_rv[c] & (rho[c] >= e_epi_raw[c])] = 1
        lab[rho[c] < e_epi[c]] = 2
        lab[rho[c] < e_endo[c]] = 3
        lab_full = np.zeros((K, n, n), dtype=np.uint8)
        lab_full[roi] = lab
        tables = (r_endo[c], r_epi[c], r_rv[c], in_lv[c], z_m[c], cx[c], cy[c])
        if not with_image:
            return None, lab_full, tables
        img = np.repeat(bg, 3, 0).copy()
        px = p.pixel
        # atrium and aortic root above the moving base plane
        # (a fixed footprint: slices wholly above the base show them too, not an empty mediastinum)
        above = above_px & (rho < np.float32(p.a + p.wall + 4.0))
        # around the atria: atrioventricular-groove and mediastinal fat, the right atrium on the
        # septal side and two pulmonary veins entering the left atrium from behind
        foot = above_px & (rho < np.float32(p.a + p.wall + 10.0))
        paint(img, soft_inside(rho - (p.a + p.wall + 10.0), px) * foot, 0.6)
        ra = np.hypot(dx + 1.05 * p.a + 6.0, dy + 0.1 * p.a) - 0.6 * p.a
        paint(img, soft_inside(ra - 2.0, px) * foot, MYO)
        paint(img, soft_inside(ra, px) * foot, BLOOD * 0.95)
        for side in (-1.0, 1.0):
            pv = np.hypot(dx - side * 0.45 * p.a + 4.0, dy - 0.85 * p.a - 8.0) - 5.0
            paint(img, soft_inside(pv, px) * foot, BLOOD * 0.9)
        la = soft_inside(np.hypot(dx + 4.0, dy - 6.0) - 0.85 * p.a, px) * above
        paint(img, soft_inside(np.hypot(dx + 4.0, dy - 6.0) - 0.85 * p.a - 2.5, px) * above, MYO)
        paint(img, la, BLOOD)
        ao = np.hypot(dx + 0.55 * p.a, dy + 0.55 * p.a) - 12.0
        paint(img, soft_inside(ao - 2.0, px) * above, MYO)
        paint(img, soft_inside(ao, px) * above, BLOOD * 0.97)
        # epicardial fat in the interventricular grooves and a thin pericardial layer
        for ang in (p.phi_ant, p.phi_inf):
            a = np.radians(ang)
            r_ins = np.maximum(_lookup(r_epi, np.full_like(bins[:, :1, :1], int(ang * N_BINS / 360.0))), 1.0)
            fx, fy = (r_ins + 4.0) * np.cos(a), -(r_ins + 4.0) * np.sin(a)
            paint(img, soft_inside(np.hypot(dx - fx, dy - fy) - 6.0, px) * (e_epi_raw > 0), FAT)
        paint(img, soft_inside(rho - np.maximum(e_epi_raw, e_rv + p.rv_wall) - p.fat_mm[bins], px) * (e_epi_raw > 0), FAT)
        # RV free wall and cavity, LV myocardium and cavity
        paint(img, soft_inside(rho - (e_rv + p.rv_wall), px) * has_rv, MYO)
        paint(img, soft_inside(rho - e_rv, px) * has_rv, BLOOD)
        paint(img, soft_inside(rho - e_epi, px), MYO)
        paint(img, soft_inside(rho - e_endo, px), BLOOD)
        # trabeculation: a dark comb along the endocardium; papillary muscles (cavity-labelled)
        comb = p.trab_comb[bins]
        trab = soft_inside(rho - e_endo, px) * soft_inside(e_endo - p.trab_depth * (1 + s) - rho, px)
        paint(img, np.clip(trab * comb, 0, 1) * (e_endo > 4.0), MYO)
        pap_level = np.clip(np.minimum((z_m - 0.3 * p.l_endo) / 8.0, (0.88 * p.l_endo - z_m) / 8.0), 0.0, 1.0)
        for ang, rad in p.pap:
            a = np.radians(ang)
            r_at = _lookup(r_endo, np.full_like(bins[:, :1, :1], int(ang * N_BINS / 360.0)))
            pr = rad * (1.0 + 0.35 * s) * pap_level[:, None, None]
            ctr = r_at - pr - 0.5
            fx, fy = ctr * np.cos(a), -ctr * np.sin(a)
            d = np.hypot(dx - fx, dy - fy) - pr
            paint(img, soft_inside(d, px) * (pr > 0.5), MYO * 1.05)
        full = bg_full.copy()
        full[roi] = img.reshape(K, 3, *rn).mean(axis=1)
        return full, lab_full, tables

    # ED first (wall motion does not matter at s = 0): it fixes the AHA levels
    img0, lab0, ed_tables = render(0, np.zeros((K, N_BINS)), np.zeros((K, N_BINS)))
    myo_slices = [k for k in range(K) if np.any(lab0[k] == 2)]
    levels = {name: [int(v) for v in part] for name, part in zip(("basal", "mid", "apical"), np.array_split(myo_slices, 3))}
    level_of = {}
    for name, ks in levels.items():
        for k in ks:
            level_of[k] = name
    radial_k = np.zeros((K, N_BINS))
    thick_k = np.zeros((K, N_BINS))
    for k in range(K):
        lev = level_of.get(k, "basal" if k < (myo_slices[0] if myo_slices else 0) else "apical")
        radial_k[k] = motion.angular_profile(p.radial, p.phi_ant, p.phi_inf, lev, N_BINS)
        thick_k[k] = motion.angular_profile(p.thick, p.phi_ant, p.phi_inf, lev, N_BINS)
    labels[0] = lab0
    if with_image:
        image[0] = img0
    for t in range(1, T):
        img_t, labels[t], _ = render(t, radial_k, thick_k)
        if with_image:
            image[t] = img_t

    if with_image:  # scanner effects: PSF blur, coil bias, Rician noise, intensity scale
        image = ndimage.gaussian_filter(image, (0, 0, 0.5, 0.5))
        bias = coil_bias(gx, gy, tex_rng, p.bias).astype(np.float32)
        image *= bias[None, None]
        image = rician(image, p.noise, tex_rng) * p.scale
    else:  # labels-only cases (fast parameter sweeps): the image is an empty placeholder
        image = np.zeros((T, K, n, n), dtype=np.float32)

    # geometry: pixel (i, j) centre at (coords[i], coords[j]) in-plane, slice k at z_centres[k]
    m = np.eye(4)
    m[:3, :3] = p.frame @ np.diag([p.pixel, p.pixel, p.spacing])
    origin_local = np.array([coords[0], coords[0], z_centres[0]])
    m[:3, 3] = p.heart_ras + p.frame @ origin_local
    times = np.arange(T) * p.rr_ms / T
    img_cine = Cine(image.astype(np.float32), m, times, modality="MR", view="SAX",
                    meta={"phantom": "mr", "seed": int(seed)})
    lab_cine = img_cine.with_array(labels)

    # seed: the mid slice of the ventricle at ED
    k_mid = levels["mid"][len(levels["mid"]) // 2] if levels["mid"] else K // 2
    seed_arr = np.zeros((1, K, n, n), dtype=np.uint8)
    seed_arr[0, k_mid] = labels[0, k_mid]
    seed_cine = Cine(seed_arr, m, times[:1], modality="MR", view="SAX", meta={"phantom": "mr-seed"})

    # landmarks on the seed slice at ED
    r_endo_ed, r_epi_ed, _, _, _, cx_ed, cy_ed = ed_tables
    def to_ras(x_mm: float, y_mm: float) -> np.ndarray:
        i = (x_mm - coords[0]) / p.pixel
        j = (y_mm - coords[0]) / p.pixel
        return img_cine.ijk_to_ras_points([[i, j, k_mid]])[0]
    shift = p.breath_hold[k_mid] + p.center0
    landmarks = {}
    for name, ang in (("RV anterior insertion", p.phi_ant), ("RV inferior insertion", p.phi_inf)):
        r = float(r_epi_ed[k_mid, int(ang * N_BINS / 360.0)])
        a = np.radians(ang)
        landmarks[name] = to_ras(shift[0] + cx_ed[k_mid] + r * np.cos(a), shift[1] + cy_ed[k_mid] - r * np.sin(a))
    jj, ii = np.nonzero(labels[0, k_mid] == 3)
    landmarks["LV center"] = img_cine.ijk_to_ras_points([[ii.mean(), jj.mean(), k_mid]])[0]

    truth = _truth(img_cine, labels, p, levels, k_mid, seed)
    return PhantomCase(img_cine, lab_cine, seed_cine, 0, landmarks, truth)


def _truth(cine: Cine, labels: np.ndarray, p: _Params, levels: dict, k_mid: int, seed: int) -> dict:
    vox = cine.voxel_volume_ml
    lv = (labels == 3).reshape(labels.shape[0], -1).sum(axis=1) * vox
    rv = (labels == 1).reshape(labels.shape[0], -1).sum(axis=1) * vox
    myo_ed = float((labels[0] == 2).sum() * vox)
    ed, es = int(np.argmax(lv)), int(np.argmin(lv))
    rv_ed, rv_es = float(rv.max()), float(rv.min())
    segments = [
        {"id": n + 1, "name": motion.AHA_NAMES[n], "score": int(p.scores[n]),
         "class": motion.CLASS_NAMES[int(p.scores[n])],
         "design_radial_shortening_pct": round(100 * float(p.radial[n]), 2),
         "design_thickening_pct": round(100 * float(p.thick[n]), 2)}
        for n in range(16)
    ]
    return {
        "modality": "MR", "view": "SAX", "seed": int(seed),
        "frame_times_ms": cine.frame_times_ms.tolist(),
        "ed_phase": ed, "es_phase": es,
        "lv_volume_ml": lv.round(4).tolist(),
        "lv_edv_ml": round(float(lv[ed]), 4), "lv_esv_ml": round(float(lv[es]), 4),
        "lv_sv_ml": round(float(lv[ed] - lv[es]), 4),
        "lv_ef_pct": round(float((lv[ed] - lv[es]) / lv[ed] * 100.0), 4),
        "rv_volume_ml": rv.round(4).tolist(),
        "rv_edv_ml": round(rv_ed, 4), "rv_esv_ml": round(rv_es, 4),
        "rv_ef_pct": round((rv_ed - rv_es) / rv_ed * 100.0, 4) if rv_ed > 0 else 0.0,
        "lv_mass_g": round(myo_ed * 1.05, 4),
        "segments": segments,
        "motion_score_index": round(float(np.mean(p.scores)), 4),
        "segment_levels": levels,
        "seed_slice": int(k_mid), "seed_phase": 0,
        "insertion_angles_deg": {"anterior": p.phi_ant, "inferior": p.phi_inf},
        "base_descent_mm": round(p.descent, 3),
        "slice_spacing_mm": round(p.spacing, 4), "slice_thickness_mm": round(p.thickness, 4),
        # per phase, the slices whose centre plane cuts the LV cavity (through-plane motion: basal
        # slices leave the ventricle in systole, the apical cavity closes)
        "lv_slices_per_phase": [[int(k) for k in np.nonzero((labels[t] == 3).any(axis=(1, 2)))[0]]
                                for t in range(labels.shape[0])],
        "breath_hold_shift_mm": np.round(p.breath_hold, 3).tolist(),
        "contraction_curve": [round(float(v), 5) for v in p.s],
        "volume_method": ("disc summation: number of label-3 (LV cavity) voxels x voxel volume "
                          "(pixel area x slice spacing), per phase; RV likewise with label 1; "
                          "LV mass = label-2 voxels at ED x voxel volume x 1.05 g/ml"),
    }
