"""Constructed label maps with analytically known volumes, shared by the function tests."""
from __future__ import annotations

import numpy as np

from cardiacmotion.cine import Cine


def rotation(ax: float, ay: float, az: float) -> np.ndarray:
    """A proper rotation from three angles (radians): makes every geometry oblique."""
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def oblique_matrix(spacing=(1.25, 1.25, 10.0), angles=(0.3, -0.2, 0.5), origin=(-40.0, 25.0, 12.0)) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = rotation(*angles) @ np.diag(spacing)
    m[:3, 3] = origin
    return m


# LV cavity box sides (pixels) per phase: a full cycle, ED at phase 0, ES at phase 4
LV_SIDES = [(20, 16), (19, 15), (17, 14), (15, 12), (13, 10), (14, 11), (16, 13), (18, 14), (19, 16), (20, 15)]
RV_SIDES = [(10, 14), (10, 13), (9, 12), (8, 11), (7, 10), (7, 11), (8, 12), (9, 13), (10, 13), (10, 14)]
WALL = 4  # myocardial box wall, pixels
LV_SLICES = range(2, 9)  # 7 slices with LV; slices 0, 1, 9 stay empty


def mr_box_case(spacing=(1.25, 1.25, 10.0)):
    """MR label map of boxes: returns (Cine, truth dict) with volumes from side lengths only."""
    t, k, j, i = len(LV_SIDES), 10, 48, 56
    arr = np.zeros((t, k, j, i), np.uint8)
    for p, ((h, w), (rh, rw)) in enumerate(zip(LV_SIDES, RV_SIDES)):
        for s in LV_SLICES:
            arr[p, s, 10 - WALL : 10 + h + WALL, 8 - WALL : 8 + w + WALL] = 2
            arr[p, s, 10 : 10 + h, 8 : 8 + w] = 3
            arr[p, s, 12 : 12 + rh, 36 : 36 + rw] = 1
    vox = spacing[0] * spacing[1] * spacing[2] / 1000.0
    n = len(LV_SLICES)
    lv = np.array([h * w * n * vox for h, w in LV_SIDES])
    rv = np.array([h * w * n * vox for h, w in RV_SIDES])
    h0, w0 = LV_SIDES[0]
    myo_ed = ((h0 + 2 * WALL) * (w0 + 2 * WALL) - h0 * w0) * n * vox
    truth = {"lv": lv, "rv": rv, "ed": 0, "es": 4, "mass": myo_ed * 1.05}
    cine = Cine(arr, oblique_matrix(spacing), np.arange(t) * 85.0, modality="MR", view="SAX")
    return cine, truth


def ellipse_frame(shape, px, centre_ij, axis_angle, a, b, half=False, la=False) -> np.ndarray:
    """One echo frame: LV cavity ellipse (semi-axes ``a`` along the long axis, ``b`` across).

    With ``half`` only the apical half (u <= 0) is LV and, with ``la``, the other half is left atrium
    (label 3) of the same width at the mitral plane u = 0. Apex at u = -a.
    """
    rows, cols = shape
    jj, ii = np.mgrid[:rows, :cols]
    x = (ii - centre_ij[0]) * px
    y = (jj - centre_ij[1]) * px
    u = x * np.cos(axis_angle) + y * np.sin(axis_angle)
    v = -x * np.sin(axis_angle) + y * np.cos(axis_angle)
    inside = (u / a) ** 2 + (v / b) ** 2 <= 1.0
    out = np.zeros(shape, np.uint8)
    if not half:
        out[inside] = 1
        return out
    out[inside & (u <= 0)] = 1
    if la:
        out[((u / (0.6 * a)) ** 2 + (v / b) ** 2 <= 1.0) & (u > 0)] = 3
    return out


def echo_matrix(px: float, angles=(0.4, 0.1, -0.3), origin=(10.0, -30.0, 55.0)) -> np.ndarray:
    return oblique_matrix((px, px, 1.0), angles, origin)


def echo_landmarks(m: np.ndarray, px, centre_ij, axis_angle, a, b) -> dict:
    """Apex and annulus points (RAS) of a half-ellipse frame drawn by ``ellipse_frame``."""
    u = np.array([np.cos(axis_angle), np.sin(axis_angle)])
    v = np.array([-np.sin(axis_angle), np.cos(axis_angle)])

    def ras(xy_mm):
        ij = np.asarray(centre_ij, float) + np.asarray(xy_mm) / px
        return m[:3, :3] @ np.array([ij[0], ij[1], 0.0]) + m[:3, 3]

    return {"Apex": ras(-a * u), "Mitral annulus septal": ras(b * v), "Mitral annulus lateral": ras(-b * v)}
