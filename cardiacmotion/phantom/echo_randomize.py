"""Domain randomisation of the echo training phantom (what differs between scanners and patients).

The echo phantom (:mod:`cardiacmotion.phantom.echo`) renders one family of videos: one speckle size,
one log compression, one sector, one heart pose. TAN trained on it reached LV Dice 0.99 on its own
clips but 0.82 on independently generated ones (issue 21): it learned the phantom. This module widens
a rendered clip after the fact, from ultrasound physics, using the truth labels as tissue classes:

image (labels unchanged):

* tissue contrast: random backscatter gains of LV blood, atrial blood, myocardium and the rest, blended
  with soft (blurred) class maps so no label edge is printed into the image;
* valve region: the leaflets and LV/LA junction around the annulus line dimmed or brightened;
* epicardial rim: the bright pericardial band around the heart dimmed or brightened;
* speckle: a second, multiplicative Rayleigh speckle with a random point-spread function (axial and
  lateral size) and random frame-to-frame decorrelation;
* resolution: an extra Gaussian blur of the envelope, wider laterally than axially;
* gain and TGC: a random smooth depth-gain curve (+-8 dB) and residual attenuation;
* lateral-wall drop-out: angular shadows (echoes from walls parallel to the beam are lost);
* clutter: near-field haze decaying with depth, an apical haze blob, reverberation bands at multiples
  of a random depth, and an electronic noise floor;
* log compression: a random dynamic range (30-70 dB), overall gain and grey map (gamma).

geometry (image, labels and landmarks moved together; probability ``geometry``):

* heart pose and size: rotation about the transducer (+-8 deg) and zoom (0.8-1.25, i.e. imaging depth);
* heart shape: a smooth static elastic deformation (up to ~4 mm);
* sector: a narrower sector angle (only what is imaged is labelled, as in the phantom);
* frame rate: every second frame (a clip at half the frame rate), ED kept.

Everything is deterministic per seed; a clip that draws no geometric change keeps its labels and
landmarks bit for bit. Training code only (never evaluation data); written from ultrasound physics,
independently of the evaluation generator.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

import cv2
import numpy as np
from scipy import ndimage

VIEW_CODE = {"A4C": 1, "A2C": 2}
#: bumped whenever the same seed would draw a different image (cache names carry it)
VERSION = 2


@dataclass(frozen=True)
class EchoRandomizeConfig:
    """Ranges and probabilities (defaults: the training setting)."""

    geometry: float = 0.7  #: probability of a pose / shape / sector change (labels move with it)
    rotation_deg: float = 8.0
    zoom: tuple[float, float] = (0.8, 1.25)
    elastic_mm: tuple[float, float] = (0.0, 4.0)
    sector_shrink: tuple[float, float] = (0.8, 1.0)
    half_rate: float = 0.25  #: probability of keeping every second frame
    contrast: float = 0.8
    valve: float = 0.6  #: leaflet / annulus-region visibility (thin leaflets are often faint)
    rim: float = 0.6  #: brightness of the epicardial rim (pericardium)
    speckle: float = 0.8
    speckle_axial_mm: tuple[float, float] = (0.15, 0.6)
    speckle_lateral_mm: tuple[float, float] = (0.4, 2.0)
    blur: float = 0.6
    tgc_db: float = 8.0
    dropout: float = 0.7
    haze: float = 0.8
    apical_haze: float = 0.4
    reverberation: float = 0.4
    dynamic_db: tuple[float, float] = (30.0, 70.0)
    gain_db: tuple[float, float] = (-6.0, 6.0)
    gamma: tuple[float, float] = (0.7, 1.5)


def selected(seed: int, view: str, fraction: float) -> bool:
    """Whether the clip of ``(seed, view)`` is randomised when a ``fraction`` of the clips is (deterministic)."""
    if fraction <= 0:
        return False
    if fraction >= 1:
        return True
    return bool(np.random.default_rng([int(seed), VIEW_CODE.get(view, 3), 2121]).random() < fraction)


def _polar(shape: tuple[int, int], spacing: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Radius (mm) and angle (rad, + = screen right) of every pixel from the transducer, which sits
    at the top centre just above the first row (the phantom's geometry)."""
    h, w = shape
    x = (np.arange(w) - (w - 1) / 2.0) * spacing[0]
    y = np.arange(h) * spacing[1] + 1.0
    gx, gy = np.meshgrid(x, y)
    return np.hypot(gx, gy).astype(np.float32), np.arctan2(gx, gy).astype(np.float32)


