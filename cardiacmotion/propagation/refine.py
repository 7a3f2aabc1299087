"""Image-driven correction of propagated LV contours (short-axis MR).

Registration of bright blood against a thin dark wall tends to under-follow the endocardium
(warps are smooth; the cavity border moves more than its surroundings), which is why naive
demons propagation under-estimates ejection. Here the propagated cavity and wall are turned
into radii along rays from the cavity centre, and the endocardial radius is re-placed at the
outermost blood-bright sample inside the propagated wall, with a threshold halfway between
the blood and wall intensities measured on the query frame itself. Papillary muscles stay in
the cavity (the outermost bright sample is taken, not the first dark one). The radii are then
low-pass filtered over the angle, so the contours stay smooth.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from cardiacmotion.cine import LV_CAVITY, LV_MYO


def _lowpass(r: np.ndarray, harmonics: int) -> np.ndarray:
    spec = np.fft.rfft(r)
    spec[harmonics + 1:] = 0
    return np.fft.irfft(spec, n=r.size)


def refine_lv(
    image: np.ndarray,
    label: np.ndarray,
    modality: str = "MR",
    n_angles: int = 90,
    harmonics: int = 6,
    reach: float = 4.0,
    keep_thickness: bool = False,
    level: float = 0.5,
) -> np.ndarray:
    """Re-place the endocardium of one 2D label map on the image (values in [0, 1]).

    Args:
        image: ``[H, W]`` normalised image.
        label: ``[H, W]`` propagated labels.
        modality: label convention.
        n_angles: rays from the cavity centre.
        harmonics: Fourier terms kept for the radii.
        reach: how far (pixels) the endocardium may move outward beyond the propagated one.
        keep_thickness: move the epicardium with the endocardium (else keep the propagated one).
        level: where between the wall (0) and blood (1) intensities the border lies.
    """
    cav_v, myo_v = LV_CAVITY[modality], LV_MYO[modality]
    cav = label == cav_v
    myo = label == myo_v
    if cav.sum() < 12 or myo.sum() < 12:
        return label
    inner = ndi.binary_erosion(cav, iterations=1)
    wall = ndi.binary_erosion(myo, iterations=1)
    if inner.sum() < 4 or wall.sum() < 4:
        inner, wall = cav, myo
    blood = float(np.median(image[inner]))
    muscle = float(np.median(image[wall]))
    if blood - muscle < 0.08:  # no usable contrast: keep the propagated contour
        return label
    thr = muscle + level * (blood - muscle)

    h, w = label.shape
    cy, cx = ndi.center_of_mass(cav)
    theta = np.linspace(0, 2 * np.pi, n_angles, endpoint=False)
    radii = np.arange(0, float(np.hypot(h, w)) / 2, 0.5)
    ys = cy + np.sin(theta)[:, None] * radii[None]
    xs = cx + np.cos(theta)[:, None] * radii[None]
    inside = (ys >= 0) & (ys <= h - 1) & (xs >= 0) & (xs <= w - 1)
    yi = np.clip(np.round(ys).astype(int), 0, h - 1)
    xi = np.clip(np.round(xs).astype(int), 0, w - 1)
    sm = ndi.gaussian_filter(image.astype(np.float32), 0.7)
    prof = ndi.map_coordinates(sm, [np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)], order=1)

    def last_run(m: np.ndarray) -> np.ndarray:
        s = np.concatenate([m[yi, xi] & inside, np.zeros((n_angles, 1), bool)], axis=1)
        return radii[np.clip(np.argmin(s, axis=1), 0, len(radii) - 1)]

    r_endo = last_run(cav)
    r_epi = np.maximum(last_run(cav | myo), r_endo)
    has_wall = (r_epi - r_endo) > 0.75
    limit = np.where(has_wall, np.minimum(r_endo + reach, r_epi - 1.0), r_endo)
    bright = (prof > thr) & (radii[None] <= limit[:, None])
    # outermost bright sample inside the limit (papillary muscles stay inside the cavity)
    idx = np.where(bright.any(axis=1), bright.shape[1] - 1 - np.argmax(bright[:, ::-1], axis=1), 0)
    r_new = np.where(has_wall, radii[idx], r_endo)
    r_new = np.maximum(r_new, 0.5)
    r_new = ndi.median_filter(r_new, size=5, mode="wrap")
    r_new = np.maximum(_lowpass(r_new, harmonics), 0.5)
    thick = _lowpass(np.where(has_wall, r_epi - r_endo, 0.0), harmonics)
    wall_frac = _lowpass(has_wall.astype(float), harmonics)
    if keep_thickness:  # the wall follows the endocardium (toward the apex both shrink)
        r_epi_new = np.where(wall_frac > 0.5, r_new + np.maximum(thick, 1.0), r_new)
    else:
        r_epi_new = np.where(wall_frac > 0.5, np.maximum(_lowpass(r_epi, harmonics), r_new + 1.0), r_new)

    yy, xx = np.mgrid[0:h, 0:w]
    rho = np.hypot(yy - cy, xx - cx)
    phi = np.mod(np.arctan2(yy - cy, xx - cx), 2 * np.pi)
    ext = np.concatenate([theta, [2 * np.pi]])
    re = np.interp(phi, ext, np.concatenate([r_new, r_new[:1]]))
    rp = np.interp(phi, ext, np.concatenate([r_epi_new, r_epi_new[:1]]))
    out = label.copy()
    out[cav | myo] = 0
    out[rho <= rp] = myo_v
    out[rho <= re] = cav_v
    return out


def refine_epi(image: np.ndarray, label: np.ndarray, modality: str = "MR", n_angles: int = 90, reach: float = 4.0) -> np.ndarray:
    """Move the propagated epicardium to the smoothest strong edge within ``reach`` pixels."""
    from cardiacmotion.propagation.landmarks_init import _dp_path

    cav_v, myo_v = LV_CAVITY[modality], LV_MYO[modality]
    cav = label == cav_v
    myo = label == myo_v
    if cav.sum() < 12 or myo.sum() < 12:
        return label
    h, w = label.shape
    cy, cx = ndi.center_of_mass(cav)
    theta = np.linspace(0, 2 * np.pi, n_angles, endpoint=False)
    step = 0.5
    radii = np.arange(0, float(np.hypot(h, w)) / 2, step)
    ys = cy + np.sin(theta)[:, None] * radii[None]
    xs = cx + np.cos(theta)[:, None] * radii[None]
    inside = (ys >= 0) & (ys <= h - 1) & (xs >= 0) & (xs <= w - 1)
    yi = np.clip(np.round(ys).astype(int), 0, h - 1)
    xi = np.clip(np.round(xs).astype(int), 0, w - 1)

    def last_run(m: np.ndarray) -> np.ndarray:
        s = np.concatenate([m[yi, xi] & inside, np.zeros((n_angles, 1), bool)], axis=1)
        return radii[np.clip(np.argmin(s, axis=1), 0, len(radii) - 1)]

    r_endo = last_run(cav)
    r_epi = np.maximum(last_run(cav | myo), r_endo)
    has_wall = (r_epi - r_endo) > 0.75
    if has_wall.mean() < 0.5:
        return label
    sm = ndi.gaussian_filter(image.astype(np.float32), 1.0)
    prof = ndi.map_coordinates(sm, [np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)], order=1)
    grad = np.abs(np.gradient(prof, step, axis=1))
    scale = max(float(np.percentile(grad, 99)), 1e-6)
    cost = np.full(prof.shape, 1e3, np.float64)
    for a in range(n_angles):
        lo = max(r_endo[a] + 1.5, r_epi[a] - reach)
        hi = r_epi[a] + reach
        sel = (radii >= lo) & (radii <= hi)
        if not has_wall[a]:
            sel = np.abs(radii - r_epi[a]) < step
            cost[a, sel] = 0.0
            continue
        cost[a, sel] = -grad[a, sel] / scale + 0.15 * np.abs(radii[sel] - r_epi[a]) / reach
    r_new = radii[_dp_path(cost, max_jump=2)]
    r_new = np.where(has_wall, ndi.uniform_filter1d(r_new, 5, mode="wrap"), r_epi)
    r_new = np.maximum(r_new, r_endo + 1.0)

    yy, xx = np.mgrid[0:h, 0:w]
    rho = np.hypot(yy - cy, xx - cx)
    phi = np.mod(np.arctan2(yy - cy, xx - cx), 2 * np.pi)
    ext = np.concatenate([theta, [2 * np.pi]])
    rp = np.interp(phi, ext, np.concatenate([r_new, r_new[:1]]))
    out = label.copy()
    out[myo] = 0
    out[(rho <= rp) & ~cav & ((out == 0) | (out == myo_v))] = myo_v
    return out
