"""Image-formation helpers: partial-volume edges, smooth fields, MR noise and ultrasound speckle."""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def soft_inside(signed_mm: np.ndarray, pixel_mm: float) -> np.ndarray:
    """Fraction of a pixel inside a shape from the signed distance (negative inside).

    A linear ramp one pixel wide: the box-filtered (partial-volume) value of a straight edge.
    """
    return np.clip(0.5 - signed_mm / pixel_mm, 0.0, 1.0)


def paint(image: np.ndarray, frac: np.ndarray, value) -> None:
    """Composite ``value`` over ``image`` with coverage ``frac`` (in place)."""
    image *= 1.0 - frac
    image += frac * value


def smooth_field(shape: tuple[int, ...], rng: np.random.Generator, sigma_px: float,
                 amplitude: float) -> np.ndarray:
    """A zero-mean smooth random field (Gaussian-filtered white noise) with std ``amplitude``."""
    f = ndimage.gaussian_filter(rng.standard_normal(shape), sigma_px, mode="wrap")
    sd = float(f.std()) or 1.0
    return f * (amplitude / sd)


def coil_bias(x_mm: np.ndarray, y_mm: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Surface-coil sensitivity: brighter near a coil on the anterior chest, smooth fall-off."""
    ang = rng.uniform(-0.6, 0.6)
    cx, cy = 160.0 * np.sin(ang), -160.0 * np.cos(ang)  # anterior = negative in-plane y
    d = np.hypot(x_mm - cx, y_mm - cy)
    field = 1.0 / (1.0 + (d / 220.0) ** 2)
    field = field / field.mean()
    return 1.0 + strength * (field - 1.0) / max(float(np.ptp(field)), 1e-6) * 2.0


def rician(signal: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Magnitude of a complex signal with Gaussian noise on both channels (Rician statistics)."""
    signal = np.asarray(signal, dtype=np.float32)
    re = signal + np.float32(sigma) * rng.standard_normal(signal.shape, dtype=np.float32)
    im = np.float32(sigma) * rng.standard_normal(signal.shape, dtype=np.float32)
    return np.sqrt(re * re + im * im)


def speckle(shape: tuple[int, int], rng: np.random.Generator, cell_px: tuple[float, float]) -> np.ndarray:
    """Fully developed speckle: |complex white noise convolved with an anisotropic PSF|.

    ``cell_px`` = (axial, lateral) Gaussian PSF sigmas in pixels; output has unit mean (Rayleigh-like,
    spatially correlated).
    """
    re = ndimage.gaussian_filter(rng.standard_normal(shape), cell_px)
    im = ndimage.gaussian_filter(rng.standard_normal(shape), cell_px)
    amp = np.hypot(re, im)
    return amp / (amp.mean() + 1e-12)