def _sector_extent(frames: np.ndarray, radius: np.ndarray, theta: np.ndarray) -> tuple[float, float]:
    """Half angle (rad) and depth (mm) of the imaged sector (the extent of the pixels that are ever non-zero)."""
    imaged = frames.max(axis=0) > 0
    if not imaged.any():
        return float(np.abs(theta).max()), float(radius.max())
    return float(np.abs(theta[imaged]).max()), float(radius[imaged].max())


def _smooth_noise(rng, shape, sigma_px: tuple[float, float]) -> np.ndarray:
    """Unit-variance Gaussian noise low-passed with ``(sigma_x, sigma_y)`` pixels."""
    n = rng.standard_normal(shape).astype(np.float32)
    sx, sy = max(sigma_px[0], 0.3), max(sigma_px[1], 0.3)
    n = cv2.GaussianBlur(n, (0, 0), sigmaX=sx, sigmaY=sy, borderType=cv2.BORDER_REFLECT)
    return n / (float(n.std()) + 1e-6)


def _geometry(rng, frames, labels, landmarks, spacing, cfg: EchoRandomizeConfig, applied: dict):
    """Rotation and zoom about the transducer, elastic shape change, narrower sector (module doc)."""
    t, h, w = frames.shape
    sx, sy = spacing
    radius, theta = _polar((h, w), spacing)
    half0, depth0 = _sector_extent(frames, radius, theta)
    phi = np.radians(rng.uniform(-cfg.rotation_deg, cfg.rotation_deg))
    zoom = float(np.exp(rng.uniform(np.log(cfg.zoom[0]), np.log(cfg.zoom[1]))))
    amp = float(rng.uniform(*cfg.elastic_mm))
    shrink = float(rng.uniform(*cfg.sector_shrink))
    # output mm (x, y from the transducer) -> input mm: rotate by -phi, scale 1/zoom, plus a smooth displacement
    x = (np.arange(w) - (w - 1) / 2.0) * sx
    y = np.arange(h) * sy + 1.0
    gx, gy = np.meshgrid(x, y)
    c, s = np.cos(-phi), np.sin(-phi)
    ux = (c * gx - s * gy) / zoom
    uy = (s * gx + c * gy) / zoom
    coarse = max(8, int(20.0 / max(sx, sy)))
    dx = _smooth_noise(rng, (h, w), (coarse, coarse))
    dy = _smooth_noise(rng, (h, w), (coarse, coarse))
    peak = float(np.hypot(dx, dy).max()) + 1e-6
    dx, dy = dx * (amp / peak), dy * (amp / peak)  # at most ``amp`` mm anywhere
    ux = ux + dx
    uy = uy + dy
    map_x = (ux / sx + (w - 1) / 2.0).astype(np.float32)
    map_y = ((uy - 1.0) / sy).astype(np.float32)
    half = max((half0 - abs(phi) - np.radians(2.0)) * shrink, np.radians(30.0))  # 2 deg: the soft sector edge
    depth = min(depth0, depth0 * zoom)
    imaged = ndimage.binary_fill_holes(frames.max(axis=0) > 0).astype(np.uint8)
    imaged = cv2.remap(imaged, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0) > 0
    inside = (np.abs(theta) <= half) & (radius <= depth) & imaged
    out_f = np.empty_like(frames)
    out_l = np.empty_like(labels)
    for k in range(t):
        out_f[k] = cv2.remap(frames[k], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        out_l[k] = cv2.remap(labels[k], map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    out_f *= inside
    out_l *= inside
    # landmarks: invert the output -> input map by fixed-point iteration (the displacement is smooth and small)
    lm = np.asarray(landmarks, np.float64)
    new_lm = np.full_like(lm, np.nan)
    ok = np.isfinite(lm).all(axis=-1)
    if ok.any():
        p = lm[ok]
        px_mm = np.stack([(p[:, 0] - (w - 1) / 2.0) * sx, p[:, 1] * sy + 1.0], 1)
        cinv, sinv = np.cos(phi), np.sin(phi)
        q = px_mm.copy()
        for _ in range(8):
            col = np.clip((q[:, 0]) / sx + (w - 1) / 2.0, 0, w - 1)
            row = np.clip((q[:, 1] - 1.0) / sy, 0, h - 1)
            ddx = cv2.remap(dx, col.astype(np.float32)[None], row.astype(np.float32)[None], cv2.INTER_LINEAR)[0]
            ddy = cv2.remap(dy, col.astype(np.float32)[None], row.astype(np.float32)[None], cv2.INTER_LINEAR)[0]
            v = (px_mm - np.stack([ddx, ddy], 1)) * zoom  # rotated back
            q = np.stack([cinv * v[:, 0] - sinv * v[:, 1], sinv * v[:, 0] + cinv * v[:, 1]], 1)
        new_lm[ok] = np.stack([q[:, 0] / sx + (w - 1) / 2.0, (q[:, 1] - 1.0) / sy], 1)
    applied["geometry"] = {"rotation_deg": round(float(np.degrees(phi)), 2), "zoom": round(zoom, 3),
                           "elastic_mm": round(amp, 2), "sector_half_deg": round(float(np.degrees(half)), 1)}
    return out_f, out_l, new_lm


def _valve_gain(rng, labels, landmarks, spacing, applied: dict) -> np.ndarray:
    """A soft region around the annulus line (the leaflets and the LV/LA junction), myocardium excluded,
    dimmed or brightened per clip: leaflet echoes depend on their thickness and angle to the beam."""
    t, h, w = labels.shape
    sx, sy = spacing
    reach = float(rng.uniform(6.0, 16.0))  # mm around the annulus segment
    g = float(np.exp(rng.uniform(np.log(0.1), np.log(1.5))))
    col, row = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = np.ones((t, h, w), np.float32)
    for k in range(t):
        a, b = landmarks[k, 1], landmarks[k, 2]
        abx, aby = float((b[0] - a[0]) * sx), float((b[1] - a[1]) * sy)
        apx, apy = (col - float(a[0])) * sx, (row - float(a[1])) * sy
        u = np.clip((apx * abx + apy * aby) / max(abx * abx + aby * aby, 1e-6), 0.0, 1.0)
        d = np.hypot(apx - u * abx, apy - u * aby)
        region = np.exp(-0.5 * (d / reach) ** 2) * (1.0 - cv2.GaussianBlur((labels[k] == 2).astype(np.float32), (0, 0), 1.0))
        out[k] = 1.0 + (g - 1.0) * region
    applied["valve"] = {"gain": round(g, 3), "reach_mm": round(reach, 1)}
    return out


def _rim_gain(rng, labels, spacing, applied: dict) -> np.ndarray:
    """The band just outside the heart's labels (pericardium, atrial wall) dimmed or brightened."""
    t, h, w = labels.shape
    width = float(rng.uniform(2.0, 6.0))
    g = float(np.exp(rng.uniform(np.log(0.25), np.log(1.6))))
    rad = max(1, int(round(width / min(spacing))))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rad + 1, 2 * rad + 1))
    out = np.ones((t, h, w), np.float32)
    for k in range(t):
        heart = (labels[k] > 0).astype(np.uint8)
        band = (cv2.dilate(heart, kernel) > 0) & (heart == 0)
        out[k] = 1.0 + (g - 1.0) * cv2.GaussianBlur(band.astype(np.float32), (0, 0), 1.0)
    applied["rim"] = {"gain": round(g, 3), "width_mm": round(width, 1)}
    return out


