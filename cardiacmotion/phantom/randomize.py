"""Domain randomisation of rendered short-axis cine MR training cases.

The training phantom (:mod:`cardiacmotion.phantom.mr`) renders one family of images: one bSSFP
contrast, one noise model, one resolution. Networks trained on it learn that family, not hearts
(issue 20: CSTM and MMSA lost 5-20 points on independently generated hearts). This module widens
it at image level, after rendering, using the truth labels as tissue classes:

* tissue contrast: random gains for blood (LV, RV separately), myocardium and the rest, blended
  with soft (blurred) class maps so no label edge is printed into the image;
* intensity non-linearity: a random monotone curve (gamma times a random smooth spline);
* bias field: a random low-order multiplicative field, changing slowly through the stack;
* in-plane resolution 1-2.5 mm (Gaussian blur, optionally stronger along phase encoding);
* slice-thickness blur: partial volume with the neighbouring slices;
* breath-hold misregistration: per-slice in-plane shifts of image *and* labels;
* flow artefacts: ghosts of the blood pool along the phase-encoding direction, pulsatile;
* trabeculation (dark specks in the cavity next to the wall) and epicardial fat (a bright rim);
* noise: Rician, spatially correlated, or a parallel-imaging g-factor pattern.

Heart size and slice spacing are widened through the phantom's own options
(:func:`phantom_options`). Everything is deterministic per seed; labels change only by the
breath-hold shifts. Used by the training code only (never by evaluation data).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy import ndimage as ndi

#: MR truth labels (ACDC): RV cavity, LV myocardium, LV cavity
RV, MYO, LV = 1, 2, 3


@dataclass(frozen=True)
class RandomizeConfig:
    """Ranges and probabilities of the randomisation (defaults: the training setting)."""

    contrast: float = 0.9  #: probability of random tissue gains
    blood_gain: tuple[float, float] = (0.65, 1.3)
    myo_gain: tuple[float, float] = (0.6, 1.7)
    background_gain: tuple[float, float] = (0.6, 1.5)
    nonlinear: float = 0.8
    gamma: tuple[float, float] = (0.6, 1.6)
    bias: float = 0.8
    bias_strength: tuple[float, float] = (0.1, 0.5)
    resolution_mm: tuple[float, float] = (1.0, 2.5)
    thickness_blur: float = 0.6
    thickness_weight: tuple[float, float] = (0.05, 0.3)
    breath_hold: float = 0.5
    breath_hold_mm: tuple[float, float] = (0.5, 3.5)
    flow: float = 0.4
    flow_strength: tuple[float, float] = (0.05, 0.3)
    trabeculation: float = 0.5
    fat: float = 0.5
    noise_sigma: tuple[float, float] = (0.01, 0.09)  #: relative to the blood intensity


def phantom_options(seed: int, base: Optional[dict] = None) -> dict:
    """Options for ``make_mr_case`` widening pixel size (heart size in pixels), slice spacing,
    noise and breath-hold shifts beyond the phantom's own defaults (deterministic per seed)."""
    rng = np.random.default_rng([int(seed), 2020])
    opts = dict(base or {})
    pixel = float(rng.uniform(1.1, 2.2))
    if "grid" in opts:  # a small grid keeps a field of view of at least 190 mm (the heart stays inside)
        pixel = max(pixel, 190.0 / float(opts["grid"]))
    opts.setdefault("pixel_mm", min(pixel, 2.2))
    opts.setdefault("slice_spacing_mm", float(rng.uniform(6.0, 10.0)))
    opts.setdefault("noise", float(rng.uniform(0.01, 0.05)))
    opts.setdefault("breath_hold_mm", float(rng.uniform(0.0, 2.5)) if rng.random() < 0.5 else 0.0)
    return opts


def _soft(mask: np.ndarray, sigma: float) -> np.ndarray:
    """A class map blurred in-plane (``[T, K, H, W]``), so gains do not print label edges."""
    return ndi.gaussian_filter(mask.astype(np.float32), (0, 0, sigma, sigma))


