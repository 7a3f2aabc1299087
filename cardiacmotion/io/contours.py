"""Polygon rasterisation for expert contours given in pixel coordinates.

Convention: a contour point ``(x, y)`` is in pixel units with ``x`` the column and ``y`` the row,
and integer coordinates at pixel centres (the DICOM convention: ImagePositionPatient is the
centre of the first pixel). A pixel belongs to the polygon when its centre is inside it by the
even-odd rule; a centre exactly on a left/top edge counts as inside, on a right/bottom edge as
outside (half-open rule, so two polygons sharing an edge never both claim a pixel). This is exact
at sub-pixel contour precision: no rounding of the vertices.
"""
from __future__ import annotations

from pathlib import Path
from typing import Union

import numpy as np

from cardiacmotion.errors import InputError


def read_contour(path: Union[str, Path]) -> np.ndarray:
    """Read an ``x y`` per line contour file -> (N, 2) float array."""
    try:
        pts = np.loadtxt(str(path), dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read contour {path}: {exc}") from exc
    if pts.shape[1] != 2 or pts.shape[0] < 3:
        raise InputError(f"{path}: a contour needs at least 3 'x y' points")
    return pts


def fill_polygon(points_xy: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pixels (rows, columns) whose centres lie inside the closed polygon ``points_xy`` (x, y).

    Returns:
        ``bool [rows, columns]``.
    """
    rows, cols = shape
    p = np.asarray(points_xy, dtype=np.float64)
    x0, y0 = p[:, 0], p[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    ys = np.arange(rows, dtype=np.float64)[:, None]  # (R, 1) row centres
    # edge e crosses row y when y lies in [min, max) of its end points (horizontal edges never do)
    lo, hi = np.minimum(y0, y1), np.maximum(y0, y1)
    cross = (ys >= lo[None]) & (ys < hi[None])
    r_idx, e_idx = np.nonzero(cross)
    if r_idx.size == 0:
        return np.zeros(shape, dtype=bool)
    yy = ys[r_idx, 0]
    xs = x0[e_idx] + (yy - y0[e_idx]) * (x1[e_idx] - x0[e_idx]) / (y1[e_idx] - y0[e_idx])
    # toggle parity from the first pixel centre at or right of each crossing
    start = np.clip(np.ceil(xs), 0, cols).astype(np.int64)
    toggles = np.zeros((rows, cols + 1), dtype=np.int32)
    np.add.at(toggles, (r_idx, start), 1)
    return (np.cumsum(toggles[:, :cols], axis=1) % 2).astype(bool)