def _half_rate(frames, labels, landmarks, ed: Optional[int]):
    start = int(ed) % 2 if ed is not None else 0
    idx = np.arange(start, frames.shape[0], 2)
    return frames[idx], labels[idx], landmarks[idx], idx


def _image(rng, frames, labels, landmarks, spacing, cfg: EchoRandomizeConfig, applied: dict) -> np.ndarray:
    """Re-form the image in a pseudo-envelope domain (module doc, image steps); labels only read."""
    t, h, w = frames.shape
    sx, sy = spacing
    radius, theta = _polar((h, w), spacing)
    half, depth = _sector_extent(frames, radius, theta)
    sector = ndimage.binary_fill_holes(frames.max(axis=0) > 0)  # black blood inside stays in the sector
    draws = rng.random(8)  # one draw per step, so a probability changes only its own step
    # the phantom's frames are log-compressed (~50 dB) and normalised: back to a relative envelope
    env = np.power(10.0, (np.clip(frames, 0, 1.5) - 1.0) * 50.0 / 20.0).astype(np.float32)
    extra = rng.random(2)
    if draws[0] < cfg.contrast:
        g_blood = float(np.exp(rng.uniform(np.log(0.5), np.log(6.0))))
        g_la = g_blood * float(np.exp(rng.uniform(np.log(0.5), np.log(3.0))))  # atrial blood: own scatter (stasis)
        g_myo = float(np.exp(rng.uniform(np.log(0.5), np.log(1.8))))
        g_rest = float(np.exp(rng.uniform(np.log(0.5), np.log(1.8))))
        gain = np.full(frames.shape, g_rest, np.float32)
        sig = 1.2 / min(sx, sy)
        for cls, g in (((1,), g_blood), ((3,), g_la), ((2,), g_myo)):
            for k in range(t):
                m = cv2.GaussianBlur(np.isin(labels[k], cls).astype(np.float32), (0, 0), sig)
                gain[k] += (g - g_rest) * m
        env *= gain
        applied["contrast"] = {"blood": round(g_blood, 3), "la": round(g_la, 3), "myocardium": round(g_myo, 3), "rest": round(g_rest, 3)}
    if extra[0] < cfg.valve and np.isfinite(landmarks[:, 1:]).all():
        env *= _valve_gain(rng, labels, landmarks, spacing, applied)
    if extra[1] < cfg.rim:
        env *= _rim_gain(rng, labels, spacing, applied)
    if draws[1] < cfg.speckle:
        ax = float(rng.uniform(*cfg.speckle_axial_mm)) / sy
        lat = float(rng.uniform(*cfg.speckle_lateral_mm)) / sx
        persist = float(rng.uniform(0.5, 0.95))
        weight = float(rng.uniform(0.3, 1.0))
        base = [_smooth_noise(rng, (h, w), (lat, ax)) for _ in range(2)]
        k2 = np.sqrt(1.0 - persist**2)
        for k in range(t):
            re = persist * base[0] + k2 * _smooth_noise(rng, (h, w), (lat, ax))
            im = persist * base[1] + k2 * _smooth_noise(rng, (h, w), (lat, ax))
            spk = np.hypot(re, im) / np.sqrt(np.pi / 2.0)  # Rayleigh, mean 1
            env[k] *= (1.0 - weight) + weight * spk
        applied["speckle"] = {"axial_px": round(ax, 2), "lateral_px": round(lat, 2), "persist": round(persist, 3), "weight": round(weight, 3)}
    if draws[2] < cfg.blur:
        bax = float(rng.uniform(0.0, 0.5)) / sy
        blat = float(rng.uniform(0.2, 1.5)) / sx
        for k in range(t):
            env[k] = cv2.GaussianBlur(env[k], (0, 0), sigmaX=max(blat, 0.3), sigmaY=max(bax, 0.3))
        applied["blur_px"] = (round(blat, 2), round(bax, 2))
    # gain and TGC: a smooth random depth curve (dB) and a residual attenuation slope
    knots = rng.uniform(-cfg.tgc_db, cfg.tgc_db, 5)
    slope = float(rng.uniform(-0.04, 0.04))  # dB per mm
    tgc_db = np.interp(radius / max(depth, 1.0), np.linspace(0, 1, 5), knots) + slope * radius
    env *= np.power(10.0, tgc_db / 20.0).astype(np.float32)[None]
    applied["tgc_db"] = [round(float(v), 2) for v in knots]
    level = float(np.percentile(env[:, sector], 90)) if sector.any() else 1.0
    speck = np.abs(rng.standard_normal((t, h, w)).astype(np.float32))  # texture of additive clutter
    if draws[3] < cfg.dropout:
        drop = np.ones((h, w), np.float32)
        for _ in range(int(rng.integers(1, 3))):
            th0 = float(rng.uniform(-0.9, 0.9)) * half
            width = float(rng.uniform(0.03, 0.12))
            r0, r1 = sorted(rng.uniform(0.2, 1.0, 2) * depth)
            radial = 1.0 / (1.0 + np.exp(-(radius - r0) / 5.0)) / (1.0 + np.exp((radius - r1 - 10.0) / 5.0))
            drop *= 1.0 - float(rng.uniform(0.4, 0.95)) * np.exp(-0.5 * ((theta - th0) / width) ** 2) * radial
        env *= drop[None]
        applied["dropout"] = True
    if draws[4] < cfg.haze:
        amp = float(np.exp(rng.uniform(np.log(0.02), np.log(0.6)))) * level
        length = float(rng.uniform(8.0, 40.0))
        env += amp * np.exp(-radius / length)[None] * speck
        applied["haze"] = {"amplitude": round(amp / level, 3), "length_mm": round(length, 1)}
    if draws[5] < cfg.apical_haze and np.isfinite(landmarks[:, 0]).any():
        ap = np.nanmean(landmarks[:, 0], axis=0)
        col, row = np.meshgrid(np.arange(w), np.arange(h))
        d2 = ((col - ap[0]) * sx) ** 2 + ((row - ap[1]) * sy) ** 2
        size = float(rng.uniform(6.0, 20.0))
        amp = float(rng.uniform(0.05, 0.5)) * level
        env += amp * np.exp(-0.5 * d2 / size**2).astype(np.float32)[None] * speck[::-1]
        applied["apical_haze"] = {"size_mm": round(size, 1), "amplitude": round(amp / level, 3)}
    if draws[6] < cfg.reverberation:
        r0 = float(rng.uniform(12.0, 40.0))
        bw = float(rng.uniform(1.0, 4.0))
        amp = float(rng.uniform(0.05, 0.4)) * level
        ang = np.exp(-0.5 * ((theta - float(rng.uniform(-0.5, 0.5)) * half) / float(rng.uniform(0.1, 0.6))) ** 2)
        bands = sum(0.6**k * np.exp(-0.5 * ((radius - (k + 1) * r0) / bw) ** 2) for k in range(3))
        env += amp * (bands * ang).astype(np.float32)[None] * speck[:, :, ::-1]
        applied["reverberation"] = {"spacing_mm": round(r0, 1), "amplitude": round(amp / level, 3)}
    noise = float(np.exp(rng.uniform(np.log(0.002), np.log(0.05)))) * level
    env += noise * np.abs(rng.standard_normal((t, h, w)).astype(np.float32))
    # log compression, gain and grey map
    dr = float(rng.uniform(*cfg.dynamic_db))
    gain = float(rng.uniform(*cfg.gain_db))
    gamma = float(np.exp(rng.uniform(np.log(cfg.gamma[0]), np.log(cfg.gamma[1]))))
    ref = float(np.percentile(env[:, sector], 99.5)) if sector.any() else 1.0
    db = 20.0 * np.log10(np.maximum(env / ref, 1e-6)) + gain
    img = np.clip((db + dr) / dr, 0.0, 1.0) ** gamma
    img *= sector[None]
    applied["log"] = {"dynamic_db": round(dr, 1), "gain_db": round(gain, 2), "gamma": round(gamma, 3)}
    top = float(np.percentile(img[:, sector], 99.5)) if sector.any() else 1.0
    return np.clip(img / max(top, 1e-6), 0.0, 1.5).astype(np.float32)


