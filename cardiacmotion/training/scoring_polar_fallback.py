"""A minimal polar segment-sequence sampler, used only while ``cardiacmotion.scoring.polar`` is absent.

Same idea as the MMSA paper's preprocessing (Fig. 1, eqs. 1-3): for one representative slice per
level (the middle slice of the basal, mid and apical thirds of the slices with LV myocardium at
ED), sample radius x angle x time around the LV centre, with the angle measured from the RV
anterior insertion towards the septum, and split the circle into the AHA segments (6, 6, 4 with
the apical ones 90 degrees each, septal centred on the septum); every segment resampled to the
same angular size.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
from scipy.ndimage import map_coordinates

from cardiacmotion.cine import LV_CAVITY, LV_MYO, Cine
from cardiacmotion.errors import InputError


def _levels(seg: np.ndarray, ed: int, myo: int, cav: int) -> list[int]:
    """Middle slice index of the basal, mid and apical thirds (basal = larger ED cavity end)."""
    ks = [k for k in range(seg.shape[1]) if (seg[ed, k] == myo).sum() > 10]
    if len(ks) < 3:
        raise InputError("fewer than 3 slices contain LV myocardium at end-diastole; cannot place AHA levels")
    ks = sorted(ks)
    cav_area = [(seg[ed, k] == cav).sum() for k in ks]
    if np.mean(cav_area[: len(ks) // 2]) < np.mean(cav_area[len(ks) - len(ks) // 2:]):
        ks = ks[::-1]  # basal first
    thirds = np.array_split(np.array(ks), 3)
    return [int(t[len(t) // 2]) for t in thirds]


def segment_sequences(
    image: Cine, seg: Cine, landmarks: Mapping[str, np.ndarray], radial: int = 32, angular: int = 16
) -> np.ndarray:
    """Polar segment sequences [16, T, radial, angular] (float32) of an MR short-axis cine.

    Args:
        image: the cine MR.
        seg: its 4D segmentation (MR labels).
        landmarks: ``RV anterior insertion``, ``RV inferior insertion`` (RAS).
        radial, angular: samples per segment along the radius (0 to 1.5 x the ED epicardial
            radius of the slice) and the angle.
    """
    img = np.asarray(image.array, dtype=np.float32)
    lab = np.asarray(seg.array)
    myo, cav = LV_MYO["MR"], LV_CAVITY["MR"]
    cav_vol = (lab == cav).reshape(lab.shape[0], -1).sum(1)
    ed = int(np.argmax(cav_vol)) if cav_vol.max() > 0 else 0
    try:
        ant = np.asarray(landmarks["RV anterior insertion"], float)
        inf = np.asarray(landmarks["RV inferior insertion"], float)
    except KeyError as err:
        raise InputError(f"landmark {err.args[0]!r} is missing") from None
    m = image.ijk_to_ras
    normal = m[:3, 2] / np.linalg.norm(m[:3, 2])
    out = np.zeros((16, img.shape[0], radial, angular), np.float32)
    first_segment = (0, 6, 12)
    for level, k in enumerate(_levels(lab, ed, myo, cav)):
        jj, ii = np.nonzero((lab[ed, k] == myo) | (lab[ed, k] == cav))
        centre = image.ijk_to_ras_points(np.array([[ii.mean(), jj.mean(), k]]))[0]
        area_mm2 = len(ii) * image.spacing[0] * image.spacing[1]
        r_epi = np.sqrt(area_mm2 / np.pi)
        e1 = _inplane(ant - centre, normal)
        v_inf = _inplane(inf - centre, normal)
        e2 = _inplane(v_inf - e1 * np.dot(v_inf, e1), normal)  # towards the septum/inferior insertion
        sept = np.arctan2(np.dot(v_inf, e2), np.dot(v_inf, e1))  # septal arc, 0..pi
        if level < 2:
            # 2, 3 split the septal arc; 4, 5, 6, 1 share the rest; start of segment 1 at -(2pi-sept)/4
            rest = (2 * np.pi - sept) / 4
            edges = [-rest, 0, sept / 2, sept, sept + rest, sept + 2 * rest, sept + 3 * rest]
        else:
            mid = sept / 2  # septal segment 14 centred on the septum; 13 anterior before it
            edges = [mid - 3 * np.pi / 4 + q * np.pi / 2 for q in range(5)]
        radii = (np.arange(radial) + 0.5) / radial * 1.5 * r_epi
        for s in range(len(edges) - 1):
            angles = edges[s] + (np.arange(angular) + 0.5) / angular * (edges[s + 1] - edges[s])
            dirs = np.cos(angles)[:, None] * e1 + np.sin(angles)[:, None] * e2  # [A, 3]
            pts = centre + radii[:, None, None] * dirs[None]  # [R, A, 3]
            ijk = image.ras_to_ijk_points(pts.reshape(-1, 3))
            coords = np.stack((ijk[:, 1], ijk[:, 0]))  # (row j, column i) on slice k
            for t in range(img.shape[0]):
                vals = map_coordinates(img[t, k], coords, order=1, mode="nearest")
                out[first_segment[level] + s, t] = vals.reshape(radial, angular)
    return np.roll(out, -ed, axis=1)  # ED first


def _inplane(v: np.ndarray, normal: np.ndarray) -> np.ndarray:
    v = v - normal * np.dot(v, normal)
    n = np.linalg.norm(v)
    if n < 1e-6:
        raise InputError("the RV insertion landmarks coincide with the LV centre in the slice plane")
    return v / n
