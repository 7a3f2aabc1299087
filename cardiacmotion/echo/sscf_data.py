"""SSCF data: square network frames, three-frame windows and the ED/ES-only training set.

Frames are padded to a square (centred, zeros) and resized to the network size, so sector images
keep their aspect ratio (spec §4 step 2). Windows are ``(t-1, t, t+1)`` with the edge frame
replicated at the ends of a clip (spec §3, needed when ED or ES is the first or last frame).
Only ED and ES labels ever reach the training set (:func:`~cardiacmotion.echo.clips.hide_except_ed_es`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from cardiacmotion.echo.clips import EchoClip, hide_except_ed_es


def square_pad(shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` zero padding that makes an ``(H, W)`` frame square, centred."""
    h, w = shape
    s = max(h, w)
    top, left = (s - h) // 2, (s - w) // 2
    return top, s - h - top, left, s - w - left


def to_network(frames: np.ndarray, size: int) -> torch.Tensor:
    """``[T, H, W]`` intensities -> ``[T, size, size]`` float tensor (square pad, antialiased bilinear)."""
    t, b, l, r = square_pad(frames.shape[1:])
    x = torch.as_tensor(np.ascontiguousarray(frames, np.float32))[:, None]
    x = F.pad(x, (l, r, t, b))
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)[:, 0]


def labels_to_network(labels: np.ndarray, size: int, num_classes: int = 4) -> torch.Tensor:
    """``[T, H, W]`` label maps -> ``[T, size, size]`` long (area-averaged one-hot, then argmax)."""
    t, b, l, r = square_pad(labels.shape[1:])
    lab = torch.as_tensor(np.asarray(labels, np.int64)).clamp(0, num_classes - 1)
    oh = F.one_hot(lab, num_classes).permute(0, 3, 1, 2).float()
    oh = F.pad(oh, (l, r, t, b))
    oh[:, 0] += (oh.sum(1) == 0).float()  # padding is background
    return F.interpolate(oh, size=(size, size), mode="area").argmax(1)


