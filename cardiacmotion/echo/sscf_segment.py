"""SSCF inference: a whole echo clip in batched windows, ED/ES from the LV area curve, ``segment --method sscf``.

Every centre frame t gets the window (t-1, t, t+1) (edge frames replicated); windows run in chunks,
so each frame passes each position's encoder once. Probabilities are resized back to the native grid
and thresholded (binary: 0.5; multi-class: argmax). Product mode keeps the largest component of each
label and fills the LV's holes; ``cleanup=False`` is the paper's raw output.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
from scipy import ndimage

from cardiacmotion.cine import Cine
from cardiacmotion.errors import NotAvailableError


@dataclass
class SSCFResult:
    labels: np.ndarray  # [T, H, W] uint8 (1 LV, 2 myocardium, 3 LA)
    lv_area_mm2: np.ndarray  # [T]
    ed: int
    es: int
    seconds: float


def _largest(mask: np.ndarray) -> np.ndarray:
    lab, n = ndimage.label(mask)
    if n <= 1:
        return mask
    sizes = ndimage.sum(mask, lab, range(1, n + 1))
    return lab == (1 + int(np.argmax(sizes)))


def cleanup_labels(labels: np.ndarray) -> np.ndarray:
    """Per frame: largest connected component of each label; LV holes filled (stray blobs distort discs)."""
    out = np.zeros_like(labels)
    for t in range(labels.shape[0]):
        for v in (2, 3, 1):  # LV last so its filled holes win
            m = labels[t] == v
            if not m.any():
                continue
            m = _largest(m)
            if v == 1:
                m = ndimage.binary_fill_holes(m)
            out[t][m] = v
    return out


def detect_ed_es(area: np.ndarray, frame_ms: Optional[float] = None) -> tuple[int, int]:
    """ED = maximum and ES = minimum of the Savitzky-Golay-smoothed LV area curve (~80 ms window;
    5 frames when the frame time is unknown). Clips of about one cycle: the global extremes (project rule)."""
    from scipy.signal import savgol_filter

    a = np.asarray(area, float)
    n = len(a)
    if n < 5:
        return int(np.argmax(a)), int(np.argmin(a))
    win = 5 if not frame_ms else max(5, int(round(80.0 / frame_ms)) | 1)
    win = min(win, n if n % 2 else n - 1)
    s = savgol_filter(a, win, 2, mode="wrap") if win >= 5 else a
    return int(np.argmax(s)), int(np.argmin(s))


@torch.no_grad()
def run_sscf(model, frames: np.ndarray, size: int, spacing: tuple[float, float] = (1.0, 1.0), chunk: int = 32,
             cleanup: bool = True, device: str = "cpu", frame_ms: Optional[float] = None,
             mm_per_px: Optional[float] = None) -> SSCFResult:
    """Segment a clip ``[T, H, W]`` (intensities normalised as :func:`~cardiacmotion.echo.clips.normalise_frames`).

    With ``mm_per_px`` (the training scale) and a plausible pixel spacing (0.05-3 mm) the frames are
    resampled to that physical scale (the net is fully convolutional, so any field of view fits);
    otherwise they are padded to a square and resized to ``size`` as in training.
    """
    from cardiacmotion.echo.sscf_data import (from_network, from_network_physical, physical_geometry, to_network,
                                              to_network_physical, window_indices)

    t0 = time.perf_counter()
    n, h, w = frames.shape
    geo = None
    if mm_per_px and all(0.05 <= float(s) <= 3.0 for s in spacing):
        geo = physical_geometry((h, w), spacing, mm_per_px)
        x = to_network_physical(frames, geo).to(device)
    else:
        x = to_network(frames, size).to(device)
    idx = torch.as_tensor(window_indices(range(n), n))
    labels = np.zeros((n, h, w), np.uint8)
    for s in range(0, n, chunk):
        win = x[idx[s:s + chunk]]  # [b, 3, S, S]
        p = model.probabilities(win)
        p = from_network_physical(p.float().cpu(), geo, (h, w)) if geo else from_network(p.float().cpu(), (h, w))
        if p.shape[1] == 1:
            labels[s:s + chunk] = (p[:, 0] >= 0.5).numpy().astype(np.uint8)
        else:
            labels[s:s + chunk] = p.argmax(1).numpy().astype(np.uint8)
    if cleanup:
        labels = cleanup_labels(labels)
    area = (labels == 1).reshape(n, -1).sum(1) * float(spacing[0] * spacing[1])
    ed, es = detect_ed_es(area, frame_ms)
    return SSCFResult(labels, area, ed, es, time.perf_counter() - t0)


def segment_sscf(image: Cine, seeds=None, landmarks=None, weights: Optional[str] = None, device: str = "cpu",
                 seed_phase: Optional[int] = None, progress=None, auto: bool = False) -> tuple[Cine, dict]:
    """Segment an echo video with SSCF (fully automatic: seeds and landmarks are not needed and not used).

    Returns:
        ``(label Cine, info)``; info has ``method`` 'sscf', ``ed_phase``/``es_phase`` (from the LV area
        curve), ``lv_area_mm2``, ``seconds``, ``frames_per_second``.
    Raises:
        NotAvailableError: not a one-slice echo video; WeightsError: no usable weights.
    """
    from cardiacmotion.echo.clips import normalise_frames
    from cardiacmotion.echo.sscf_weights import load_sscf

    if image.modality != "US" or image.slices != 1:
        raise NotAvailableError("SSCF segments echo videos only (one slice, modality US); use memory or registration for MR")
    model, cfg = load_sscf(weights, device)
    sp = image.spacing
    times = getattr(image, "frame_times_ms", None)
    frame_ms = float(np.median(np.diff(times))) if times is not None and len(times) > 1 else None
    res = run_sscf(model, normalise_frames(image.array[:, 0]), int(cfg["size"]), (float(sp[0]), float(sp[1])),
                   device=device, frame_ms=frame_ms, mm_per_px=cfg.get("mm_per_px"))
    seg = image.with_array(res.labels[:, None].astype(np.uint8))
    seg.meta["segmentation_method"] = "sscf"
    info = {"method": "sscf", "seed": "none (automatic)", "ed_phase": res.ed, "es_phase": res.es,
            "lv_area_mm2": np.round(res.lv_area_mm2, 2).tolist(), "seconds": round(res.seconds, 3),
            "frames_per_second": round(image.phases / max(res.seconds, 1e-9), 2)}
    if seeds is not None or landmarks is not None:
        info["message"] = "SSCF is automatic: the seed/landmarks given were not used"
    return seg, info
