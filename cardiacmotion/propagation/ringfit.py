"""Fitting the propagated LV ring to the query image along rays (short-axis MR).

Registration between slices 10 mm apart (or between distant phases) follows the heart's
shape only smoothly: toward the apex the cavity and the wall shrink faster than the warp,
and the epicardium drifts outward into dark surroundings. Here the propagated cavity and
myocardium are turned into an endocardial and an epicardial radius per ray from the cavity
centroid; both radii are then re-chosen, within a few pixels of the propagated ones, to best
explain the image as cavity | myocardium | outside along each ray under class intensity
likelihoods (learned from the memory frames), with a quadratic pull toward the propagated
radii, a plausible wall-thickness range (from the seeded slice when known) and smoothness
over the angle (dynamic programming on the offsets). Regions are 1D bands along each ray, so
a consistent bright band decides a boundary, not single pixels, and papillary muscles away
from the border stay in the cavity.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from scipy import ndimage as ndi

from cardiacmotion.cine import LV_CAVITY, LV_MYO
from cardiacmotion.propagation.topology import draw_ring, lowpass, ring_radii


def _dp_offsets(cost: np.ndarray, max_jump: int = 1) -> np.ndarray:
    """Cyclic minimum-cost choice of one column per row (angle), neighbours within ``max_jump``."""
    n, m = cost.shape

    def run(c: np.ndarray) -> tuple[np.ndarray, float]:
        acc = c[0].copy()
        back = np.zeros((n, m), np.int64)
        idx = np.arange(m)
        for a in range(1, n):
            best = np.full(m, np.inf)
            arg = np.zeros(m, np.int64)
            for d in range(-max_jump, max_jump + 1):
                src = idx - d
                ok = (src >= 0) & (src < m)
                cand = np.full(m, np.inf)
                cand[ok] = acc[src[ok]]
                better = cand < best
                best[better] = cand[better]
                arg[better] = src[better]
            acc = best + c[a]
            back[a] = arg
        path = np.zeros(n, np.int64)
        path[-1] = int(np.argmin(acc))
        for a in range(n - 1, 0, -1):
            path[a - 1] = back[a, path[a]]
        return path, float(acc[path[-1]])

    # two passes: the second starts a quarter turn later, so the seam of the first is interior
    shift = n // 4
    p1, _ = run(np.roll(cost, -shift, axis=0))
    return np.roll(p1, shift)


def fit_ring(
    image: np.ndarray,
    label: np.ndarray,
    loglik: np.ndarray,
    modality: str = "MR",
    thickness: Optional[np.ndarray] = None,
    search: float = 4.0,
    pull: float = 0.15,
    thick_range: tuple[float, float] = (0.5, 1.5),
    n_angles: int = 90,
    harmonics: int = 6,
    step: float = 0.5,
    move_endo: bool = True,
) -> np.ndarray:
    """Re-place the endocardium and epicardium of one propagated label map on the image.

    Args:
        image: ``[H, W]`` normalised image (only its shape is used; intensities enter via ``loglik``).
        label: ``[H, W]`` propagated (cleaned) labels.
        loglik: ``[H, W, C]`` log-likelihood of each label class at every pixel.
        modality: label convention.
        thickness: expected wall thickness per ray angle (pixels, ``[n_angles]``); default the
            propagated one.
        search: how far (pixels) each boundary may move from the propagated one.
        pull: weight of the squared offset (per pixel^2) against the log-likelihood sums.
        thick_range: allowed wall thickness as fractions of ``thickness``.
        n_angles: rays.
        harmonics: Fourier terms kept for the fitted radii.
        step: radial sampling step (pixels).
        move_endo: re-place the endocardium too (else only the wall thickness is fitted).
    """
    cav_v, myo_v = LV_CAVITY[modality], LV_MYO[modality]
    if (label == cav_v).sum() < 12 or (label == myo_v).sum() < 12:
        return label
    rr = ring_radii(label, modality, n_angles)
    if rr is None:
        return label
    (cy, cx), theta, r_endo, r_epi, has_wall = rr
    if has_wall.mean() < 0.5:
        return label
    h, w = label.shape
    r1p = np.maximum(lowpass(r_endo, harmonics), 1.0)
    tp = np.where(has_wall, r_epi - r_endo, np.nan)
    tp = np.where(has_wall, tp, np.nanmedian(tp))
    tp = np.maximum(lowpass(tp, harmonics), 1.0)
    r2p = r1p + tp
    t_ref = tp if thickness is None else np.maximum(np.asarray(thickness, float), 1.0)

    n_off = int(round(search / step)) if move_endo else 0
    offs = np.arange(-n_off, n_off + 1) * step  # endocardial offsets
    t_lo, t_hi = thick_range
    t_min = np.maximum(t_lo * t_ref, 1.0)
    t_max = np.maximum(t_hi * t_ref, t_min + step)
    r_out = r2p + search + 1.0  # the outside band is scored up to here
    n_r = int(np.ceil((r_out.max() + 2 * search + t_max.max()) / step)) + 2
    radii = np.arange(n_r) * step
    ys = np.clip(cy + np.sin(theta)[:, None] * radii[None], 0, h - 1)
    xs = np.clip(cx + np.cos(theta)[:, None] * radii[None], 0, w - 1)
    other = [c for c in range(loglik.shape[-1]) if c not in (cav_v, myo_v)]
    l_bg = np.max(loglik[..., other], axis=-1)
    cum = {}
    for name, m in (("cav", loglik[..., cav_v]), ("myo", loglik[..., myo_v]), ("bg", l_bg)):
        prof = ndi.map_coordinates(m.astype(np.float32), [ys, xs], order=1, mode="nearest")
        # S[a, j] = -sum of log-likelihoods of samples 0..j-1
        cum[name] = np.concatenate([np.zeros((n_angles, 1)), np.cumsum(-prof * step, axis=1)], axis=1)

    a_idx = np.arange(n_angles)[:, None, None]
    j1 = np.clip(np.round((r1p[:, None] + offs[None]) / step).astype(int), 1, n_r - 2)[:, :, None]  # [A, O, 1]
    n_t = int(round((t_max.max() - min(t_min.min(), 1.0)) / step)) + 1
    t_vals = min(t_min.min(), 1.0) + np.arange(n_t) * step  # [T]
    j2 = np.clip(j1 + np.round(t_vals / step).astype(int)[None, None], 0, n_r - 1)  # [A, O, T]
    je = np.clip(np.round(r_out / step).astype(int), 0, n_r - 1)[:, None, None]
    je = np.maximum(je, j2)
    j0 = np.clip(np.round((r1p - search - 1.0) / step).astype(int), 0, n_r - 1)[:, None, None]
    cost = (
        cum["cav"][a_idx, j1] - cum["cav"][a_idx, np.minimum(j0, j1)]
        + cum["myo"][a_idx, j2] - cum["myo"][a_idx, j1]
        + cum["bg"][a_idx, je] - cum["bg"][a_idx, j2]
    )
    r1 = r1p[:, None, None] + offs[None, :, None]
    r2 = r1 + t_vals[None, None]
    cost = cost + pull * (r1 - r1p[:, None, None]) ** 2 + pull * (r2 - r2p[:, None, None]) ** 2
    bad = (t_vals[None, None] < t_min[:, None, None] - 1e-6) | (t_vals[None, None] > t_max[:, None, None] + 1e-6)
    cost = np.where(bad, np.inf, cost)
    # rays without a wall (e.g. the outflow tract) keep the propagated radii
    keep = ~has_wall
    u1 = cost.min(axis=2)
    u1 = np.where(np.isfinite(u1), u1, 1e6)
    u1[keep] = np.where(np.abs(offs) < 1e-6, 0.0, 1e3)[None]
    o_star = _dp_offsets(u1, max_jump=1)
    u2 = cost[np.arange(n_angles), o_star]  # [A, T]
    u2 = np.where(np.isfinite(u2), u2, 1e6)
    t_star = _dp_offsets(u2, max_jump=1)
    r1n = r1p + offs[o_star]
    r2n = r1n + t_vals[t_star]
    r1n = np.where(keep, r_endo, r1n)
    r2n = np.where(keep, r_endo, r2n)
    r1n = np.maximum(lowpass(r1n, harmonics), 0.5)
    wall_frac = lowpass(has_wall.astype(float), harmonics)
    thick = np.maximum(lowpass(np.where(has_wall, r2n - r1n, 0.0), harmonics), 1.0)
    r2n = r1n + np.where(wall_frac > 0.5, thick, 0.0)
    return draw_ring(label, modality, (cy, cx), theta, r1n, r2n)
