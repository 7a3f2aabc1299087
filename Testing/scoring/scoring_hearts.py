"""Constructed short-axis hearts with exactly known anatomy, for the scoring tests.

The heart is defined in an anatomical frame placed anywhere in world (RAS) space: long axis ``L``
(base -> apex), ``u`` the direction of the anterior insertion from the LV centre, ``w`` the
direction at +90 deg towards the septum. ``w = +-cross(L, u)`` (``chirality``) so both handednesses
of the anatomy are exercised; the image grid's direction matrix is independent of it. The LV is a
ring per slice; the RV cavity is a crescent centred on the septum (anatomical angle S/2).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from cardiacmotion.cine import Cine


def rotation(axis, angle_deg: float) -> np.ndarray:
    axis = np.asarray(axis, dtype=float)
    axis = axis / np.linalg.norm(axis)
    a = np.radians(angle_deg)
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(a) * K + (1 - np.cos(a)) * K @ K


@dataclass
class Heart:
    labels: Cine
    image: Cine
    landmarks: dict
    psi: np.ndarray  # [K, J, I] anatomical angle (deg) from the anterior insertion towards the septum
    z_rank_level: np.ndarray  # [K] true level 0/1/2, -1 for non-ring slices
    septal_arc: float


def make_heart(
    direction: np.ndarray = np.eye(3),
    spacing=(1.5, 1.5, 8.0),
    shape=(12, 80, 80),
    septal_arc: float = 120.0,
    anterior_deg: float = 0.0,
    chirality: int = 1,
    base_at_slice0: bool = True,
    phases: int = 2,
    endo_ed: float = 22.0,
    wall_ed: float = 8.0,
    wall: Optional[Callable[[np.ndarray, np.ndarray, int], np.ndarray]] = None,
    endo_shift: Optional[Callable[[np.ndarray, np.ndarray, int], np.ndarray]] = None,
    origin=(-40.0, 25.0, 10.0),
) -> Heart:
    """A label map (and a matching image) of a constructed LV + RV.

    Args:
        direction: 3x3 direction cosines (columns i, j, k), any handedness.
        spacing: (i, j, k) mm.
        shape: (K, J, I).
        septal_arc: anatomical angle of the inferior insertion.
        anterior_deg: in-plane rotation of the anterior-insertion direction relative to the i axis.
        chirality: +1 / -1, handedness of (u, w, L).
        base_at_slice0: whether slice 0 is basal.
        wall: ``wall(level_index [K,J,I], psi [K,J,I], phase) -> wall thickness mm`` (default constant).
        endo_shift: ``(level, psi, phase) -> mm`` added to the ED endocardial radius (negative = inward).
    """
    K, J, I = shape
    D = np.asarray(direction, dtype=float)
    m = np.eye(4)
    m[:3, :3] = D @ np.diag(spacing)
    m[:3, 3] = origin
    normal = np.cross(D[:, 0], D[:, 1])
    normal /= np.linalg.norm(normal)
    if normal @ D[:, 2] < 0:
        normal = -normal
    L = normal if base_at_slice0 else -normal
    # in-plane direction of the anterior insertion: i axis rotated about the normal
    ip = D[:, 0] - (D[:, 0] @ normal) * normal
    ip /= np.linalg.norm(ip)
    u = rotation(normal, anterior_deg) @ ip
    w = chirality * np.cross(L, u)

    kk, jj, ii = np.meshgrid(np.arange(K), np.arange(J), np.arange(I), indexing="ij")
    ijk = np.stack([ii, jj, kk], axis=-1).reshape(-1, 3).astype(float)
    world = (ijk @ m[:3, :3].T + m[:3, 3]).reshape(K, J, I, 3)
    centre_ijk = np.array([(I - 1) / 2.0 + 1.3, (J - 1) / 2.0 - 0.7, 0.0])
    c0 = m[:3, :3] @ centre_ijk + m[:3, 3]
    rel = world - c0
    z = rel @ L
    x = rel @ u
    y = rel @ w
    r = np.hypot(x, y)
    psi = np.mod(np.degrees(np.arctan2(y, x)), 360.0)

    # slice rank along the axis from the base: 1 LVOT slice, ring slices, 2 apical caps
    zs = z[:, 0, 0]
    order = np.argsort(zs) if True else None
    rank = np.empty(K, dtype=int)
    rank[order] = np.arange(K)
    n_ring = K - 3
    taper = 1.0 - 0.45 * np.clip((rank - 1) / max(n_ring - 1, 1), 0, 1)  # base wide, apex narrow
    level = np.full(K, -1, dtype=int)
    for kk_ in range(K):
        if 1 <= rank[kk_] <= n_ring:
            level[kk_] = min(2, (3 * (rank[kk_] - 1)) // n_ring)
    lvl = np.broadcast_to(level[:, None, None], (K, J, I))

    arr = np.zeros((phases, K, J, I), dtype=np.uint8)
    for t in range(phases):
        th = np.full((K, J, I), wall_ed) if wall is None or t == 0 else wall(lvl, psi, t)
        endo0 = endo_ed * taper[:, None, None]
        epi_ed = endo0 + wall_ed
        if t == 0:
            endo = endo0
        elif endo_shift is not None:
            endo = endo0 + endo_shift(lvl, psi, t)
        else:
            endo = epi_ed - th  # fixed epicardium: thickening moves the endocardium inward
        epi = endo + th
        lab = np.zeros((K, J, I), dtype=np.uint8)
        ring = (lvl >= 0)
        lab[ring & (r < endo)] = 3
        lab[ring & (r >= endo) & (r < epi)] = 2
        # LVOT slice: ring with an anterior gap (not a full ring)
        lvot = (rank[:, None, None] == 0)
        lab[lvot & (r < endo_ed)] = 3
        lab[lvot & (r >= endo_ed) & (r < endo_ed + wall_ed) & ~((psi > 330) | (psi < 30))] = 2
        # apical caps: myocardium only
        cap = (rank[:, None, None] > n_ring)
        lab[cap & (r < 9.0)] = 2
        # RV crescent around the septum, outside the LV epicardium
        d_septum = np.abs(np.mod(psi - septal_arc / 2 + 180.0, 360.0) - 180.0)
        rv = (~cap) & (r > epi_ed + 2.0) & (r < epi_ed + 16.0) & (d_septum < septal_arc / 2 - 8.0)
        lab[rv & (lab == 0)] = 1
        arr[t] = lab
    labels = Cine(arr, m, np.arange(phases) * 40.0, modality="MR", view="SAX")
    intensity = np.select([arr == 3, arr == 1, arr == 2], [200.0, 180.0, 60.0], 20.0).astype(np.float32)
    image = labels.with_array(intensity)
    # landmarks on a mid ring slice
    mid_k = int(np.flatnonzero(level == 1)[0])
    cz = c0 + (zs[mid_k]) * L
    rr = endo_ed * taper[mid_k] + wall_ed
    s = np.radians(septal_arc)
    landmarks = {
        "LV center": cz,
        "RV anterior insertion": cz + rr * u,
        "RV inferior insertion": cz + rr * (np.cos(s) * u + np.sin(s) * w),
    }
    return Heart(labels=labels, image=image, landmarks=landmarks, psi=psi, z_rank_level=level, septal_arc=septal_arc)


def truth_segment(psi: np.ndarray, level: int, septal_arc: float) -> np.ndarray:
    """Independent statement of the AHA rule (written out, not via the package)."""
    s = septal_arc
    f = (360.0 - s) / 4.0
    out = np.zeros(psi.shape, dtype=int)
    if level in (0, 1):
        base = 0 if level == 0 else 6
        names = [
            (0.0, s / 2, 2),
            (s / 2, s, 3),
            (s, s + f, 4),
            (s + f, s + 2 * f, 5),
            (s + 2 * f, s + 3 * f, 6),
            (s + 3 * f, 360.0, 1),
        ]
        for lo, hi, sid in names:
            out[(psi >= lo) & (psi < hi)] = sid + base
    else:
        d = np.mod(psi - s / 2, 360.0)  # 0 at the septum centre, growing towards inferior
        out[(d < 45) | (d >= 315)] = 14
        out[(d >= 45) & (d < 135)] = 15
        out[(d >= 135) & (d < 225)] = 16
        out[(d >= 225) & (d < 315)] = 13
    return out
