"""Synthetic apical four- and two-chamber echocardiography videos with exact ground truth.

The image plane has ``x`` (mm, screen right) and ``y`` (mm, depth below the transducer). The LV is
a bullet (elliptical apical cap, tapering toward the mitral annulus) in a frame with ``v`` along the
long axis from the endocardial apex and ``u`` across it (negative = septal side in A4C, inferior side
in A2C, on the screen left). Systole shortens the long axis (the annulus moves toward the nearly
fixed apex), narrows the cavity and thickens the wall; the atria fill. The image is an echogenicity
map times spatially correlated speckle (part of it moving with the myocardium), attenuated with
depth, with drop-out and near-field clutter, log-compressed and masked to a sector.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.phantom import motion
from cardiacmotion.phantom.case import PhantomCase
from cardiacmotion.phantom.mr import _opt
from cardiacmotion.phantom.texture import paint, smooth_field, soft_inside

#: Options ``make_echo_case`` understands.
ECHO_OPTIONS = frozenset({"frames", "pixel_mm", "rows", "columns", "ef_pct", "image"})

N_DISCS = 20
VOLUME_METHOD = (
    "single-plane method of discs on the labels: the axis runs from the 'Apex' landmark to the midpoint "
    "of the two mitral-annulus landmarks of the frame (length L); it is cut into 20 discs of height L/20; "
    "for disc n the diameter D_n is the length, along the line perpendicular to the axis through the "
    "axis point at (n + 0.5) L / 20 from the apex, that lies in LV-cavity pixels (label 1), sampled every "
    "0.05 mm over +-80 mm with nearest-pixel lookup; V = sum(pi / 4 * D_n^2 * L / 20) / 1000 ml"
)

# echogenicity (relative backscatter)
E_BLOOD, E_MYO, E_TISSUE, E_PERI, E_VALVE, E_WALL = 0.006, 0.45, 0.07, 1.0, 0.6, 0.35


def _bullet(u, v, a, a_ann, v_eq, length):
    """Signed distance (mm, negative inside) and inside mask of the LV bullet.

    ``a`` may be an array (septal / lateral half-widths per pixel)."""
    cap = (np.sqrt((u / a) ** 2 + ((v - v_eq) / v_eq) ** 2) - 1.0) * np.minimum(a, v_eq)
    f = np.clip((v - v_eq) / max(length - v_eq, 1e-6), 0.0, 1.0)
    w = a - (a - a_ann) * f**1.5
    body = np.maximum(np.abs(u) - w, v - length)
    d = np.where(v < v_eq, cap, body)
    return d


class _EchoParams:
    def __init__(self, rng: np.random.Generator, view: str, options: dict):
        o = options
        self.view = view
        # every draw happens whatever the options, so an option changes only what it names
        self.frames = _opt(o, "frames", int(rng.integers(30, 81)), int, 2, 400)
        self.pixel = _opt(o, "pixel_mm", float(rng.uniform(0.45, 0.5)), float, 0.1, 2.0)
        self.rows = _opt(o, "rows", 256, int, 64, 1024)
        self.cols = _opt(o, "columns", 2 * int(rng.integers(116, 129)), int, 64, 1024)
        self.rr_ms = float(rng.uniform(700.0, 1100.0))
        self.ef_design = _opt(o, "ef_pct", float(rng.uniform(20.0, 75.0)), float, 5.0, 85.0) / 100.0
        q = float(np.clip((self.ef_design - 0.2) / 0.55, 0.0, 1.0))
        self.long_short = 0.05 + 0.12 * q
        self.radial = 1.0 - np.sqrt((1.0 - self.ef_design) / (1.0 - self.long_short))
        self.thicken = 0.12 + 0.38 * q
        depth = self.rows * self.pixel
        self.apex = np.array([rng.uniform(-2.0, 4.0), rng.uniform(12.0, 17.0)])
        # A4C: the LV axis runs down to the right, the RV lies left of the septum near the midline
        self.tilt = np.radians(rng.uniform(8.0, 16.0) if view == "A4C" else rng.uniform(-4.0, 8.0))
        dil = 1.0 + 0.2 * (1.0 - q) * rng.uniform(0.0, 1.0)
        self.length = float(min(rng.uniform(66.0, 80.0), depth - self.apex[1] - 38.0))
        self.a = float(rng.uniform(20.0, 24.0) * dil) * (1.0 if view == "A4C" else 0.97)
        self.a_ann = float(rng.uniform(12.0, 14.5))
        self.asym = float(rng.uniform(0.9, 1.0))  # septal / inferior half-width relative to the other
        self.v_eq = float(rng.uniform(0.38, 0.5) * self.length)
        self.wall = float(rng.uniform(7.5, 10.0))
        self.wall_apex = float(rng.uniform(5.5, 7.5))
        self.la_width = float(rng.uniform(17.0, 22.0))
        self.la_height = float(min(rng.uniform(34.0, 44.0), depth - self.apex[1] - self.length - 3.0))
        self.rv_width = float(rng.uniform(20.0, 27.0))
        self.s = motion.contraction_curve(self.frames, rng)
        self.sector_half = np.radians(rng.uniform(40.0, 45.0))
        self.dynamic_db = float(rng.uniform(45.0, 55.0))
        self.atten = float(rng.uniform(0.004, 0.008))  # residual attenuation after TGC, per mm
        self.dropout = [(float(rng.uniform(-0.5, 0.5)), float(rng.uniform(0.04, 0.09)), float(rng.uniform(0.35, 0.8)))
                        for _ in range(int(rng.integers(1, 3)))]
        self.speckle_psf = (float(rng.uniform(0.3, 0.45)) / self.pixel, float(rng.uniform(0.8, 1.2)) / self.pixel)
        self.persist = float(rng.uniform(0.75, 0.9))
        self.blur_psf = (0.5 / self.pixel, float(rng.uniform(1.2, 1.8)) / self.pixel)


def make_echo_case(seed: int, view: str = "A4C", **options) -> PhantomCase:
    """A synthetic apical echo video (one slice, modality 'US') with exact ground truth.

    Args:
        seed: random seed; the same seed (and view) gives the same case.
        view: 'A4C' (LV, LA, RV, RA) or 'A2C' (LV, LA).
        **options: ``frames`` (default 30-80 over one cycle), ``pixel_mm``, ``rows``, ``columns``,
            ``ef_pct`` (design EF; the truth is measured on the labels), ``image`` (False: labels,
            landmarks and truth only; the image stays zero).

    Returns:
        A :class:`PhantomCase` (labels: 1 LV cavity, 2 LV myocardium, 3 left atrium) whose truth has
        ``landmarks_per_frame`` and the method-of-discs ``lv_volume_ml`` per frame.
    """
    unknown = set(options) - ECHO_OPTIONS
    if unknown:
        raise InputError(f"unknown echo phantom option(s) {sorted(unknown)} (known: {sorted(ECHO_OPTIONS)})")
    view = str(view).upper()
    if view not in ("A4C", "A2C"):
        raise InputError(f"unknown echo view {view!r} (expected A4C or A2C)")
    rng = np.random.default_rng([int(seed), 1 if view == "A4C" else 2])
    tex_rng = np.random.default_rng([int(seed), 1 if view == "A4C" else 2, 7])  # texture: own stream
    with_image = bool(options.get("image", True))
    p = _EchoParams(rng, view, options)
    H, W, T, px = p.rows, p.cols, p.frames, p.pixel
    xs = (np.arange(W) - (W - 1) / 2.0) * px
    ys = np.arange(H) * px + 1.0  # the transducer sits just above the first row
    gx, gy = np.meshgrid(xs, ys)
    gx = gx.astype(np.float32)
    gy = gy.astype(np.float32)
    theta = np.arctan2(gx, gy)
    radius = np.hypot(gx, gy)
    sector = soft_inside((np.abs(theta) - p.sector_half) * radius, px) * soft_inside(radius - ys[-1], px)
    in_sector = (np.abs(theta) < p.sector_half) & (radius < ys[-1])

    eu = np.array([np.cos(p.tilt), -np.sin(p.tilt)])  # across the LV, toward the lateral wall
    ev = np.array([np.sin(p.tilt), np.cos(p.tilt)])  # along the LV axis, apex -> base
    bg_tex = np.clip(1.0 + smooth_field((H, W), tex_rng, 5.0, 0.6), 0.15, None)
    # static complex speckle field in end-diastolic coordinates (warped with the heart)
    c0 = [ndimage.gaussian_filter(tex_rng.standard_normal((H, W)), p.speckle_psf) for _ in range(2)]
    myo_tex = np.clip(1.0 + smooth_field((H, W), tex_rng, 4.0 / px, 0.3), 0.4, None)

    image = np.zeros((T, 1, H, W), dtype=np.float32)
    labels = np.zeros((T, 1, H, W), dtype=np.uint8)
    lm_frames = {"Apex": [], "Mitral annulus septal": [], "Mitral annulus lateral": []}
    for t in range(T):
        s = float(p.s[t])
        apex = p.apex + np.array([0.0, 1.5 * s])  # the apex barely moves
        length = p.length * (1.0 - p.long_short * s)
        a = p.a * (1.0 - p.radial * s)
        a_ann = p.a_ann * (1.0 - 0.12 * s)
        wall = p.wall * (1.0 + p.thicken * s)
        wall_ap = p.wall_apex * (1.0 + p.thicken * s)
        v_eq = p.v_eq * (length / p.length)
        rx, ry = gx - apex[0], gy - apex[1]
        u = rx * eu[0] + ry * eu[1]
        v = rx * ev[0] + ry * ev[1]
        a_side = np.where(u < 0, a * p.asym, a)
        d_endo = _bullet(u, v, a_side, a_ann, v_eq, length)
        d_epi = _bullet(u, v + wall_ap, a_side + wall, a_ann + wall * 0.8, v_eq + wall_ap, length + wall_ap)
        # atria: the LA hangs below the mitral annulus; it fills in systole
        la_h = p.la_height * (1.0 + 0.15 * s)
        la_c = length + 0.42 * la_h
        d_la = (np.hypot(u / p.la_width, (v - la_c) / (0.58 * la_h)) - 1.0) * p.la_width
        d_la_cut = np.maximum(d_la, length - v)
        d_epi_cut = np.maximum(d_epi, v - length)
        # labels (pixel centres)
        lab = np.zeros((H, W), dtype=np.uint8)
        lab[d_la_cut < 0] = 3
        lab[d_epi_cut < 0] = 2
        lab[d_endo < 0] = 1
        lab[in_sector == 0] = 0  # only what is imaged is labelled
        labels[t, 0] = lab
        lm_frames["Apex"].append((apex[0], apex[1]))
        for name, side in (("Mitral annulus septal", -1.0), ("Mitral annulus lateral", 1.0)):
            uu = side * (a_ann * (p.asym if side < 0 else 1.0))
            lm_frames[name].append((apex[0] + uu * eu[0] + length * ev[0], apex[1] + uu * eu[1] + length * ev[1]))
        if not with_image:
            continue
        e = E_TISSUE * bg_tex
        if view == "A4C":
            rv_len = length - 4.0
            rv_top = 0.3 * length
            w_sep_epi = _bullet_width(v + wall_ap, a * p.asym + wall, a_ann + wall * 0.8, v_eq + wall_ap, length + wall_ap)
            u_in = -w_sep_epi
            grow = np.sqrt(np.clip((v - rv_top) / (rv_len - rv_top), 0.0, 1.0))
            u_out = u_in - p.rv_width * (1.0 - 0.3 * s) * grow
            d_rvfree = np.maximum(np.maximum(u - u_in, u_out - u), np.maximum(rv_top - v, v - rv_len))
            ra_c = np.array([-(a_ann + wall + 18.0), rv_len + 22.0])
            d_ra = (np.hypot((u - ra_c[0]) / 19.0, (v - ra_c[1]) / (22.0 * (1 + 0.12 * s))) - 1.0) * 19.0
            paint(e, soft_inside(d_ra - 2.0, px), E_WALL)
            paint(e, soft_inside(d_ra, px), E_BLOOD)
            paint(e, soft_inside(d_rvfree - 3.5, px), E_MYO * 0.9)
            paint(e, soft_inside(d_rvfree, px), E_BLOOD)
        paint(e, soft_inside(d_la_cut - 2.0, px), E_WALL)
        paint(e, soft_inside(d_la_cut, px), E_BLOOD)
        # pericardium (bright), myocardium, cavity
        peri = soft_inside(d_epi_cut - 2.5, px) * (1.0 - soft_inside(d_epi_cut, px))
        paint(e, peri * (1.0 - soft_inside(u, px) * (view == "A4C")), E_PERI)  # no pericardium on the septum
        paint(e, soft_inside(d_epi_cut, px), E_MYO * myo_tex)
        paint(e, soft_inside(d_endo, px), E_BLOOD)
        # mitral leaflets: open toward the apex in diastolic filling, closed in systole
        ds = p.s[(t + 1) % T] - s
        opening = float(np.clip(-ds * 12.0, 0.0, 1.0)) if ds < 0 else 0.0
        ann_w = a_ann
        for side in (-1.0, 1.0):
            base_u = side * (ann_w if side > 0 else ann_w * p.asym)
            ang = np.radians(8.0 + 72.0 * opening)  # from the annulus plane toward the apex
            leaf = 0.55 * ann_w * 2.0 * 0.5 + 2.0
            tip_u = base_u - side * leaf * np.cos(ang)
            tip_v = length + 1.5 - leaf * np.sin(ang)
            d_leaf = _segment_distance(u, v, (base_u, length), (tip_u, tip_v)) - 0.8
            paint(e, soft_inside(d_leaf, px), E_VALVE)
        # speckle: part moves with the heart (warped from ED coordinates), part decorrelates
        scale_u = p.a / a
        scale_v = p.length / length
        inside = soft_inside(d_epi_cut - 6.0, 4.0)
        u_ed = u * (1 + (scale_u - 1) * inside)
        v_ed = v * (1 + (scale_v - 1) * inside)
        x_ed = p.apex[0] + u_ed * eu[0] + v_ed * ev[0]
        y_ed = p.apex[1] + u_ed * eu[1] + v_ed * ev[1]
        coords = np.stack([(y_ed - ys[0]) / px, (x_ed - xs[0]) / px])
        fresh = [ndimage.gaussian_filter(tex_rng.standard_normal((H, W)), p.speckle_psf) for _ in range(2)]
        k = np.sqrt(1.0 - p.persist**2)
        re = p.persist * ndimage.map_coordinates(c0[0], coords, order=1, mode="reflect") + k * fresh[0]
        im = p.persist * ndimage.map_coordinates(c0[1], coords, order=1, mode="reflect") + k * fresh[1]
        # the beam's point-spread function blurs the echogenicity map (wider laterally)
        e = ndimage.gaussian_filter(e, p.blur_psf)
        env = e * np.hypot(re, im)
        image[t, 0] = env
    # image formation common to all frames: clutter, drop-out, attenuation, log compression, sector
    if with_image:
        image[:, 0] = _form_image(image[:, 0], p, sector, theta, gy, tex_rng)

    # geometry: i right, j depth (down = inferior in the scanner frame), one 1 mm thick slice
    m = np.eye(4)
    m[:3, 0] = [px, 0.0, 0.0]
    m[:3, 1] = [0.0, 0.0, -px]
    m[:3, 2] = [0.0, 1.0, 0.0]
    m[:3, 3] = [xs[0], 0.0, -ys[0]]
    times = np.arange(T) * p.rr_ms / T
    img_cine = Cine(image, m, times, modality="US", view=view, meta={"phantom": "echo", "seed": int(seed)})
    lab_cine = img_cine.with_array(labels)
    seed_cine = img_cine.with_array(labels[:1].copy(), frame_times_ms=times[:1])

    def to_ras(pt):
        i = (pt[0] - xs[0]) / px
        j = (pt[1] - ys[0]) / px
        return img_cine.ijk_to_ras_points([[i, j, 0.0]])[0]

    per_frame = {name: np.array([to_ras(pt) for pt in pts]) for name, pts in lm_frames.items()}
    landmarks = {name: per_frame[name][0] for name in per_frame}
    truth = _echo_truth(img_cine, labels, per_frame, p, seed)
    return PhantomCase(img_cine, lab_cine, seed_cine, 0, landmarks, truth)


def _form_image(env, p, sector, theta, gy, tex_rng):
    """Backscatter envelopes (T, H, W) -> log-compressed 0-255 sector images."""
    T, H, W = env.shape
    env = env.astype(np.float64)
    env /= np.mean(env[:, sector > 0.5]) + 1e-9
    clutter = 0.35 * np.exp(-gy / 12.0)
    drop = np.ones((H, W))
    for th0, width, depth in p.dropout:
        drop *= 1.0 - depth * np.exp(-0.5 * ((theta - th0 * p.sector_half) / width) ** 2)
    env = env * drop * np.exp(-p.atten * gy) + clutter * np.abs(tex_rng.standard_normal((T, H, W))) * 0.5
    env += 0.004 * np.abs(tex_rng.standard_normal(env.shape))
    ref = np.percentile(env[:, sector > 0.5], 99.5)
    db = 20.0 * np.log10(np.maximum(env / ref, 1e-6))
    img = np.clip((db + p.dynamic_db) / p.dynamic_db, 0.0, 1.0) * 255.0 * sector
    return img.astype(np.float32)


def _bullet_width(v, a, a_ann, v_eq, length):
    """Half-width of the bullet at ``v`` (0 outside [0, length])."""
    cap = a * np.sqrt(np.clip(1.0 - ((v - v_eq) / v_eq) ** 2, 0.0, None))
    f = np.clip((v - v_eq) / max(length - v_eq, 1e-6), 0.0, 1.0)
    body = a - (a - a_ann) * f**1.5
    w = np.where(v < v_eq, cap, body)
    return np.where((v >= 0) & (v <= length), w, 0.0)


def _segment_distance(u, v, a, b):
    """Distance of points (u, v) to the segment a-b."""
    au, av = u - a[0], v - a[1]
    bu, bv = b[0] - a[0], b[1] - a[1]
    h = np.clip((au * bu + av * bv) / (bu * bu + bv * bv + 1e-12), 0.0, 1.0)
    return np.hypot(au - h * bu, av - h * bv)


def discs_volume_ml(cavity: np.ndarray, cine: Cine, apex_ras: np.ndarray, annulus_mid_ras: np.ndarray,
                    n_discs: int = N_DISCS, step_mm: float = 0.05, half_span_mm: float = 80.0) -> float:
    """Single-plane method of discs on one 2D label mask (see ``VOLUME_METHOD``)."""
    apex = cine.ras_to_ijk_points(apex_ras)[0, :2]
    mid = cine.ras_to_ijk_points(annulus_mid_ras)[0, :2]
    sp = cine.spacing[:2]
    axis_mm = (mid - apex) * sp
    length = float(np.linalg.norm(axis_mm))
    if length <= 0:
        return 0.0
    ax = axis_mm / length
    perp = np.array([-ax[1], ax[0]])
    offs = np.arange(-half_span_mm, half_span_mm + 1e-9, step_mm)
    h = length / n_discs
    total = 0.0
    rows, cols = cavity.shape
    for n in range(n_discs):
        centre_mm = apex * sp + ax * (n + 0.5) * h
        pts = centre_mm[None, :] + offs[:, None] * perp[None, :]
        ii = np.rint(pts[:, 0] / sp[0]).astype(int)
        jj = np.rint(pts[:, 1] / sp[1]).astype(int)
        ok = (ii >= 0) & (ii < cols) & (jj >= 0) & (jj < rows)
        diameter = float(np.count_nonzero(cavity[jj[ok], ii[ok]])) * step_mm
        total += np.pi / 4.0 * diameter**2 * h
    return total / 1000.0


def _echo_truth(cine: Cine, labels: np.ndarray, per_frame: dict, p: _EchoParams, seed: int) -> dict:
    T = labels.shape[0]
    px_area = float(cine.spacing[0] * cine.spacing[1])
    vols, areas, la_areas, lengths = [], [], [], []
    for t in range(T):
        cav = labels[t, 0] == 1
        mid = 0.5 * (per_frame["Mitral annulus septal"][t] + per_frame["Mitral annulus lateral"][t])
        vols.append(discs_volume_ml(cav, cine, per_frame["Apex"][t], mid))
        areas.append(float(cav.sum()) * px_area)
        la_areas.append(float((labels[t, 0] == 3).sum()) * px_area)
        lengths.append(float(np.linalg.norm(mid - per_frame["Apex"][t])))
    vols = np.asarray(vols)
    ed, es = int(np.argmax(vols)), int(np.argmin(vols))
    return {
        "modality": "US", "view": p.view, "seed": int(seed),
        "frame_times_ms": cine.frame_times_ms.tolist(),
        "ed_phase": ed, "es_phase": es,
        "lv_volume_ml": vols.round(4).tolist(),
        "lv_edv_ml": round(float(vols[ed]), 4), "lv_esv_ml": round(float(vols[es]), 4),
        "lv_sv_ml": round(float(vols[ed] - vols[es]), 4),
        "lv_ef_pct": round(float((vols[ed] - vols[es]) / vols[ed] * 100.0), 4),
        "lv_area_mm2": [round(a, 4) for a in areas],
        "la_area_mm2": [round(a, 4) for a in la_areas],
        "lv_length_mm": [round(v, 4) for v in lengths],
        "rv_volume_ml": None, "rv_edv_ml": None, "rv_esv_ml": None, "rv_ef_pct": None,
        "lv_mass_g": None,
        "segments": [], "motion_score_index": None,
        "wall_motion": "global (no regional truth in the echo phantom)",
        "landmarks_per_frame": {n: np.round(v, 4).tolist() for n, v in per_frame.items()},
        "landmark_note": ("A2C: 'Mitral annulus septal' is the inferior-wall annulus point (screen left), "
                          "'lateral' the anterior one" if p.view == "A2C" else "A4C: septal = screen left"),
        "volume_method": VOLUME_METHOD,
        "area_method": "lv_area_mm2 = number of label-1 pixels x pixel area (la_area_mm2 likewise with label 3)",
        "design_ef_pct": round(100 * p.ef_design, 3),
        "seed_phase": 0,
    }
