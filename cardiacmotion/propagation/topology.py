"""Keeping label maps anatomically sane after propagation.

One LV cavity (largest component, holes filled: papillary muscles count as cavity), the
myocardium as the largest component of the ring around it (holes between cavity and
myocardium become myocardium), the RV (MR) or left atrium (echo) as their largest component
and never overlapping the LV.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from scipy import ndimage as ndi

from cardiacmotion.cine import LV_CAVITY, LV_MYO

#: the third structure: RV cavity (MR), left atrium (echo)
THIRD_STRUCTURE = {"MR": 1, "US": 3}


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected component of a 2D boolean mask (empty stays empty)."""
    if not mask.any():
        return mask
    lab, n = ndi.label(mask, structure=np.ones((3, 3), bool))
    if n <= 1:
        return mask
    sizes = np.bincount(lab.ravel())
    sizes[0] = 0
    return lab == int(np.argmax(sizes))


def clean_labels(label: np.ndarray, modality: str = "MR", min_pixels: int = 4) -> np.ndarray:
    """Return a cleaned copy of one 2D label map (values per ``modality``)."""
    cav_v, myo_v, oth_v = LV_CAVITY[modality], LV_MYO[modality], THIRD_STRUCTURE[modality]
    out = np.zeros_like(label)
    cav = largest_component(label == cav_v)
    if cav.sum() < min_pixels:
        cav = np.zeros_like(cav)
    cav = ndi.binary_fill_holes(cav)
    myo = (label == myo_v) & ~cav
    if myo.any():
        myo = largest_component(myo)
        # holes of cavity + myocardium that are not cavity belong to the wall
        filled = ndi.binary_fill_holes(myo | cav)
        myo = filled & ~cav
    if myo.sum() < min_pixels:
        myo = np.zeros_like(myo)
    oth = largest_component((label == oth_v) & ~cav & ~myo)
    if oth.sum() < min_pixels:
        oth = np.zeros_like(oth)
    out[oth] = oth_v
    out[myo] = myo_v
    out[cav] = cav_v
    return out


def ring_radii(label: np.ndarray, modality: str = "MR", n_angles: int = 90, step: float = 0.5):
    """Endocardial and epicardial radii along rays from the LV cavity centroid.

    Returns:
        ``(centre (cy, cx), theta [n], r_endo [n], r_epi [n], has_wall bool [n])`` or ``None``
        when the cavity is too small. ``r_endo`` is where the contiguous cavity run from the
        centre ends, ``r_epi`` where cavity + myocardium ends.
    """
    cav_v, myo_v = LV_CAVITY[modality], LV_MYO[modality]
    cav = label == cav_v
    if cav.sum() < 8:
        return None
    h, w = label.shape
    cy, cx = ndi.center_of_mass(cav)
    theta = np.linspace(0, 2 * np.pi, n_angles, endpoint=False)
    radii = np.arange(0, float(np.hypot(h, w)) / 2, step)
    ys = cy + np.sin(theta)[:, None] * radii[None]
    xs = cx + np.cos(theta)[:, None] * radii[None]
    inside = (ys >= 0) & (ys <= h - 1) & (xs >= 0) & (xs <= w - 1)
    yi = np.clip(np.round(ys).astype(int), 0, h - 1)
    xi = np.clip(np.round(xs).astype(int), 0, w - 1)

    def run_length(m: np.ndarray) -> np.ndarray:
        s = m[yi, xi] & inside
        # radius where the contiguous run from the centre ends
        first_out = np.argmin(np.concatenate([s, np.zeros((n_angles, 1), bool)], axis=1), axis=1)
        return radii[np.clip(first_out, 0, len(radii) - 1)]

    r_endo = run_length(cav)
    r_epi = np.maximum(run_length(cav | (label == myo_v)), r_endo)
    return (cy, cx), theta, r_endo, r_epi, (r_epi - r_endo) > 0.75


def lowpass(r: np.ndarray, harmonics: int) -> np.ndarray:
    """Keep the first ``harmonics`` Fourier terms of a periodic profile."""
    spec = np.fft.rfft(r)
    spec[harmonics + 1:] = 0
    return np.fft.irfft(spec, n=r.size)


def wall_thickness(label: np.ndarray, modality: str = "MR", harmonics: int = 6, n_angles: int = 90) -> Optional[np.ndarray]:
    """Smoothed wall thickness (pixels) per ray angle of one label map (``None`` without a full ring)."""
    rr = ring_radii(label, modality, n_angles)
    if rr is None:
        return None
    _, _, r_endo, r_epi, has_wall = rr
    if has_wall.mean() < 0.5:
        return None
    t = np.where(has_wall, r_epi - r_endo, np.median((r_epi - r_endo)[has_wall]))
    return np.maximum(lowpass(t, harmonics), 1.0)


def draw_ring(label: np.ndarray, modality: str, centre, theta: np.ndarray, r_endo: np.ndarray, r_epi: Optional[np.ndarray]) -> np.ndarray:
    """Redraw the LV cavity (inside ``r_endo``) and myocardium (to ``r_epi``) on a copy of ``label``."""
    cav_v, myo_v = LV_CAVITY[modality], LV_MYO[modality]
    h, w = label.shape
    cy, cx = centre
    yy, xx = np.mgrid[0:h, 0:w]
    rho = np.hypot(yy - cy, xx - cx)
    phi = np.mod(np.arctan2(yy - cy, xx - cx), 2 * np.pi)
    ext = np.concatenate([theta, [2 * np.pi]])
    re = np.interp(phi, ext, np.concatenate([r_endo, r_endo[:1]]))
    out = label.copy()
    out[(out == cav_v) | (out == myo_v)] = 0
    if r_epi is not None:
        rp = np.interp(phi, ext, np.concatenate([r_epi, r_epi[:1]]))
        out[rho <= rp] = myo_v
    out[rho <= re] = cav_v
    return out


def smooth_ring(
    label: np.ndarray,
    modality: str = "MR",
    harmonics: int = 6,
    n_angles: int = 90,
    max_thickness: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Regularise the LV cavity and myocardium as star-shaped curves around the cavity centre.

    Along rays from the cavity centroid, the endocardial radius (end of the cavity) and the
    epicardial radius (end of cavity + myocardium) are measured and low-pass filtered over
    the angle (``harmonics`` Fourier terms), then the two regions are redrawn. Rays without
    myocardium (e.g. the outflow tract at the base) keep no wall. ``max_thickness`` (pixels,
    scalar or per angle) caps the wall, e.g. at the thickness seen on the seeded slice.
    """
    rr = ring_radii(label, modality, n_angles)
    if rr is None:
        return label
    centre, theta, r_endo, r_epi, has_wall = rr
    r_endo_s = np.maximum(lowpass(r_endo, harmonics), 0.5)
    thick = lowpass(np.where(has_wall, r_epi - r_endo, 0.0), harmonics)
    wall_frac = lowpass(has_wall.astype(float), harmonics)
    thick = np.maximum(thick, 1.0)
    if max_thickness is not None:
        thick = np.minimum(thick, max_thickness)
    r_epi_s = r_endo_s + np.where(wall_frac > 0.5, thick, 0.0)
    has_myo = bool((label == LV_MYO[modality]).any())
    return draw_ring(label, modality, centre, theta, r_endo_s, r_epi_s if has_myo else None)