def from_network(prob: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """``[T, C, size, size]`` probabilities -> ``[T, C, H, W]`` on the native grid (bilinear, padding cut)."""
    h, w = shape
    s = max(h, w)
    t, b, l, r = square_pad(shape)
    up = F.interpolate(prob, size=(s, s), mode="bilinear", align_corners=False)
    return up[:, :, t:t + h, l:l + w]


def physical_geometry(shape: tuple[int, int], spacing: tuple[float, float], mm_per_px: float, multiple: int = 8) -> dict:
    """Network grid of a frame resampled to ``mm_per_px`` (the training phantom's scale): the resized
    ``(h, w)`` and the centred zero padding up to a multiple of ``multiple`` (the U-Net's pooling)."""
    h = max(multiple, int(round(shape[0] * spacing[1] / mm_per_px)))
    w = max(multiple, int(round(shape[1] * spacing[0] / mm_per_px)))
    ph, pw = -h % multiple, -w % multiple
    return {"size": (h, w), "pad": (ph // 2, ph - ph // 2, pw // 2, pw - pw // 2)}


def to_network_physical(frames: np.ndarray, geometry: dict) -> torch.Tensor:
    """``[T, H, W]`` -> ``[T, h + pad, w + pad]`` at the network's physical scale (:func:`physical_geometry`)."""
    x = torch.as_tensor(np.ascontiguousarray(frames, np.float32))[:, None]
    x = F.interpolate(x, size=geometry["size"], mode="bilinear", align_corners=False, antialias=True)
    t, b, l, r = geometry["pad"]
    return F.pad(x, (l, r, t, b))[:, 0]


def from_network_physical(prob: torch.Tensor, geometry: dict, shape: tuple[int, int]) -> torch.Tensor:
    """Inverse of :func:`to_network_physical` for ``[T, C, ., .]`` probabilities (bilinear)."""
    t, b, l, r = geometry["pad"]
    h, w = geometry["size"]
    return F.interpolate(prob[:, :, t:t + h, l:l + w], size=shape, mode="bilinear", align_corners=False)


def window_indices(centres: Sequence[int], length: int) -> np.ndarray:
    """``[N, 3]`` frame indices ``(t-1, t, t+1)`` per centre, the edge frame replicated at the clip ends."""
    c = np.asarray(centres, np.int64)[:, None]
    return np.clip(c + np.array([-1, 0, 1])[None], 0, length - 1)


@dataclass
class SSCFClip:
    """A clip at network size. ``labels`` is ``-1`` on every frame that is not labelled (ED/ES only)."""

    name: str
    frames: torch.Tensor  # [T, S, S] float
    labels: torch.Tensor  # [T, S, S] long, -1 = unlabelled
    labelled: np.ndarray  # [T] bool
    ed: Optional[int]
    es: Optional[int]
    mm_per_px: Optional[float] = None  # physical size of a network pixel (square pad + resize)


def prepare(clip: EchoClip, size: int, ed_es_only: bool = True, labelled: bool = True) -> SSCFClip:
    """One training clip at network size; ``ed_es_only`` applies the harness switch, ``labelled=False``
    drops every label (the partial-labelling regime)."""
    if ed_es_only:
        clip = hide_except_ed_es(clip)
    keep = np.asarray(clip.labelled, bool) & labelled
    lab = labels_to_network(clip.labels, size)
    lab[~torch.as_tensor(keep)] = -1
    mm = max(clip.frames.shape[1:]) * float(np.mean(clip.spacing)) / size
    return SSCFClip(clip.name, to_network(clip.frames, size), lab, keep, clip.ed, clip.es, mm)


def load_training_clips(first_seed: int, per_view: int, size: int, cache: Optional[str] = None,
                        labelled_fraction: float = 1.0, log=print, randomize: float = 0.0, **phantom_options) -> list[SSCFClip]:
    """Training-phantom clips (A4C and A2C alternately), ED/ES labels only; cached per clip as .npz.

    ``labelled_fraction`` < 1 keeps the labels of only that share of the clips (spread evenly), the rest
    are fully unlabelled (used by the consistency loss only). ``randomize`` is the share of clips
    re-imaged by the echo domain randomisation (:mod:`cardiacmotion.phantom.echo_randomize`);
    ``phantom_options`` go to the phantom (e.g. ``frames``; not part of the cache name).
    """
    from cardiacmotion.echo.clips import phantom_clip
    from cardiacmotion.phantom.echo_randomize import VERSION, randomize_clip, selected

    out: list[SSCFClip] = []
    n = 2 * per_view
    n_lab = max(1, int(round(labelled_fraction * n)))
    lab_idx = set(np.linspace(0, n - 1, n_lab).round().astype(int).tolist())
    k = 0
    for seed in range(first_seed, first_seed + per_view):
        for view in ("A4C", "A2C"):
            rand = selected(seed, view, randomize)
            path = Path(cache) / f"sscf-{view}-{seed}-{size}{f'-rand{VERSION}' if rand else ''}.npz" if cache else None
            if path is not None and path.is_file():
                z = np.load(path)
                c = SSCFClip(str(z["name"]), torch.as_tensor(z["frames"]), torch.as_tensor(z["labels"]).long(),
                             z["labelled"], int(z["ed"]), int(z["es"]), float(z["mm_per_px"]) if "mm_per_px" in z else None)
            else:
                clip = phantom_clip(seed, view, **phantom_options)
                c = prepare(randomize_clip(clip, seed) if rand else clip, size)
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    np.savez_compressed(path, name=c.name, frames=c.frames.numpy(), labels=c.labels.numpy().astype(np.int8),
                                        labelled=c.labelled, ed=c.ed, es=c.es, mm_per_px=c.mm_per_px)
                log(f"clip {c.name}: {c.frames.shape[0]} frames, ED {c.ed}, ES {c.es}")
            if k not in lab_idx:
                c = SSCFClip(c.name, c.frames, torch.full_like(c.labels, -1), np.zeros_like(c.labelled), c.ed, c.es, c.mm_per_px)
            out.append(c)
            k += 1
    return out


def jitter_labels(labels: torch.Tensor, rms_px: float, gen: torch.Generator, grid: int = 4) -> torch.Tensor:
    """``[S, S]`` label map warped by a smooth random displacement field of ``rms_px`` RMS (nearest sampling):
    low-frequency boundary jitter like a tracer's (a ``grid`` x ``grid`` random field, bicubic-upsampled)."""
    s = labels.shape[-1]
    d = F.interpolate(torch.randn(1, 2, grid, grid, generator=gen), size=labels.shape[-2:], mode="bicubic", align_corners=True)
    d = d * (rms_px / d.pow(2).sum(1).mean().sqrt().clamp_min(1e-6))
    base = F.affine_grid(torch.eye(2, 3)[None], [1, 1, *labels.shape[-2:]], align_corners=False)
    g = base + d.permute(0, 2, 3, 1) * (2.0 / s)
    out = F.grid_sample(labels[None, None].float(), g, mode="nearest", padding_mode="border", align_corners=False)
    return out[0, 0].long()


def add_label_noise(clips: Sequence[SSCFClip], jitter_mm: float = 0.0, timing_fraction: float = 0.0,
                    seed: int = 0) -> list[SSCFClip]:
    """Annotation realism (guide §7c) on the labelled ED/ES frames only; the exact truth stays for evaluation.

    ``jitter_mm``: smooth boundary jitter (RMS, in mm at the clip's network pixel size). ``timing_fraction``:
    that share of the labelled clips has each ED/ES mask attached to the frame one before or after it (a
    timing error: the traced mask no longer matches its image). Unlabelled clips are returned unchanged.
    """
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    out = []
    for c in clips:
        frames_lab = np.nonzero(c.labelled)[0].tolist()
        if not frames_lab:
            out.append(c)
            continue
        labels, labelled = c.labels.clone(), np.array(c.labelled, copy=True)
        if jitter_mm > 0:
            px = jitter_mm / (c.mm_per_px or 1.0)
            for t in frames_lab:
                labels[t] = jitter_labels(labels[t], px, gen)
        if timing_fraction > 0 and rng.random() < timing_fraction:
            n = labels.shape[0]
            for t in frames_lab:
                u = int(np.clip(t + rng.choice([-1, 1]), 0, n - 1))
                if u == t or labelled[u]:
                    u = int(np.clip(2 * t - u, 0, n - 1))  # the other side (clip edge or the other labelled frame)
                if u != t and not labelled[u]:
                    labels[u], labels[t] = labels[t].clone(), -1
                    labelled[u], labelled[t] = True, False
        out.append(SSCFClip(c.name, c.frames, labels, labelled, c.ed, c.es, c.mm_per_px))
    return out
