"""Small moving-heart cines for tests and the benchmark when the phantom package is absent.

Not a phantom (see :mod:`cardiacmotion.phantom` for that): an LV ring that contracts and
thickens, narrows toward the apex and ends before the last slices, an RV crescent on the
septal side, bright blood, darker muscle, a textured background and noise. Echo: one
elongated LV (dark cavity, bright wall) contracting over the cycle.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cardiacmotion.cine import Cine, default_frame_times


@dataclass
class SyntheticCase:
    image: Cine
    labels: Cine
    seed_phase: int
    seed_slice: int
    landmarks: dict


def _affine(sp: float, dz: float) -> np.ndarray:
    # short-axis-like orientation whose +k points toward the apex (left, anterior, inferior)
    m = np.eye(4)
    m[:3, 0] = [sp, 0, 0]
    m[:3, 1] = [0, 0, -sp]
    k = np.array([-1.0, 1.0, -1.0]) / np.sqrt(3)
    m[:3, 2] = k * dz
    return m


def make_mr(seed: int = 0, phases: int = 12, slices: int = 8, size: int = 96, sp: float = 1.6) -> SyntheticCase:
    """A cine MR stack ``[phases, slices, size, size]`` with labels (ACDC convention)."""
    rng = np.random.default_rng(seed)
    jj, ii = np.mgrid[0:size, 0:size].astype(np.float32)
    cx, cy = size / 2 + rng.uniform(-4, 4), size / 2 + rng.uniform(-4, 4)
    r_endo_ed = rng.uniform(13, 16)
    wall = rng.uniform(5, 6.5)
    ef = rng.uniform(0.45, 0.65)
    bg = np.clip(0.35 + 0.08 * np.sin(ii / 7.0 + rng.uniform(0, 6)) * np.cos(jj / 9.0), 0, 1)
    img = np.zeros((phases, slices, size, size), np.float32)
    lab = np.zeros((phases, slices, size, size), np.uint8)
    apex_k = slices - 1.2
    for t in range(phases):
        c = 0.5 - 0.5 * np.cos(2 * np.pi * t / phases)  # 0 at ED (t=0), 1 at ES
        r_area = np.sqrt(1 - ef * c)
        for k in range(slices):
            taper = np.sqrt(max(0.0, 1 - (k / apex_k) ** 3))
            re = r_endo_ed * r_area * taper
            rw = wall * (1 + 0.4 * c)
            dx, dy = ii - (cx + 1.0 * c), jj - (cy + 0.5 * c)
            rho = np.hypot(dx, dy)
            a = img[t, k]
            a[:] = bg
            l = lab[t, k]
            if taper > 0.05:
                myo = rho <= re + rw
                l[myo] = 2
                l[rho <= re] = 3
                # RV crescent on the septal side (toward -x)
                rv_c = (cx - (re + rw) - 0.55 * r_endo_ed * taper, cy)
                rv = (np.hypot((ii - rv_c[0]) / 0.8, (jj - rv_c[1]) / 1.6) <= r_endo_ed * taper * (1 - 0.35 * c)) & (l == 0)
                rv &= ii < cx - (re + rw) + 1
                l[rv] = 1
            a[l == 3] = 0.9
            a[l == 1] = 0.85
            a[l == 2] = 0.25
    img += rng.normal(0, 0.04, img.shape).astype(np.float32)
    img = img * 400 + 50
    aff = _affine(sp, 8.0)
    cine = Cine(img, aff, default_frame_times(phases), modality="MR", view="SAX")
    k0 = slices // 3
    # landmarks: insertions where the RV meets the LV wall, LV centre at ED
    re0 = r_endo_ed * np.sqrt(max(0.0, 1 - (k0 / apex_k) ** 3))
    ang = np.deg2rad([130.0, 230.0])
    pts_ijk = {
        "RV anterior insertion": [cx + (re0 + wall) * np.cos(ang[0]), cy - (re0 + wall) * np.sin(ang[0]), k0],
        "RV inferior insertion": [cx + (re0 + wall) * np.cos(ang[1]), cy - (re0 + wall) * np.sin(ang[1]), k0],
        "LV center": [cx, cy, k0],
    }
    landmarks = {n: cine.ijk_to_ras_points(np.array(p))[0] for n, p in pts_ijk.items()}
    return SyntheticCase(cine, cine.with_array(lab), 0, k0, landmarks)


def make_echo(seed: int = 0, frames: int = 16, size: int = 112, sp: float = 0.6) -> SyntheticCase:
    """An apical-view echo video ``[frames, 1, size, size]`` (CAMUS labels 1 LV, 2 myo)."""
    rng = np.random.default_rng(seed)
    jj, ii = np.mgrid[0:size, 0:size].astype(np.float32)
    cx = size / 2 + rng.uniform(-3, 3)
    base_y, L0, W0 = size * 0.8, size * 0.55, size * 0.17
    ef = rng.uniform(0.45, 0.6)
    img = np.zeros((frames, 1, size, size), np.float32)
    lab = np.zeros((frames, 1, size, size), np.uint8)
    for t in range(frames):
        c = 0.5 - 0.5 * np.cos(2 * np.pi * t / frames)
        s = np.sqrt(1 - ef * c)
        L, W = L0 * (1 - 0.15 * c), W0 * s
        u = (base_y - jj) / L
        hw = W * np.sqrt(np.clip(1 - np.clip(u, 0, None) ** 2.2, 0, None))
        cav = (u >= 0) & (u <= 1) & (np.abs(ii - cx) <= hw)
        outer_hw = (W + 7) * np.sqrt(np.clip(1 - np.clip((base_y - jj) / (L + 7), 0, None) ** 2.2, 0, None))
        myo = (u >= 0) & ((base_y - jj) <= L + 7) & (np.abs(ii - cx) <= outer_hw) & ~cav
        a = np.full((size, size), 0.2, np.float32)
        a[myo] = 0.75
        a[cav] = 0.08
        img[t, 0] = a
        lab[t, 0][myo] = 2
        lab[t, 0][cav] = 1
    img = np.clip(img * rng.gamma(4.0, 0.25, img.shape).astype(np.float32), 0, 1) * 255
    m = np.eye(4)
    m[0, 0] = sp
    m[1, 1] = -sp
    cine = Cine(img, m, default_frame_times(frames), modality="US", view="A4C")
    pts = {
        "Apex": [cx, base_y - L0, 0],
        "Mitral annulus septal": [cx - W0, base_y, 0],
        "Mitral annulus lateral": [cx + W0, base_y, 0],
    }
    landmarks = {n: cine.ijk_to_ras_points(np.array(p))[0] for n, p in pts.items()}
    return SyntheticCase(cine, cine.with_array(lab), 0, 0, landmarks)