def randomize_echo(frames: np.ndarray, labels: np.ndarray, landmarks: np.ndarray, spacing: tuple[float, float], seed,
                   ed: Optional[int] = None, config: Optional[EchoRandomizeConfig] = None) -> dict:
    """Randomise one rendered echo clip of the training phantom.

    Args:
        frames: float ``[T, H, W]`` normalised intensities (about [0, 1]; 0 outside the sector).
        labels: uint8 ``[T, H, W]`` (1 LV cavity, 2 myocardium, 3 LA).
        landmarks: ``[T, 3, 2]`` pixels (x = column, y = row).
        spacing: ``(mm per column, mm per row)``; the transducer sits at the top centre.
        seed: an int or a tuple of ints; the same seed gives the same result.
        ed: end-diastolic frame (kept when the frame rate is halved).
        config: ranges and probabilities (default :class:`EchoRandomizeConfig`).

    Returns:
        ``{"frames", "labels", "landmarks", "frame_index", "applied"}``: ``frame_index`` are the
        source frames kept; labels and landmarks change only with a geometric draw.
    """
    cfg = config or EchoRandomizeConfig()
    frames = np.asarray(frames, np.float32)
    labels = np.asarray(labels, np.uint8)
    landmarks = np.asarray(landmarks, np.float64)
    if frames.ndim != 3 or frames.shape != labels.shape or landmarks.shape != (frames.shape[0], 3, 2):
        raise ValueError(f"frames {frames.shape}, labels {labels.shape}, landmarks {landmarks.shape} do not match [T, H, W] / [T, 3, 2]")
    rng = np.random.default_rng([int(x) for x in np.atleast_1d(seed)] + [2121])
    applied: dict = {}
    draws = rng.random(2)
    idx = np.arange(frames.shape[0])
    if draws[0] < cfg.half_rate and frames.shape[0] >= 30:
        frames, labels, landmarks, idx = _half_rate(frames, labels, landmarks, ed)
        applied["half_rate"] = True
    if draws[1] < cfg.geometry:
        frames, labels, landmarks = _geometry(rng, frames, labels, landmarks, spacing, cfg, applied)
    image = _image(rng, frames, labels, landmarks, spacing, cfg, applied)
    return {"frames": image, "labels": labels, "landmarks": landmarks, "frame_index": idx, "applied": applied}


