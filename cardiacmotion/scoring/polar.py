"""The MMSA polar transform and per-segment sequences (the learned scorer's input).

Following Xue et al. (MMSA, section III-A): each short-axis cine slice is resampled around the LV
centre onto a (radius x angle) grid for every phase, then cut into the 16 AHA segments; the apical
slice, which holds only 4 segments, is resampled along the angle so that every segment sequence
has the same size. Here the angle axis is anatomical (see :mod:`cardiacmotion.scoring.aha`):
angle 0 points from the LV centre to the anterior insertion, angles grow through the septum, so the
sectors are those of the AHA rule (septal sectors split the measured septal arc, not fixed 60 deg).

Shapes (documented contract for the learned scorer):

* :func:`polar_transform` -> float32 ``[K, T, R, A]``: slice, phase, radius (row ``r`` at
  ``(r + 0.5) * r_max_mm / R`` from the centre), angle (column ``a`` at ``(a + 0.5) * 360 / A`` deg
  in the anatomical frame).
* :func:`segment_sequences` -> :class:`SegmentSequences` with ``array`` float32
  ``[16, T, R, A]`` (segment id ``s`` at index ``s - 1``), one representative slice per level.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np
from scipy import ndimage

from cardiacmotion.cine import LV_MYO, Cine
from cardiacmotion.errors import InputError
from cardiacmotion.scoring.aha import LEVEL_IDS, LEVELS, AhaFrame, orient, sector_spans, slice_world_coords


def sample_slice(values: np.ndarray, cine: Cine, k: int, points: np.ndarray, order: int = 1) -> np.ndarray:
    """Interpolate a ``[J, I]`` slice at RAS ``points [..., 3]`` lying in slice ``k`` (outside: 0)."""
    ijk = cine.ras_to_ijk_points(points.reshape(-1, 3))
    coords = np.stack([ijk[:, 1], ijk[:, 0]])  # (row, column)
    out = ndimage.map_coordinates(np.asarray(values, dtype=np.float32), coords, order=order, mode="constant", cval=0.0)
    return out.reshape(points.shape[:-1])


def default_radius_mm(seg: Cine, frame: AhaFrame, margin: float = 1.5) -> float:
    """Sampling radius: ``margin`` x the 95th percentile epicardial distance from the centre at ED."""
    dists = []
    t = frame.ed_phase
    for k in np.flatnonzero(frame.slice_level >= 0):
        myo = seg.array[t, k] == LV_MYO["MR"]
        if myo.any():
            world = slice_world_coords(seg, int(k))[myo]
            dists.append(np.linalg.norm(world - frame.centres[t, k], axis=1))
    if not dists:
        raise InputError("no LV myocardium at ED to size the polar transform")
    return float(margin * np.percentile(np.concatenate(dists), 95))


def polar_samples(
    frame: AhaFrame,
    centre: np.ndarray,
    radii_mm: np.ndarray,
    angles_deg: np.ndarray,
) -> np.ndarray:
    """RAS points ``[R, A, 3]`` on the polar grid around ``centre``."""
    d = frame.direction(angles_deg)  # [A, 3]
    return centre + radii_mm[:, None, None] * d[None, :, :]


def polar_transform(
    image: Cine,
    frame: AhaFrame,
    n_radius: int = 64,
    n_angle: int = 360,
    r_max_mm: float = 60.0,
    slices: Optional[Sequence[int]] = None,
    reference: str = "fixed",
) -> np.ndarray:
    """Polar resampling of every phase of the chosen slices (MMSA eq. 1).

    Args:
        image: the cine ``[T, K, J, I]`` (any dtype; bilinear interpolation).
        frame: the anatomical frame from :func:`cardiacmotion.scoring.aha.orient`.
        n_radius, n_angle: grid size.
        r_max_mm: outer radius.
        slices: slice indices (default: every slice in a level).
        reference: polar centre per phase (:meth:`AhaFrame.reference_centre`): ``'fixed'`` (the
            slice's ED centre, default: the paper crops once per sequence), ``'wall'`` (follows the
            heart's translation) or ``'cavity'`` (each phase's cavity centroid).
    Returns:
        float32 ``[len(slices), T, n_radius, n_angle]``.
    """
    if slices is None:
        slices = [int(k) for k in np.flatnonzero(frame.slice_level >= 0)]
    radii = (np.arange(n_radius) + 0.5) * (r_max_mm / n_radius)
    angles = (np.arange(n_angle) + 0.5) * (360.0 / n_angle)
    out = np.zeros((len(slices), image.phases, n_radius, n_angle), dtype=np.float32)
    for n, k in enumerate(slices):
        for t in range(image.phases):
            c = frame.reference_centre(t, k, reference)
            if not np.all(np.isfinite(c)):
                continue
            out[n, t] = sample_slice(image.array[t, k], image, k, polar_samples(frame, c, radii, angles))
    return out


@dataclass
class SegmentSequences:
    """Per-segment polar sequences of one heart.

    Attributes:
        array: float32 ``[16, T, R, A]``; index ``s - 1`` holds segment ``s``. Each segment's angular
            span (from the AHA rule) is resampled onto ``A`` columns in the anatomical sense; radius
            runs from the centre (row 0) to ``r_max_mm``.
        slices: ``{'basal': k, 'mid': k, 'apical': k}`` the representative slice of each level.
        spans_deg: ``{id: (start, end)}`` the angular span of each segment.
        r_max_mm: outer radius.
        phases: the phase order used (ED first when ``start_at_ed``).
    """

    array: np.ndarray
    slices: dict
    spans_deg: dict
    r_max_mm: float
    phases: np.ndarray


def normalise_intensity(image: np.ndarray, low: float = 1.0, high: float = 99.0) -> np.ndarray:
    """Robust [0, 1] scaling by the ``low``/``high`` percentiles (the paper uses CLAHE instead)."""
    lo, hi = np.percentile(image, [low, high])
    return np.clip((image - lo) / max(hi - lo, 1e-6), 0.0, 1.0).astype(np.float32)


def segment_sequences(
    image: Cine,
    seg: Cine,
    landmarks: Mapping[str, np.ndarray],
    size: tuple[int, int] = (32, 32),
    ed_phase: Optional[int] = None,
    r_max_mm: Optional[float] = None,
    reference: str = "fixed",
    start_at_ed: bool = True,
    normalise: bool = True,
    frame: Optional[AhaFrame] = None,
) -> SegmentSequences:
    """The 16 segment sequences of MMSA eq. 2, all of one size.

    Each level is represented by its middle slice (the paper uses one basal, one mid and one apical
    slice). Each segment's angular span is sampled with ``A`` columns, so apical segments (90 deg)
    and the basal/mid ones (split by the measured septal arc) come out the same size.

    Args:
        image: cine ``[T, K, J, I]``.
        seg: MR label map on the same grid (orients the heart, centres the polar grid).
        landmarks: the three MR landmarks (RAS).
        size: ``(R, A)`` radial and angular samples per segment.
        ed_phase: ED phase (default: largest LV cavity).
        r_max_mm: outer radius (default: 1.5 x the 95th percentile epicardial radius at ED).
        reference: polar centre per phase (see :func:`polar_transform`).
        start_at_ed: roll the phase axis so that ED comes first.
        normalise: scale intensities to [0, 1] by robust percentiles of the whole cine.
    Returns:
        :class:`SegmentSequences` with ``array`` float32 ``[16, T, R, A]``.
    """
    if not image.same_grid(seg) or image.phases != seg.phases:
        raise InputError("the segmentation is not on the image grid (shape, phases or geometry differ)")
    frame = frame or orient(seg, landmarks, ed_phase)
    n_r, n_a = int(size[0]), int(size[1])
    if n_r < 2 or n_a < 2:
        raise InputError(f"segment sequence size {size} is too small")
    r_max = float(r_max_mm) if r_max_mm else default_radius_mm(seg, frame)
    data = normalise_intensity(image.array.astype(np.float32)) if normalise else image.array.astype(np.float32)
    spans = sector_spans(frame.septal_arc_deg)
    levels = frame.levels()
    phases = np.roll(np.arange(image.phases), -frame.ed_phase) if start_at_ed else np.arange(image.phases)
    radii = (np.arange(n_r) + 0.5) * (r_max / n_r)
    out = np.zeros((16, image.phases, n_r, n_a), dtype=np.float32)
    chosen = {}
    for name in LEVELS:
        ks = levels[name]
        k = ks[len(ks) // 2]
        chosen[name] = k
        for seg_id in LEVEL_IDS[name]:
            lo, hi = spans[seg_id]
            angles = lo + (np.arange(n_a) + 0.5) * ((hi - lo) / n_a)
            for n, t in enumerate(phases):
                c = frame.reference_centre(int(t), k, reference)
                out[seg_id - 1, n] = sample_slice(data[t, k], image, k, polar_samples(frame, c, radii, angles))
    return SegmentSequences(array=out, slices=chosen, spans_deg=spans, r_max_mm=r_max, phases=phases)
