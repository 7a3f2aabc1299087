"""Training samples for TAN: frames warped into the affine window, as the paper trains.

Each sample picks a labelled frame ``t`` of a clip and a *source* of the warp:

- ``own`` (40 %): the frame's own landmarks (the paper's pre-processing);
- ``previous`` (35 %): the landmarks of frame ``t-1`` (what inference does; falls back to ``own``
  when ``t-1`` has no landmarks, e.g. with the ED/ES-only switch);
- ``perturbed`` (15 %): the own landmarks each moved by N(0, 3 mm) (recovery from drift);
- ``initial`` (10 %): the whole-sector box map used for the automatic first frame.

The warp is then composed with the paper's augmentation in the window (rotation +-5 deg, scale
0.9-1.1, translation up to the measured inter-frame landmark motion, at least 2 px) so every image is interpolated
once from the native frame. Targets move with the image: the label map (nearest) and the landmark
drifts ``A . P_true - P_ref``. Only frames flagged ``labelled`` are ever drawn, which is what the
ED/ES-only switch relies on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch

from cardiacmotion.echo.clips import EchoClip
from cardiacmotion.echo.geometry import affine_from_points, apply_affine, box_affine, build_template, compose, warp_to_window, window_affine
from cardiacmotion.models.tan import VIEWS

MODES = ("own", "previous", "perturbed", "initial")
MODE_P = (0.40, 0.35, 0.15, 0.10)
QUANT = 170.0  # frames (about [0, 1.5]) are stored as uint8 * 1/QUANT


def sector_box(frame: np.ndarray) -> tuple[float, float, float, float]:
    """Bounding box of the imaged sector (pixels above 2 % of the maximum), for the first-frame map."""
    yy, xx = np.nonzero(frame > 0.02 * max(float(frame.max()), 1e-6))
    if len(xx) == 0:
        return 0.0, 0.0, frame.shape[1] - 1.0, frame.shape[0] - 1.0
    return float(xx.min()), float(yy.min()), float(xx.max()), float(yy.max())


def augmentation(rng: np.random.Generator, size: int, shift: float, rot_deg: float = 5.0, scale=(0.9, 1.1)) -> np.ndarray:
    """A random window->window affine about the window centre."""
    a = np.radians(rng.uniform(-rot_deg, rot_deg))
    s = rng.uniform(*scale)
    c = (size - 1) / 2.0
    r = s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    t = np.array([c, c]) - r @ np.array([c, c]) + rng.uniform(-shift, shift, 2)
    return np.hstack([r, t[:, None]])


@dataclass
class Batch:
    images: torch.Tensor  # [B, 1, s, s]
    labels: torch.Tensor  # [B, s, s] int64
    drifts: torch.Tensor  # [B, 6]
    views: torch.Tensor  # [B]
    frames: list  # (clip index, frame index) of each sample: what reached the losses


class TANTrainingSet:
    """Warped training samples from echo clips (module doc)."""

    def __init__(self, clips: Sequence[EchoClip], size: int, template: Optional[np.ndarray] = None,
                 shift: Optional[float] = None, space: str = "affine", crop_scale: Optional[float] = None) -> None:
        self.clips = list(clips)
        self.size = size
        self.space = space
        self.labelled = [np.nonzero(c.labelled & np.isfinite(c.landmarks).all(axis=(1, 2)))[0] for c in self.clips]
        if not any(len(x) for x in self.labelled):
            raise ValueError("no labelled frame with landmarks in the training clips")
        if template is None:
            template = build_template(((c.landmarks[t], np.isin(c.labels[t], (1, 2))) for c, idx in zip(self.clips, self.labelled)
                                       for t in idx), size)
        self.template = np.asarray(template, np.float64)
        # the crop ablation's fixed scale: the median scale of the exact affines (same mm per window pixel)
        self.crop_scale = float(crop_scale) if crop_scale else float(np.median(
            [np.sqrt(abs(np.linalg.det(affine_from_points(c.landmarks[t], self.template)[:, :2])))
             for c, idx in zip(self.clips, self.labelled) for t in idx[::5]]))
        # the measured motion is under a pixel at these frame rates; 2 px keeps some slack for tracking error
        self.shift = float(shift) if shift is not None else max(self.inter_frame_motion(), 2.0)
        h = max(c.frames.shape[1] for c in self.clips)
        w = max(c.frames.shape[2] for c in self.clips)
        self._frames = []
        self._labels = []
        for c in self.clips:
            f = np.zeros((c.length, h, w), np.uint8)
            f[:, : c.frames.shape[1], : c.frames.shape[2]] = np.clip(np.rint(c.frames * QUANT), 0, 255)
            lab = np.zeros((c.length, h, w), np.uint8)
            lab[:, : c.labels.shape[1], : c.labels.shape[2]] = c.labels
            self._frames.append(torch.from_numpy(f))
            self._labels.append(torch.from_numpy(lab))
        self._boxes = [sector_box(c.frames[0]) for c in self.clips]

    def inter_frame_motion(self) -> float:
        """The 99th percentile of per-axis landmark motion between consecutive frames, in window pixels
        (each pair mapped by the earlier frame's warp); the translation range of the augmentation."""
        moves = []
        for c in self.clips:
            for t in range(1, c.length):
                if not (np.isfinite(c.landmarks[t]).all() and np.isfinite(c.landmarks[t - 1]).all()):
                    continue
                a = window_affine(c.landmarks[t - 1], self.template, self.space, getattr(self, "crop_scale", 1.0))
                moves.append(np.abs(apply_affine(a, c.landmarks[t]) - self.template).ravel())
        return float(np.percentile(np.concatenate(moves), 99)) if moves else 3.0

    def source_affine(self, ci: int, t: int, mode: str, rng: np.random.Generator) -> np.ndarray:
        c = self.clips[ci]
        if mode == "initial":
            return box_affine(self._boxes[ci], self.size)
        src = c.landmarks[t]
        if mode == "previous" and t > 0 and np.isfinite(c.landmarks[t - 1]).all():
            src = c.landmarks[t - 1]
        elif mode in ("perturbed", "previous"):
            sigma = 3.0 / np.asarray(c.spacing) if mode == "perturbed" else 1.0 / np.asarray(c.spacing)
            src = src + rng.normal(0.0, 1.0, (3, 2)) * sigma
        try:
            return window_affine(src, self.template, self.space, self.crop_scale)
        except ValueError:
            return window_affine(c.landmarks[t], self.template, self.space, self.crop_scale)

    def sample(self, batch: int, rng: np.random.Generator, modes: Sequence[str] = MODES,
               mode_p: Sequence[float] = MODE_P) -> Batch:
        """A random batch (module doc)."""
        clip_ids = [i for i, x in enumerate(self.labelled) if len(x)]
        picks, mats, drifts, views = [], [], [], []
        p = np.asarray(mode_p, float) / np.sum(mode_p)
        for _ in range(batch):
            ci = int(rng.choice(clip_ids))
            t = int(rng.choice(self.labelled[ci]))
            mode = str(rng.choice(list(modes), p=p))
            a = compose(augmentation(rng, self.size, self.shift), self.source_affine(ci, t, mode, rng))
            picks.append((ci, t))
            mats.append(a)
            drifts.append((apply_affine(a, self.clips[ci].landmarks[t]) - self.template).ravel())
            views.append(VIEWS.index(self.clips[ci].view))
        return self._warp(picks, np.stack(mats), drifts, views, rng)

    def _warp(self, picks, mats, drifts, views, rng) -> Batch:
        frames = torch.stack([self._frames[ci][t] for ci, t in picks])[:, None].float() / QUANT
        labels = torch.stack([self._labels[ci][t] for ci, t in picks])[:, None].float()
        img = warp_to_window(frames, mats, self.size)
        lab = warp_to_window(labels, mats, self.size, mode="nearest")[:, 0].round().long()
        img = intensity_augment(img, rng)
        return Batch(img, lab, torch.tensor(np.array(drifts), dtype=torch.float32), torch.tensor(views), list(picks))


def intensity_augment(img: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Gamma 0.7-1.5, gain 0.8-1.2 and speckle-like noise, per image."""
    b = img.shape[0]
    gamma = torch.tensor(rng.uniform(0.7, 1.5, b), dtype=img.dtype).view(b, 1, 1, 1)
    gain = torch.tensor(rng.uniform(0.8, 1.2, b), dtype=img.dtype).view(b, 1, 1, 1)
    noise = torch.tensor(rng.uniform(0.0, 0.05, b), dtype=img.dtype).view(b, 1, 1, 1)
    out = img.clamp_min(0).pow(gamma) * gain
    g = torch.Generator().manual_seed(int(rng.integers(1 << 31)))
    return out + noise * torch.randn(out.shape, generator=g) * (out > 0)
