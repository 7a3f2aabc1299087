"""TAN's temporal loop: frame ``t`` is warped with the landmarks predicted at ``t-1``.

Per frame: ``A = affine(P_{t-1} -> P_ref)``, warp into the window, one forward pass (segmentation,
drifts, plane), ``P_t = A^-1 (P_ref + drift)``, the class probabilities warped back with ``A``.

- **Start.** User landmarks (an *anchor*) fix the frame they are on; without any, the first frame
  is mapped by its sector box (:func:`~cardiacmotion.echo.tan_data.sector_box`), and the estimate is
  refined by re-warping with it, at most 3 passes or until it moves < 0.5 px.
- **Corrections.** Every anchor (frame -> landmarks) restarts the tracking from its frame, forwards
  and backwards; a frame between two anchors takes the track of the nearer one.
- **Drift guard.** When the new triangle's area changes by more than 40 % or its apex-to-annulus
  length by more than 25 % from the previous frame, the previous landmarks are kept (and the frame
  is listed in ``guarded``): one bad prediction cannot throw the next window off the heart.
- **Post-processing.** The LV cavity keeps its largest connected component, holes filled.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Mapping, Optional

import numpy as np
import torch
from scipy import ndimage

from cardiacmotion.echo.geometry import apply_affine, box_affine, invert_affine, triangle_area, warp_probs_back, warp_to_window, window_affine
from cardiacmotion.echo.tan_data import sector_box
from cardiacmotion.models.tan import VIEWS


@dataclass
class TANResult:
    """What TAN gives for a clip.

    Attributes:
        labels: uint8 ``[T, H, W]`` (CAMUS labels).
        landmarks: ``[T, 3, 2]`` native pixels (Apex, septal, lateral).
        view_probs: ``[T, 2]`` per-frame (A2C, A4C) probabilities.
        view: the clip's view (mean of the per-frame probabilities).
        guarded: frames where the drift guard kept the previous landmarks.
        seconds: wall-clock time of the loop.
    """

    labels: np.ndarray
    landmarks: np.ndarray
    view_probs: np.ndarray
    view: str
    guarded: list = field(default_factory=list)
    seconds: float = 0.0


def _length(p: np.ndarray) -> float:
    return float(np.linalg.norm(p[0] - 0.5 * (p[1] + p[2])))


class TANTracker:
    """Runs a trained :class:`~cardiacmotion.models.tan.TANNet` over clips.

    Args:
        model: the network (eval mode).
        template: ``P_ref`` (3, 2) window pixels.
        device: torch device.
        guard: enable the drift guard.
    """

    def __init__(self, model, template: np.ndarray, device="cpu", guard: bool = True, space: str = "affine",
                 crop_scale: float = 1.0) -> None:
        self.model = model
        self.space, self.crop_scale = space, crop_scale
        self.template = np.asarray(template, np.float64)
        self.size = int(model.size)
        self.device = torch.device(device)
        self.guard = guard

    def window(self, p: np.ndarray) -> np.ndarray:
        """Native -> window affine for landmarks ``p``."""
        return window_affine(p, self.template, self.space, self.crop_scale)

    @classmethod
    def from_weights(cls, weights=None, device="cpu", guard: bool = True) -> "TANTracker":
        """A tracker from a checkpoint (default: the bundled one)."""
        from cardiacmotion.echo.tan_weights import load_tan

        model, template, cfg = load_tan(weights)
        return cls(model, template, device, guard, cfg.get("space", "affine"), float(cfg.get("crop_scale", 1.0)))

    @torch.no_grad()
    def predict(self, frame: np.ndarray, a: np.ndarray) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
        """``(window probabilities [1, C, s, s], landmarks native (3, 2), plane probabilities (2,))`` of one frame."""
        img = torch.from_numpy(np.ascontiguousarray(frame, np.float32))[None, None]
        win = warp_to_window(img, a[None], self.size).to(self.device)
        seg, drift, plane = self.model(win)
        p_sub = self.template + drift[0].double().cpu().numpy().reshape(3, 2)
        return torch.softmax(seg, 1).float().cpu(), apply_affine(invert_affine(a), p_sub), torch.softmax(plane, 1)[0].cpu().numpy()

    def initial_landmarks(self, frame: np.ndarray, passes: int = 3) -> np.ndarray:
        """Automatic first-frame estimate: sector box map, then up to ``passes`` refinements."""
        _, p, _ = self.predict(frame, box_affine(sector_box(frame), self.size))
        for _ in range(passes):
            try:
                a = self.window(p)
            except ValueError:
                break
            _, q, _ = self.predict(frame, a)
            moved = float(np.abs(q - p).max())
            p = q
            if moved < 0.5:
                break
        return p

    def _labels(self, probs_win: torch.Tensor, a: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
        probs = warp_probs_back(probs_win, a, hw)[0]
        lab = probs.argmax(0).numpy().astype(np.uint8)
        cav = lab == 1
        if cav.any():
            cc, n = ndimage.label(cav)
            if n > 1:
                sizes = ndimage.sum_labels(cav, cc, np.arange(1, n + 1))
                cav = cc == 1 + int(np.argmax(sizes))
            cav = ndimage.binary_fill_holes(cav)
            lab[(lab == 1) & ~cav] = 0
            lab[cav] = 1
        return lab

    def _run(self, frames: np.ndarray, start: int, p0: np.ndarray, stop: int, step: int, out: dict) -> None:
        """Track from anchor ``start`` (landmarks ``p0``) toward ``stop`` (exclusive) by ``step``."""
        p_prev = p0
        t = start
        while t != stop:
            a = self.window(p_prev)
            probs, p, plane = self.predict(frames[t], a)
            if t == start:
                p = p0  # an anchor's landmarks are the user's
            elif self.guard and self._jump(p_prev, p):
                out["guarded"].append(t)
                p = p_prev
            out["labels"][t] = self._labels(probs, a, frames.shape[1:])
            out["landmarks"][t] = p
            out["view"][t] = plane
            p_prev = p
            t += step

    @staticmethod
    def _jump(p_prev: np.ndarray, p: np.ndarray) -> bool:
        a0, a1 = triangle_area(p_prev), triangle_area(p)
        l0, l1 = _length(p_prev), _length(p)
        return a1 < 0.25 * a0 or abs(a1 - a0) > 0.4 * a0 or abs(l1 - l0) > 0.25 * max(l0, 1e-6)

    def track(self, frames: np.ndarray, anchors: Optional[Mapping[int, np.ndarray]] = None) -> TANResult:
        """Segment and track a clip.

        Args:
            frames: ``[T, H, W]`` normalised frames (:func:`~cardiacmotion.echo.clips.normalise_frames`).
            anchors: ``{frame: landmarks (3, 2) native px}`` from the user (first frame and/or
                corrections); empty or None = fully automatic from frame 0.
        """
        t0 = time.perf_counter()
        T = frames.shape[0]
        anchors = {int(k): np.asarray(v, np.float64).reshape(3, 2) for k, v in (anchors or {}).items()}
        if not anchors:
            anchors = {0: self.initial_landmarks(frames[0])}
        keys = sorted(anchors)
        fwd = [{"labels": {}, "landmarks": {}, "view": {}, "guarded": []} for _ in keys]
        bwd = [{"labels": {}, "landmarks": {}, "view": {}, "guarded": []} for _ in keys]
        for i, k in enumerate(keys):
            nxt = keys[i + 1] if i + 1 < len(keys) else T
            prv = keys[i - 1] if i > 0 else -1
            self._run(frames, k, anchors[k], nxt, 1, fwd[i])
            if k - prv > 1:
                self._run(frames, k, anchors[k], prv, -1, bwd[i])
        labels = np.zeros(frames.shape, np.uint8)
        lms = np.zeros((T, 3, 2))
        views = np.zeros((T, 2))
        guarded = []
        for t in range(T):
            # nearest anchor wins: forward track of the anchor before t, backward one of the anchor after
            before = max((k for k in keys if k <= t), default=None)
            after = min((k for k in keys if k >= t), default=None)
            if after is not None and (before is None or after - t < t - before):
                src = bwd[keys.index(after)] if t != after else fwd[keys.index(after)]
            else:
                src = fwd[keys.index(before)]
            labels[t], lms[t], views[t] = src["labels"][t], src["landmarks"][t], src["view"][t]
            if t in src["guarded"]:
                guarded.append(t)
        view = VIEWS[int(np.argmax(views.mean(0)))]
        return TANResult(labels, lms, views, view, guarded, time.perf_counter() - t0)