def randomize_clip(clip, seed: int, config: Optional[EchoRandomizeConfig] = None):
    """An :class:`~cardiacmotion.echo.clips.EchoClip` of the phantom with its image (and, with a geometric
    draw, labels and landmarks) randomised; ED/ES follow the kept frames (ES: the smallest LV area
    among them when the original ES frame was dropped). The two views of one seed draw differently."""
    key = (int(seed), VIEW_CODE.get(str(clip.view), 3))
    r = randomize_echo(clip.frames, clip.labels, clip.landmarks, clip.spacing, key, clip.ed, config)
    idx = r["frame_index"]
    pos = {int(s): k for k, s in enumerate(idx)}
    labelled = np.asarray(clip.labelled, bool)[idx]
    area = np.where(labelled, (r["labels"] == 1).sum(axis=(1, 2)), np.nan)
    ed = pos.get(clip.ed) if clip.ed is not None else None
    es = pos.get(clip.es) if clip.es is not None else None
    if clip.ed is not None and ed is None and np.isfinite(area).any():
        ed = int(np.nanargmax(area))
    if clip.es is not None and es is None and np.isfinite(area).any():
        es = int(np.nanargmin(area))
    truth = dict(clip.truth)
    truth["randomized"] = r["applied"]
    cine = clip.cine
    if cine is not None:  # same geometry; the new image (0-255 like the phantom) and the kept frame times
        cine = cine.with_array((r["frames"][:, None] * 170.0).astype(np.float32),
                               frame_times_ms=np.asarray(cine.frame_times_ms)[idx])
    return replace(clip, frames=r["frames"], labels=r["labels"], labelled=labelled, landmarks=r["landmarks"],
                   ed=ed, es=es, cine=cine, truth=truth)
