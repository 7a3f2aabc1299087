"""Temporal-coherence module (training only): optical-flow labels between frames, gated.

For a labelled pair ``(t-1, t)``: 20 points evenly spaced along the LV cavity contour of ``M_{t-1}``
are tracked into frame ``t`` by pyramidal Lucas-Kanade (21x21 window, 3 levels, 30 iterations /
0.01 px, frames smoothed with sigma 1 px); a point whose forward-backward error exceeds 2 px is
replaced by the least-squares affine of the good points, and the pair is dropped when more than
25 % fail. The tracked points are joined by a periodic cubic spline (400 samples) and filled:
``Label^OF_t``. The gate (paper Eq. 7) keeps the pair when the Hausdorff distance between
``Label^OF_t`` and the manual ``M_t`` is at most ``gate_mm`` (10 mm: the paper's 20 px of a 224
window, about 9 % of it, on our ~110 mm windows). Training (``train tan --tcm``) then alternates
ordinary batches with dual-path batches: frame ``t-1`` with its manual label and frame ``t`` with the
flow label, both warped by the same matrix (landmarks of ``t-1`` + augmentation), OHEM on both.

:func:`noisy_labels` makes the frame-by-frame annotation jitter TCM is meant to absorb (smooth radial
contour perturbation, landmark jitter), for the ablation on noisy labels scored against clean truth.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from scipy import interpolate, ndimage

from cardiacmotion.echo.clips import EchoClip

N_POINTS = 20


def contour_points(mask: np.ndarray, n: int = N_POINTS) -> Optional[np.ndarray]:
    """``n`` points (x, y) evenly spaced by arc length on the outer contour of ``mask``, from the top-most point."""
    import cv2

    cs, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not cs:
        return None
    c = max(cs, key=cv2.contourArea)[:, 0].astype(np.float64)
    if len(c) < n:
        return None
    c = np.roll(c, -int(np.argmin(c[:, 1])), axis=0)
    seg = np.linalg.norm(np.diff(np.vstack([c, c[:1]]), axis=0), axis=1)
    s = np.concatenate([[0], np.cumsum(seg)])
    closed = np.vstack([c, c[:1]])
    targets = np.linspace(0, s[-1], n, endpoint=False)
    return np.stack([np.interp(targets, s, closed[:, 0]), np.interp(targets, s, closed[:, 1])], 1)


def fill_spline(points: np.ndarray, shape: tuple[int, int], samples: int = 400) -> np.ndarray:
    """Filled periodic cubic spline through ``points`` (x, y)."""
    import cv2

    pts = np.vstack([points, points[:1]])
    tck, _ = interpolate.splprep([pts[:, 0], pts[:, 1]], s=0, per=1)
    x, y = interpolate.splev(np.linspace(0, 1, samples, endpoint=False), tck)
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(np.stack([x, y], 1) * 8).astype(np.int32)], 1, shift=3)
    return m.astype(bool)


def flow_label(prev: np.ndarray, cur: np.ndarray, mask_prev: np.ndarray, fb_px: float = 2.0, max_fail: float = 0.25) -> Optional[np.ndarray]:
    """``Label^OF_t`` (bool) from frame ``t-1``, its LV mask, and frame ``t``; None when tracking fails."""
    import cv2

    pts = contour_points(mask_prev)
    if pts is None:
        return None
    a = np.clip(ndimage.gaussian_filter(prev.astype(np.float32), 1.0) * 255.0 / max(float(prev.max()), 1e-6), 0, 255).astype(np.uint8)
    b = np.clip(ndimage.gaussian_filter(cur.astype(np.float32), 1.0) * 255.0 / max(float(prev.max()), 1e-6), 0, 255).astype(np.uint8)
    lk = dict(winSize=(21, 21), maxLevel=3, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))
    p0 = pts.astype(np.float32)[:, None]
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(a, b, p0, None, **lk)
    p2, st2, _ = cv2.calcOpticalFlowPyrLK(b, a, p1, None, **lk)
    fb = np.linalg.norm((p2 - p0)[:, 0], axis=1)
    good = (st1[:, 0] == 1) & (st2[:, 0] == 1) & (fb <= fb_px)
    if good.mean() < 1.0 - max_fail:
        return None
    out = p1[:, 0].astype(np.float64)
    if not good.all():
        src = np.column_stack([pts[good], np.ones(good.sum())])
        aff, *_ = np.linalg.lstsq(src, out[good], rcond=None)
        out[~good] = np.column_stack([pts[~good], np.ones((~good).sum())]) @ aff
    return fill_spline(out, mask_prev.shape)


def hausdorff_mm(a: np.ndarray, b: np.ndarray, spacing: tuple[float, float]) -> float:
    """Symmetric Hausdorff distance (mm) between two masks' boundaries."""
    if not a.any() or not b.any():
        return float("inf")
    sp = (spacing[1], spacing[0])
    da = ndimage.distance_transform_edt(~a, sampling=sp)
    db = ndimage.distance_transform_edt(~b, sampling=sp)
    ea = a & ~ndimage.binary_erosion(a)
    eb = b & ~ndimage.binary_erosion(b)
    return float(max(db[ea].max(), da[eb].max()))