def _contrast(rng, img, labels, cfg: RandomizeConfig, applied: dict) -> np.ndarray:
    blood = float(rng.uniform(*cfg.blood_gain))
    gains = {LV: blood, RV: blood * float(rng.uniform(0.85, 1.15)), MYO: float(rng.uniform(*cfg.myo_gain))}
    bg = float(rng.uniform(*cfg.background_gain))
    gain = np.full(img.shape, bg, np.float32)
    for v, g in gains.items():
        gain += (g - bg) * _soft(labels == v, 0.8)
    applied["contrast"] = {"blood": round(blood, 3), "myo": round(gains[MYO], 3), "background": round(bg, 3)}
    return img * gain


def _nonlinear(rng, img, cfg: RandomizeConfig, applied: dict) -> np.ndarray:
    top = float(np.percentile(img, 99.5)) or 1.0
    x = np.clip(img / top, 0.0, 1.5)
    gamma = float(rng.uniform(*cfg.gamma))
    knots = np.linspace(0.0, 1.5, 9)
    steps = rng.uniform(0.4, 1.6, len(knots) - 1)
    curve = np.concatenate([[0.0], np.cumsum(steps)])
    curve = curve / curve[-1] * 1.5
    y = np.interp(x ** gamma, knots, curve).astype(np.float32)
    applied["gamma"] = round(gamma, 3)
    return y * top


def _bias(rng, img, cfg: RandomizeConfig, applied: dict) -> np.ndarray:
    T, K, H, W = img.shape
    yy, xx = np.meshgrid(np.linspace(-1, 1, H), np.linspace(-1, 1, W), indexing="ij")
    strength = float(rng.uniform(*cfg.bias_strength))
    terms = np.stack([xx, yy, xx * yy, xx ** 2, yy ** 2])
    c0 = rng.normal(0.0, 1.0, 5)
    dc = rng.normal(0.0, 0.3, 5)  # slow change through the stack (coil sensitivity along z)
    field = np.empty((K, H, W), np.float32)
    for k in range(K):
        f = np.tensordot(c0 + dc * (k / max(K - 1, 1) - 0.5), terms, axes=1)
        field[k] = np.exp(strength * f / (np.abs(f).max() + 1e-6))
    applied["bias"] = round(strength, 3)
    return img * field[None]


def _blur(rng, img, pixel_mm: float, cfg: RandomizeConfig, applied: dict, pe_axis: int) -> np.ndarray:
    res = float(rng.uniform(*cfg.resolution_mm))
    pe_res = res * float(rng.uniform(1.0, 1.4))  # phase encoding is often coarser
    sig = [max(r * r - pixel_mm * pixel_mm, 0.0) ** 0.5 / 2.355 / pixel_mm for r in (res, pe_res)]
    sigma = [0.0, 0.0, sig[0], sig[0]]
    sigma[2 + pe_axis] = sig[1]
    applied["resolution_mm"] = [round(res, 2), round(pe_res, 2)]
    if max(sigma) < 0.15:
        return img
    return ndi.gaussian_filter(img, sigma)


def _thickness(rng, img, cfg: RandomizeConfig, applied: dict) -> np.ndarray:
    if img.shape[1] < 2:
        return img
    w = float(rng.uniform(*cfg.thickness_weight))
    up = np.concatenate([img[:, :1], img[:, :-1]], 1)
    down = np.concatenate([img[:, 1:], img[:, -1:]], 1)
    applied["slice_blur"] = round(w, 3)
    return (1.0 - 2.0 * w) * img + w * (up + down)


