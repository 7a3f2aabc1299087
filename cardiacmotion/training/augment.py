"""Augmentation for three-frame propagation samples: geometry (shared + per-frame), elastic, intensity.

Geometry: one random similarity (rotation, scale, flip, centre jitter around the heart) maps the
output crop to the source frame for all three frames, plus a small independent elastic field per
frame (so the network sees extra motion between the frames). Intensity: gamma, contrast,
bias field, blur and noise, mostly shared by the three frames (one acquisition).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

IGNORE = 255


@dataclass
class AugmentConfig:
    """Ranges of the random transforms (``strong=False`` gives a plain heart-centred crop)."""

    strong: bool = True
    rotate_deg: float = 180.0
    scale: tuple[float, float] = (0.8, 1.25)
    margin: tuple[float, float] = (1.5, 2.4)  #: crop side / heart bounding-box side
    jitter: float = 0.12  #: centre jitter, fraction of the crop side
    elastic_px: float = 2.5  #: max elastic displacement (output pixels)
    gamma: tuple[float, float] = (0.6, 1.6)
    noise: tuple[float, float] = (0.0, 0.08)


def heart_box(labels: np.ndarray) -> tuple[float, float, float]:
    """``(cy, cx, side)`` of the labelled region of ``labels [..., H, W]`` (ignore counts as labelled)."""
    fg = (labels > 0).reshape(-1, *labels.shape[-2:]).any(0)
    ys, xs = np.nonzero(fg)
    if len(ys) == 0:
        h, w = labels.shape[-2:]
        return h / 2.0, w / 2.0, min(h, w) / 2.0
    cy, cx = (ys.min() + ys.max()) / 2.0, (xs.min() + xs.max()) / 2.0
    side = max(ys.max() - ys.min(), xs.max() - xs.min(), 8) + 1.0
    return float(cy), float(cx), float(side)


def _elastic(rng: np.random.Generator, size: int, amplitude: float) -> tuple[np.ndarray, np.ndarray]:
    coarse = rng.uniform(-1, 1, size=(2, 5, 5)).astype(np.float32) * amplitude
    dy = cv2.resize(coarse[0], (size, size), interpolation=cv2.INTER_CUBIC)
    dx = cv2.resize(coarse[1], (size, size), interpolation=cv2.INTER_CUBIC)
    return dy, dx


def crop_frames(
    rng: np.random.Generator,
    images: list[np.ndarray],
    labels: list[np.ndarray],
    size: int,
    box: tuple[float, float, float],
    cfg: AugmentConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Warp frames ``[H, W]`` to ``size x size`` crops; returns ``images [F,S,S] float32, labels [F,S,S] uint8``."""
    cy, cx, side = box
    strong = cfg.strong
    crop = side * (rng.uniform(*cfg.margin) if strong else sum(cfg.margin) / 2.0)
    if strong:
        crop /= rng.uniform(*cfg.scale)
        cy += rng.uniform(-cfg.jitter, cfg.jitter) * crop
        cx += rng.uniform(-cfg.jitter, cfg.jitter) * crop
    angle = math.radians(rng.uniform(-cfg.rotate_deg, cfg.rotate_deg)) if strong else 0.0
    flip = strong and rng.random() < 0.5
    step = crop / size  # source pixels per output pixel
    u = (np.arange(size, dtype=np.float32) - (size - 1) / 2.0) * step
    gy, gx = np.meshgrid(u, u, indexing="ij")
    if flip:
        gx = -gx
    ca, sa = math.cos(angle), math.sin(angle)
    base_y = cy + ca * gy - sa * gx
    base_x = cx + sa * gy + ca * gx
    out_img, out_lab = [], []
    for img, lab in zip(images, labels):
        my, mx = base_y, base_x
        if strong and cfg.elastic_px > 0:
            dy, dx = _elastic(rng, size, cfg.elastic_px * step)
            my, mx = my + dy, mx + dx
        my, mx = my.astype(np.float32), mx.astype(np.float32)
        out_img.append(cv2.remap(img.astype(np.float32), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0))
        out_lab.append(cv2.remap(lab.astype(np.uint8), mx, my, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0))
    return np.stack(out_img), np.stack(out_lab)


def intensity(rng: np.random.Generator, frames: np.ndarray, cfg: AugmentConfig) -> np.ndarray:
    """Intensity augmentation of ``[F, S, S]`` (shared transform, independent noise); returns 0..1-ish."""
    lo, hi = np.percentile(frames, [0.5, 99.5])
    x = np.clip((frames - lo) / max(hi - lo, 1e-6), 0.0, 1.0).astype(np.float32)
    if not cfg.strong:
        return x
    x = x ** rng.uniform(*cfg.gamma)
    x = x * rng.uniform(0.7, 1.3) + rng.uniform(-0.15, 0.15)
    if rng.random() < 0.5:  # smooth bias field (coil sensitivity, echo depth gain)
        s = x.shape[-1]
        field = cv2.resize(rng.uniform(0.75, 1.25, size=(3, 3)).astype(np.float32), (s, s), interpolation=cv2.INTER_CUBIC)
        x = x * field[None]
    if rng.random() < 0.3:
        k = int(rng.choice([3, 5]))
        x = np.stack([cv2.GaussianBlur(f, (k, k), 0) for f in x])
    sigma = rng.uniform(*cfg.noise)
    if sigma > 0:
        x = x + rng.normal(0.0, sigma, size=x.shape).astype(np.float32)
    return x.astype(np.float32)
