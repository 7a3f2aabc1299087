"""TAN's affine space: three landmarks -> a fixed square window, and exactly back.

Pixel convention: a native point is ``(x, y)`` = (column, row) with pixel centres at integers; a
window point ``(u, v)`` likewise in a ``size x size`` window. ``A`` (2x3) maps native -> window,
computed exactly from three point pairs (``== cv2.getAffineTransform``). The torch warps sample with
``align_corners=True`` so that they equal ``cv2.warpAffine`` (bilinear, constant 0 border).

The template (``P_ref``, 3x2 window points in the order Apex, septal, lateral annulus) is the mean,
over training frames, of the landmarks mapped into the window by the frame's ROI: the bounding box of
the landmarks and the LV (cavity + myocardium), widened by half its width to the left (septum, RV),
half its height downwards (atrium) and 10 % up and right (apical and lateral wall).
"""
from __future__ import annotations

from typing import Iterable, Optional

import numpy as np
import torch
import torch.nn.functional as F


def affine_from_points(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The exact 2x3 affine sending the three ``src`` points (3, 2) onto ``dst`` (3, 2).

    Raises:
        ValueError: the source triangle is degenerate (collinear points).
    """
    src = np.asarray(src, np.float64).reshape(3, 2)
    dst = np.asarray(dst, np.float64).reshape(3, 2)
    x = np.vstack([src.T, np.ones(3)])
    if abs(np.linalg.det(x)) < 1e-9:
        raise ValueError("degenerate landmark triangle (collinear points)")
    return dst.T @ np.linalg.inv(x)


def invert_affine(a: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine (as 2x3)."""
    full = np.vstack([np.asarray(a, np.float64), [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a o b`` (apply ``b`` first) for 2x3 affines."""
    fa = np.vstack([a, [0, 0, 1.0]])
    fb = np.vstack([b, [0, 0, 1.0]])
    return (fa @ fb)[:2]


def apply_affine(a: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Map points ``(..., 2)`` with a 2x3 affine."""
    pts = np.asarray(pts, np.float64)
    return pts @ np.asarray(a)[:, :2].T + np.asarray(a)[:, 2]


def triangle_area(pts: np.ndarray) -> float:
    """Area of the landmark triangle (pixels^2)."""
    p = np.asarray(pts, np.float64)
    return 0.5 * abs(float(np.cross(p[1] - p[0], p[2] - p[0])))


def roi_box(landmarks: np.ndarray, lv_mask: Optional[np.ndarray]) -> tuple[float, float, float, float]:
    """The widened ROI ``(x0, y0, x1, y1)`` of one frame (module doc)."""
    pts = np.asarray(landmarks, np.float64).reshape(-1, 2)
    if lv_mask is not None and lv_mask.any():
        yy, xx = np.nonzero(lv_mask)
        pts = np.vstack([pts, np.stack([xx, yy], 1)])
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    return x0 - 0.5 * w, y0 - 0.1 * h, x1 + 0.1 * w, y1 + 0.5 * h


def box_affine(box: Iterable[float], size: int) -> np.ndarray:
    """Axis-by-axis map of a box ``(x0, y0, x1, y1)`` onto the window ``[0, size-1]^2``."""
    x0, y0, x1, y1 = box
    sx = (size - 1) / max(x1 - x0, 1e-6)
    sy = (size - 1) / max(y1 - y0, 1e-6)
    return np.array([[sx, 0.0, -sx * x0], [0.0, sy, -sy * y0]])


def build_template(frames: Iterable[tuple[np.ndarray, Optional[np.ndarray]]], size: int) -> np.ndarray:
    """``P_ref`` (3, 2): the mean of each frame's landmarks mapped by its ROI box into the window.

    Args:
        frames: ``(landmarks (3, 2) native px, LV mask or None)`` of every training frame.
        size: window size in pixels.
    """
    acc, n = np.zeros((3, 2)), 0
    for lm, mask in frames:
        acc += apply_affine(box_affine(roi_box(lm, mask), size), lm)
        n += 1
    if n == 0:
        raise ValueError("no training frames to build the template from")
    return acc / n


SPACES = ("affine", "crop")


def crop_affine(landmarks: np.ndarray, template: np.ndarray, scale: float) -> np.ndarray:
    """The ablation's plain crop: a fixed-scale, axis-aligned window centred so the landmarks' centroid
    lands on the template's (ROI propagation without shape normalisation)."""
    p = np.asarray(landmarks, np.float64).reshape(3, 2)
    t = np.asarray(template, np.float64).mean(0) - scale * p.mean(0)
    return np.array([[scale, 0.0, t[0]], [0.0, scale, t[1]]])


def window_affine(landmarks: np.ndarray, template: np.ndarray, space: str = "affine", crop_scale: float = 1.0) -> np.ndarray:
    """The native -> window map TAN uses for landmarks ``(3, 2)``: exact 3-point affine, or the plain crop."""
    if space == "crop":
        return crop_affine(landmarks, template, crop_scale)
    return affine_from_points(landmarks, template)


def _grid(a_inv: torch.Tensor, out_hw: tuple[int, int], src_hw: tuple[int, int]) -> torch.Tensor:
    """Sampling grid ``[B, h, w, 2]`` (normalised, align_corners=True) for output pixels mapped by ``a_inv``."""
    h, w = out_hw
    dev, dt = a_inv.device, a_inv.dtype
    v, u = torch.meshgrid(torch.arange(h, device=dev, dtype=dt), torch.arange(w, device=dev, dtype=dt), indexing="ij")
    ones = torch.ones_like(u)
    p = torch.stack([u, v, ones], -1).reshape(-1, 3)  # (h*w, 3)
    src = torch.einsum("bij,nj->bni", a_inv, p)  # (B, h*w, 2) native x, y
    hs, ws = src_hw
    gx = 2.0 * src[..., 0] / max(ws - 1, 1) - 1.0
    gy = 2.0 * src[..., 1] / max(hs - 1, 1) - 1.0
    return torch.stack([gx, gy], -1).reshape(a_inv.shape[0], h, w, 2)


def warp_to_window(images: torch.Tensor, a: np.ndarray | torch.Tensor, size: int, mode: str = "bilinear") -> torch.Tensor:
    """Native images ``[B, C, H, W]`` -> windows ``[B, C, size, size]`` with native->window affines ``a`` ``[B, 2, 3]``."""
    a = torch.as_tensor(np.asarray(a) if not torch.is_tensor(a) else a, dtype=torch.float64).reshape(-1, 2, 3)
    a_inv = torch.linalg.inv(torch.cat([a, a.new_tensor([0, 0, 1.0]).expand(a.shape[0], 1, 3)], 1))[:, :2]
    grid = _grid(a_inv, (size, size), images.shape[-2:]).to(images.dtype if images.is_floating_point() else torch.float32)
    src = images if images.is_floating_point() else images.float()
    return F.grid_sample(src, grid.to(src.device), mode=mode, padding_mode="zeros", align_corners=True)


def warp_probs_back(probs: torch.Tensor, a: np.ndarray | torch.Tensor, native_hw: tuple[int, int]) -> torch.Tensor:
    """Window class probabilities ``[B, C, s, s]`` -> native grid ``[B, C, H, W]``; outside the window is background."""
    a = torch.as_tensor(np.asarray(a) if not torch.is_tensor(a) else a, dtype=torch.float64).reshape(-1, 2, 3)
    grid = _grid(a, native_hw, probs.shape[-2:]).to(probs.dtype)
    fg = F.grid_sample(probs[:, 1:], grid.to(probs.device), mode="bilinear", padding_mode="zeros", align_corners=True)
    bg = (1.0 - fg.sum(1, keepdim=True)).clamp_min(0.0)
    return torch.cat([bg, fg], 1)