def noisy_labels(clip: EchoClip, sigma_mm: float, rng: np.random.Generator, landmark_mm: float = 1.0) -> EchoClip:
    """Per-frame independent, smooth radial jitter of the LV contour (std ``sigma_mm``) and landmark jitter."""
    from dataclasses import replace

    labels = clip.labels.copy()
    sp = (clip.spacing[1], clip.spacing[0])
    for t in np.nonzero(clip.labelled)[0]:
        cav = labels[t] == 1
        if not cav.any():
            continue
        sd = ndimage.distance_transform_edt(~cav, sampling=sp) - ndimage.distance_transform_edt(cav, sampling=sp)
        field = ndimage.gaussian_filter(rng.standard_normal(cav.shape), 10.0 / clip.spacing[0])
        field *= sigma_mm / max(float(field.std()), 1e-9)
        new = (sd + field) < 0
        labels[t][cav & ~new] = 2
        labels[t][new & ~cav & (labels[t] != 0)] = 1
    lms = clip.landmarks + rng.normal(0, 1, clip.landmarks.shape) * (landmark_mm / np.asarray(clip.spacing))
    return replace(clip, labels=labels, landmarks=lms)


class TCMPairs:
    """The gated flow-label pairs of a :class:`~cardiacmotion.echo.tan_data.TANTrainingSet` and their dual-path loss."""

    def __init__(self, data, rng: np.random.Generator, gate_mm: float = 10.0) -> None:
        self.data, self.rng = data, rng
        self.pairs: list[tuple[int, int, np.ndarray]] = []
        self.rejected = self.failed = 0
        for ci, c in enumerate(data.clips):
            for t in range(1, c.length):
                if not (c.labelled[t] and c.labelled[t - 1]):
                    continue
                fl = flow_label(c.frames[t - 1], c.frames[t], c.labels[t - 1] == 1)
                if fl is None:
                    self.failed += 1
                elif hausdorff_mm(fl, c.labels[t] == 1, c.spacing) > gate_mm:
                    self.rejected += 1
                else:
                    self.pairs.append((ci, t, np.packbits(fl)))
        if not self.pairs:
            raise ValueError("no temporal pair passed the TCM gate")

    def loss(self, model, n: int):
        """Dual-path loss on ``n`` random pairs: ``L^M_{t-1} + L^OF_t`` (+ landmark and plane terms on both)."""
        from cardiacmotion.echo.geometry import apply_affine, compose
        from cardiacmotion.echo.tan_data import Batch, augmentation, intensity_augment
        from cardiacmotion.echo.geometry import warp_to_window
        from cardiacmotion.models.tan import VIEWS
        from cardiacmotion.training.train_tan import IGNORE, tan_loss

        d = self.data
        idx = self.rng.integers(0, len(self.pairs), n)
        frames, labels, mats, drifts, views = [], [], [], [], []
        for k in idx:
            ci, t, packed = self.pairs[int(k)]
            c = d.clips[ci]
            a = compose(augmentation(self.rng, d.size, d.shift), d.source_affine(ci, t - 1, "own", self.rng))
            fl = np.unpackbits(packed)[: c.labels[t].size].reshape(c.labels[t].shape).astype(bool)
            lab_of = c.labels[t].astype(np.int64).copy()
            lab_of[(lab_of == 1) & ~fl] = IGNORE
            lab_of[fl & (lab_of != 1)] = 1
            for tt, lab in ((t - 1, c.labels[t - 1].astype(np.int64)), (t, lab_of)):
                frames.append(torch.from_numpy(c.frames[tt]))
                labels.append(torch.from_numpy(lab))
                mats.append(a)
                drifts.append((apply_affine(a, c.landmarks[tt]) - d.template).ravel())
                views.append(VIEWS.index(c.view))
        h = max(f.shape[0] for f in frames)
        w = max(f.shape[1] for f in frames)
        fr = torch.zeros(len(frames), 1, h, w)
        lb = torch.zeros(len(frames), 1, h, w)
        for i, (f, l) in enumerate(zip(frames, labels)):
            fr[i, 0, : f.shape[0], : f.shape[1]] = f
            lb[i, 0, : l.shape[0], : l.shape[1]] = l.float()
        img = intensity_augment(warp_to_window(fr, np.stack(mats), d.size), self.rng)
        lab = warp_to_window(lb, np.stack(mats), d.size, mode="nearest")[:, 0].round().long()
        batch = Batch(img, lab, torch.tensor(np.array(drifts), dtype=torch.float32), torch.tensor(views), [])
        return tan_loss(model(batch.images), batch)
