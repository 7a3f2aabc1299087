"""Echo LV volume by the method of discs (modified Simpson's rule), single-plane and biplane.

The long axis runs from the mitral-annulus midpoint (base) to the apex; it is cut into 20 discs
of equal height ``L/20`` perpendicular to it, and each disc diameter is the width of the LV
cavity along the perpendicular through the disc centre (the mid-level of the disc):

- single-plane: ``V = pi/4 * sum(d_i^2) * L/20``
- biplane:      ``V = pi/4 * sum(a_i * b_i) * L/20``, ``L`` the longer of the two view lengths.

Widths are measured on the label raster itself: the perpendicular line is sampled finely and each
sample takes the label of the pixel it falls in (pixels are squares, as for the MR areas), so the
width is the length of line inside the cavity.

Long axis, per frame:

1. from landmarks (``Apex``, ``Mitral annulus septal``, ``Mitral annulus lateral``) when given,
   per frame when tracked, otherwise the same points for every frame;
2. else from the mask: when the LV cavity (1) touches the left atrium (3), the base is the midpoint
   of the two ends of the LV/LA interface (the mitral plane) and the apex is the cavity point
   farthest from it;
3. else the principal axis of the cavity, from one end of the cavity to the other (the volume does
   not depend on which end is called the apex: the 20 disc levels are symmetric).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence, Union

import numpy as np
from scipy import ndimage

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.io.markups import ECHO_LANDMARKS

N_DISCS = 20

LandmarkInput = Union[Mapping[str, Sequence], Sequence[Mapping[str, Sequence]]]


@dataclass
class DiscSeries:
    """Disc diameters of one apical view over time.

    Attributes:
        diameters_mm: ``[t, 20]`` disc diameters (0 where a phase has no cavity).
        lengths_mm: ``[t]`` long-axis lengths.
        base_ras / apex_ras: ``[t, 3]`` end points of the long axis actually used.
        rule: how the long axis was found (``'landmarks'``, ``'tracked landmarks'``,
            ``'mask: LV/LA border'``, ``'mask: principal axis'`` or a mix).
    """

    diameters_mm: np.ndarray
    lengths_mm: np.ndarray
    base_ras: np.ndarray
    apex_ras: np.ndarray
    rule: str


class _Plane:
    """In-plane orthonormal coordinates (u, v) mm of the single echo slice."""

    def __init__(self, seg: Cine) -> None:
        ci, cj = seg.ijk_to_ras[:3, 0], seg.ijk_to_ras[:3, 1]
        self.origin = seg.ijk_to_ras[:3, 3].copy()
        e1 = ci / np.linalg.norm(ci)
        e2 = cj - (cj @ e1) * e1
        e2 /= np.linalg.norm(e2)
        self.e = np.stack([e1, e2])  # (2, 3)
        # uv = M @ (i, j); M^-1 maps a sample position back to continuous pixel indices
        self.m = self.e @ np.stack([ci, cj], axis=1)
        self.m_inv = np.linalg.inv(self.m)

    def ras_to_uv(self, ras: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(ras) - self.origin) @ self.e.T

    def uv_to_ras(self, uv: np.ndarray) -> np.ndarray:
        return self.origin + np.atleast_2d(uv) @ self.e

    def pixel_centres_uv(self, mask: np.ndarray) -> np.ndarray:
        j, i = np.nonzero(mask)
        return np.stack([i, j], axis=1).astype(np.float64) @ self.m.T

    def half_pixel_along(self, direction: np.ndarray) -> float:
        """Half the extent of one pixel square along a unit uv direction."""
        return 0.5 * float(abs(self.m[:, 0] @ direction) + abs(self.m[:, 1] @ direction))


def single_plane_volume_ml(diameters_mm: np.ndarray, length_mm: float) -> float:
    """``pi/4 * sum(d_i^2) * L/n`` in ml."""
    d = np.asarray(diameters_mm, dtype=np.float64)
    return float(np.pi / 4.0 * np.sum(d * d) * length_mm / d.size / 1000.0)


def biplane_volume_ml(a_mm: np.ndarray, b_mm: np.ndarray, length_mm: float) -> float:
    """``pi/4 * sum(a_i * b_i) * L/n`` in ml (``L`` the longer of the two view lengths)."""
    a = np.asarray(a_mm, dtype=np.float64)
    b = np.asarray(b_mm, dtype=np.float64)
    if a.shape != b.shape:
        raise InputError(f"biplane needs the same number of discs in both views ({a.size} vs {b.size})")
    return float(np.pi / 4.0 * np.sum(a * b) * length_mm / a.size / 1000.0)


def normalize_landmarks(landmarks: Optional[LandmarkInput], phases: int) -> Optional[list[dict[str, np.ndarray]]]:
    """Landmarks as a list of ``phases`` dicts ``{name: RAS (3,)}``.

    Accepts ``{name: (3,)}`` (the same points for every phase), ``{name: (t, 3)}`` (tracked, the
    phantom's ``landmarks_per_frame``) or a sequence of ``t`` dicts ``{name: (3,)}``.

    Raises:
        InputError: a required echo landmark is missing, or the per-frame count is not ``phases``.
    """
    if landmarks is None:
        return None
    if isinstance(landmarks, Mapping):
        missing = [n for n in ECHO_LANDMARKS if n not in landmarks]
        if missing:
            raise InputError(f"echo landmarks missing: {', '.join(missing)} (need {', '.join(ECHO_LANDMARKS)})")
        per = {}
        for name in ECHO_LANDMARKS:
            p = np.asarray(landmarks[name], dtype=np.float64)
            if p.shape == (3,):
                p = np.repeat(p[None], phases, axis=0)
            if p.shape != (phases, 3):
                raise InputError(f"landmark {name!r}: expected one point or {phases} points (one per phase), got shape {p.shape}")
            per[name] = p
        return [{n: per[n][t] for n in ECHO_LANDMARKS} for t in range(phases)]
    frames = list(landmarks)
    if len(frames) != phases:
        raise InputError(f"{len(frames)} landmark frames for {phases} phases")
    out = []
    for t, frame in enumerate(frames):
        missing = [n for n in ECHO_LANDMARKS if n not in frame]
        if missing:
            raise InputError(f"phase {t}: echo landmarks missing: {', '.join(missing)}")
        out.append({n: np.asarray(frame[n], dtype=np.float64).reshape(3) for n in ECHO_LANDMARKS})
    return out


def _largest_component(mask: np.ndarray) -> np.ndarray:
    lab, n = ndimage.label(mask)
    if n <= 1:
        return mask
    sizes = ndimage.sum_labels(mask, lab, index=np.arange(1, n + 1))
    return lab == (1 + int(np.argmax(sizes)))


def _axis_from_mask(labels2d: np.ndarray, plane: _Plane) -> tuple[np.ndarray, np.ndarray, str]:
    """(base uv, apex uv, rule) from the label raster of one frame (see the module doc)."""
    cavity = _largest_component(labels2d == 1)
    pts = plane.pixel_centres_uv(cavity)
    la = labels2d == 3
    border = []
    if la.any():
        # midpoints of the pixel edges shared by a cavity pixel and an LA pixel (4-neighbours)
        for axis in (0, 1):
            a = cavity[:-1, :] if axis == 0 else cavity[:, :-1]
            b = la[1:, :] if axis == 0 else la[:, 1:]
            a2 = la[:-1, :] if axis == 0 else la[:, :-1]
            b2 = cavity[1:, :] if axis == 0 else cavity[:, 1:]
            j, i = np.nonzero((a & b) | (a2 & b2))
            off = np.array([0.0, 0.5]) if axis == 0 else np.array([0.5, 0.0])
            border.append((np.stack([i, j], axis=1) + off) @ plane.m.T)
        border = np.concatenate(border) if border else np.zeros((0, 2))
    if len(border) >= 2:
        centred = border - border.mean(axis=0)
        direction = np.linalg.svd(centred, full_matrices=False)[2][0]
        proj = centred @ direction
        base = border.mean(axis=0) + direction * 0.5 * (proj.min() + proj.max())
        far = pts[np.argmax(np.linalg.norm(pts - base, axis=1))]
        axis_dir = (far - base) / max(np.linalg.norm(far - base), 1e-9)
        apex = far + axis_dir * plane.half_pixel_along(axis_dir)
        return base, apex, "mask: LV/LA border"
    centre = pts.mean(axis=0)
    if len(pts) < 2:
        direction = np.array([0.0, 1.0])
    else:
        direction = np.linalg.svd(pts - centre, full_matrices=False)[2][0]
    proj = (pts - centre) @ direction
    half = plane.half_pixel_along(direction)
    return centre + direction * (proj.min() - half), centre + direction * (proj.max() + half), "mask: principal axis"


def disc_diameters_mm(
    cavity: np.ndarray, plane: _Plane, base_uv: np.ndarray, apex_uv: np.ndarray, n: int = N_DISCS
) -> np.ndarray:
    """Width of ``cavity`` (2D bool ``[j, i]``) across the long axis at the ``n`` disc mid-levels."""
    axis = apex_uv - base_uv
    length = float(np.linalg.norm(axis))
    if length <= 0:
        return np.zeros(n)
    axis = axis / length
    perp = np.array([-axis[1], axis[0]])
    px = float(min(np.linalg.norm(plane.m[:, 0]), np.linalg.norm(plane.m[:, 1])))
    step = px / 40.0  # fine sampling: width error << 1 % of a pixel per edge on average
    rows, cols = cavity.shape
    centres = base_uv + np.outer((np.arange(n) + 0.5) / n * length, axis)  # (n, 2)
    # sample only across the cavity's extent perpendicular to the axis (plus a pixel each side)
    across = plane.pixel_centres_uv(cavity) @ perp - base_uv @ perp
    pad = 2.0 * float(max(np.linalg.norm(plane.m[:, 0]), np.linalg.norm(plane.m[:, 1])))
    r = np.arange(across.min() - pad, across.max() + pad, step) + step / 2
    samples = centres[:, None, :] + r[None, :, None] * perp  # (n, s, 2)
    ij = np.rint(samples @ plane.m_inv.T).astype(np.int64)
    i, j = ij[..., 0], ij[..., 1]
    ok = (i >= 0) & (i < cols) & (j >= 0) & (j < rows)
    inside = np.zeros(ok.shape, dtype=bool)
    inside[ok] = cavity[j[ok], i[ok]]
    return inside.sum(axis=1) * step


def echo_disc_series(seg: Cine, labels: np.ndarray, landmarks: Optional[LandmarkInput] = None) -> DiscSeries:
    """Disc diameters and long-axis lengths of an apical view for every phase.

    Args:
        seg: echo label cine (one slice; CAMUS labels: 1 LV cavity, 2 myocardium, 3 LA).
        labels: its checked ``uint8`` array ``[t, 1, j, i]``.
        landmarks: optional echo landmarks (see :func:`normalize_landmarks`).
    Raises:
        InputError: more than one slice, landmarks outside the image.
    """
    if labels.shape[1] != 1:
        raise InputError(f"an echo segmentation must have one slice, got {labels.shape[1]}")
    phases = labels.shape[0]
    plane = _Plane(seg)
    per_frame = normalize_landmarks(landmarks, phases)
    tracked = False
    if per_frame is not None:
        _check_inside(seg, per_frame)
        first = per_frame[0]
        tracked = any(not np.allclose(f[n], first[n]) for f in per_frame for n in ECHO_LANDMARKS)
    diam = np.zeros((phases, N_DISCS))
    lengths = np.zeros(phases)
    base_ras = np.zeros((phases, 3))
    apex_ras = np.zeros((phases, 3))
    rules = set()
    for t in range(phases):
        frame = labels[t, 0]
        cavity = frame == 1
        if per_frame is not None:
            lm = per_frame[t]
            base = plane.ras_to_uv(0.5 * (lm["Mitral annulus septal"] + lm["Mitral annulus lateral"]))[0]
            apex = plane.ras_to_uv(lm["Apex"])[0]
            rules.add("tracked landmarks" if tracked else "landmarks (same points every phase)")
        elif cavity.any():
            base, apex, rule = _axis_from_mask(frame, plane)
            rules.add(rule)
        else:
            continue
        lengths[t] = float(np.linalg.norm(apex - base))
        base_ras[t], apex_ras[t] = plane.uv_to_ras(base)[0], plane.uv_to_ras(apex)[0]
        if cavity.any():
            diam[t] = disc_diameters_mm(cavity, plane, base, apex)
    return DiscSeries(diam, lengths, base_ras, apex_ras, " + ".join(sorted(rules)) or "none")


def _check_inside(seg: Cine, per_frame: list[dict[str, np.ndarray]]) -> None:
    pts = np.array([[f[n] for n in ECHO_LANDMARKS] for f in per_frame]).reshape(-1, 3)
    ijk = seg.ras_to_ijk_points(pts)
    upper = np.array([seg.columns, seg.rows]) - 0.5
    bad = np.any((ijk[:, :2] < -0.5) | (ijk[:, :2] > upper), axis=1)
    if bad.any():
        name = ECHO_LANDMARKS[int(np.argmax(bad)) % len(ECHO_LANDMARKS)]
        raise InputError(f"landmark {name!r} lies outside the echo image")