def _breath_hold(rng, img, labels, pixel_mm: float, cfg: RandomizeConfig, applied: dict):
    K = img.shape[1]
    std = float(rng.uniform(*cfg.breath_hold_mm)) / pixel_mm
    shifts = rng.normal(0.0, std, (K, 2))
    shifts -= shifts[K // 2]  # the seed (mid) slice stays where the phantom put it
    out_i, out_l = img.copy(), labels.copy()
    for k in range(K):
        if np.abs(shifts[k]).max() < 0.25:
            continue
        s = (0, float(shifts[k, 0]), float(shifts[k, 1]))
        out_i[:, k] = ndi.shift(img[:, k], s, order=1, mode="nearest")
        out_l[:, k] = ndi.shift(labels[:, k], s, order=0, mode="constant", cval=0)
    applied["breath_hold_px"] = round(float(np.abs(shifts).max()), 2)
    return out_i, out_l


def _flow(rng, img, labels, cfg: RandomizeConfig, applied: dict, pe_axis: int) -> np.ndarray:
    T, K, H, W = img.shape
    n = (H, W)[pe_axis]
    d = int(rng.integers(n // 8, n // 3)) * (1 if rng.random() < 0.5 else -1)
    a = float(rng.uniform(*cfg.flow_strength))
    phase = rng.uniform(0, 2 * np.pi)
    pulse = a * (0.5 + 0.5 * np.sin(2 * np.pi * np.arange(T) / T + phase)).astype(np.float32)
    blood = img * _soft((labels == LV) | (labels == RV), 1.0)
    ghost = np.roll(blood, d, axis=2 + pe_axis)
    sign = 1.0 if rng.random() < 0.7 else -1.0  # ghosts add or (phase-inverted) subtract
    applied["flow_ghost"] = {"shift_px": d, "strength": round(a, 3)}
    return img + sign * pulse[:, None, None, None] * ghost


def _trabeculae(rng, img, labels, applied: dict) -> np.ndarray:
    T, K, H, W = img.shape
    cav = labels == LV
    near = cav & ndi.binary_dilation(labels == MYO, iterations=3, structure=np.ones((1, 1, 3, 3), bool))
    speck = ndi.gaussian_filter(rng.random((1, K, H, W)).astype(np.float32), (0, 0, 0.8, 0.8))
    cut = float(np.quantile(speck, float(rng.uniform(0.55, 0.8))))
    dark = near & (speck > cut)  # static pattern that moves with the wall well enough at this scale
    depth = float(rng.uniform(0.2, 0.6))
    applied["trabeculation"] = round(depth, 3)
    return img * (1.0 - depth * _soft(dark, 0.5))


def _fat(rng, img, labels, pixel_mm: float, applied: dict) -> np.ndarray:
    heart = labels > 0
    width = max(1, int(round(float(rng.uniform(1.0, 5.0)) / pixel_mm)))
    ring = ndi.binary_dilation(heart, iterations=width, structure=np.ones((1, 1, 3, 3), bool)) & ~heart
    ring &= ndi.gaussian_filter(rng.random(heart.shape[1:]).astype(np.float32), (0, 3, 3))[None] > 0.47
    top = float(np.percentile(img[labels == LV], 90)) if (labels == LV).any() else float(img.max())
    level = float(rng.uniform(0.5, 1.2)) * top
    applied["fat_mm"] = round(width * pixel_mm, 2)
    soft = _soft(ring, 0.7)
    return img * (1.0 - soft) + level * soft


def _noise(rng, img, labels, cfg: RandomizeConfig, applied: dict, pe_axis: int) -> np.ndarray:
    ref = float(np.median(img[labels == LV])) if (labels == LV).any() else float(np.percentile(img, 95))
    sigma = float(rng.uniform(*cfg.noise_sigma)) * max(ref, 1e-6)
    model = str(rng.choice(["rician", "correlated", "parallel"]))
    shape = img.shape
    n1 = rng.standard_normal(shape, dtype=np.float32)
    n2 = rng.standard_normal(shape, dtype=np.float32)
    if model == "correlated":
        s = float(rng.uniform(0.6, 1.5))
        n1 = ndi.gaussian_filter(n1, (0, 0, s, s))
        n2 = ndi.gaussian_filter(n2, (0, 0, s, s))
        norm = float(n1.std()) or 1.0
        n1, n2 = n1 / norm, n2 / norm
    scale: np.ndarray | float = sigma
    if model == "parallel":
        # g-factor: noise amplified in bands along phase encoding (acceleration R = 2..4)
        r = int(rng.integers(2, 5))
        n = shape[2 + pe_axis]
        u = np.arange(n) / n
        g = 1.0 + float(rng.uniform(0.3, 1.2)) * np.cos(np.pi * r * (u - float(rng.uniform(0, 1)))) ** 2
        g = g.reshape((1, 1, n, 1) if pe_axis == 0 else (1, 1, 1, n)).astype(np.float32)
        scale = sigma * g
    applied["noise"] = {"model": model, "sigma_rel": round(sigma / max(ref, 1e-6), 4)}
    return np.hypot(img + scale * n1, scale * n2)  # magnitude image: Rician in all three models


def randomize_mr(
    image: np.ndarray,
    labels: np.ndarray,
    pixel_mm: float,
    seed: int,
    config: Optional[RandomizeConfig] = None,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Randomise one rendered short-axis cine.

    Args:
        image: float cine ``[T, K, H, W]`` (any positive scale).
        labels: uint8 truth ``[T, K, H, W]`` (1 RV, 2 myocardium, 3 LV cavity).
        pixel_mm: in-plane pixel size (sets the blur for a given resolution).
        seed: the same seed gives the same result.
        config: ranges and probabilities (default :class:`RandomizeConfig`).

    Returns:
        ``(image float32, labels uint8, applied)``: the new cine, the labels (changed only by the
        breath-hold shifts) and what was applied, with its parameters.
    """
    cfg = config or RandomizeConfig()
    image = np.asarray(image, np.float32)
    labels = np.asarray(labels, np.uint8)
    if image.ndim != 4 or image.shape != labels.shape:
        raise ValueError(f"image {image.shape} and labels {labels.shape} must be the same [T, K, H, W]")
    rng = np.random.default_rng([int(seed), 20])
    scale = float(np.percentile(image, 99.5)) or 1.0
    img = image / scale
    applied: dict = {}
    pe_axis = int(rng.integers(0, 2))
    draws = rng.random(8)  # one draw per step, whatever is applied, so a probability changes only its step
    if draws[0] < cfg.contrast:
        img = _contrast(rng, img, labels, cfg, applied)
    if draws[1] < cfg.trabeculation:
        img = _trabeculae(rng, img, labels, applied)
    if draws[2] < cfg.fat:
        img = _fat(rng, img, labels, pixel_mm, applied)
    if draws[3] < cfg.flow:
        img = _flow(rng, img, labels, cfg, applied, pe_axis)
    img = np.clip(img, 0.0, None)
    img = _blur(rng, img, pixel_mm, cfg, applied, pe_axis)
    if draws[4] < cfg.thickness_blur:
        img = _thickness(rng, img, cfg, applied)
    if draws[5] < cfg.bias:
        img = _bias(rng, img, cfg, applied)
    if draws[6] < cfg.breath_hold:
        img, labels = _breath_hold(rng, img, labels, pixel_mm, cfg, applied)
    if draws[7] < cfg.nonlinear:
        img = _nonlinear(rng, img, cfg, applied)
    img = _noise(rng, img, labels, cfg, applied, pe_axis)
    return (img * scale).astype(np.float32), labels, applied


def randomize_case(case, seed: int, config: Optional[RandomizeConfig] = None):
    """A :class:`~cardiacmotion.phantom.PhantomCase` (MR) with its image randomised (and its labels
    shifted with any breath-hold shift); the seed, landmarks and truth are kept (the mid slice,
    where the seed is, never moves)."""
    from dataclasses import replace

    pixel = float(case.image.spacing[0])
    img, lab, applied = randomize_mr(case.image.array, case.labels.array, pixel, seed, config)
    truth = dict(case.truth)
    truth["randomized"] = applied
    return replace(case, image=case.image.with_array(img), labels=case.labels.with_array(lab), truth=truth)
