"""The 4D inference order of CSTM (Ye et al.), independent of the propagation method.

1. The anchor slice (the seeded mid slice) is propagated through all phases, forward and
   backward in time from the seed phase (the cine is cyclic, so each direction covers half).
2. Every phase is then propagated through the stack toward the base and toward the apex, one
   slice at a time, all phases at once (batch ``B = T``). The apex side keeps one more memory
   frame (the apex is small and changes shape fast; CSTM table 8).

Every user-seeded slice/phase is permanent memory and replaces the prediction when the
propagation reaches it. Only the labels present in the seed are propagated. Echo (one slice)
runs through time only. The heart region is cropped from the seed's bounding box, the crop is
normalised to [0, 1] and, when the propagator asks for a fixed ``input_size``, resized to it.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.progress import ProgressFn, silent, sub_progress
from cardiacmotion.propagation.base import NUM_CLASSES, Propagator

from cardiacmotion.io.seeds import SeedSet


#: A factory: ``make_propagator(labels, memory_frames=n) -> Propagator`` (``memory_frames`` optional).
PropagatorFactory = Callable[..., Propagator]

#: Apex direction of a short-axis stack in RAS (left, anterior, inferior).
_APEX_RAS = np.array([-1.0, 1.0, -1.0]) / np.sqrt(3.0)


@dataclass
class Crop:
    """In-plane heart region shared by all slices and phases: rows ``j0:j1``, columns ``i0:i1``."""

    j0: int
    j1: int
    i0: int
    i1: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.j1 - self.j0, self.i1 - self.i0)


def heart_crop(seeds: SeedSet, spacing_ij: Sequence[float], margin: float = 0.8, min_margin_mm: float = 25.0) -> Crop:
    """Bounding box of every seeded label, grown by ``margin`` x its size (at least ``min_margin_mm``)."""
    mask = seeds.labels[seeds.seeded] > 0
    if not mask.any():
        raise InputError("the seed has no labelled voxel")
    any2d = mask.any(axis=0)
    rows = np.where(any2d.any(axis=1))[0]
    cols = np.where(any2d.any(axis=0))[0]
    h = rows[-1] - rows[0] + 1
    w = cols[-1] - cols[0] + 1
    si, sj = float(spacing_ij[0]), float(spacing_ij[1])
    size = max(h * sj, w * si)  # a square region in mm: the heart is roughly round
    mj = int(np.ceil(max(margin * size, min_margin_mm) / sj)) + int(np.ceil((size - h * sj) / (2 * sj)))
    mi = int(np.ceil(max(margin * size, min_margin_mm) / si)) + int(np.ceil((size - w * si) / (2 * si)))
    H, W = any2d.shape
    return Crop(max(0, rows[0] - mj), min(H, rows[-1] + 1 + mj), max(0, cols[0] - mi), min(W, cols[-1] + 1 + mi))


def normalise(array: np.ndarray) -> np.ndarray:
    """Map the 1st-99th percentile to [0, 1] (clipped), float32."""
    lo, hi = np.percentile(array, [1.0, 99.0])
    if hi <= lo:
        hi = lo + 1.0
    return np.clip((array.astype(np.float32) - lo) / (hi - lo), 0.0, 1.0)


def apex_step(image: Cine) -> int:
    """+1 when the apex lies toward increasing slice index, -1 otherwise (from the geometry)."""
    kdir = image.ijk_to_ras[:3, 2]
    n = np.linalg.norm(kdir)
    d = float(np.dot(kdir / n, _APEX_RAS)) if n > 0 else 0.0
    return 1 if d >= 0 else -1


def _make(make_propagator: PropagatorFactory, labels: list[int], memory_frames: int) -> Propagator:
    try:
        params = inspect.signature(make_propagator).parameters
    except (TypeError, ValueError):
        params = {}
    if "memory_frames" in params or any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return make_propagator(labels, memory_frames=memory_frames)
    return make_propagator(labels)


def _set_context(prop: Propagator, context: str) -> None:
    """Tell a propagator which pass it runs ('time', 'base', 'apex') when it wants to know."""
    hook = getattr(prop, "set_context", None)
    if callable(hook):
        hook(context)


def _add_memory(prop: Propagator, images: torch.Tensor, masks: torch.Tensor, permanent: torch.Tensor) -> None:
    """Add memory; elements flagged ``permanent`` (user seeds) become permanent where supported."""
    if not bool(permanent.any()):
        prop.add_memory(images, masks, permanent=False)
        return
    if bool(permanent.all()):
        prop.add_memory(images, masks, permanent=True)
        return
    params = inspect.signature(prop.add_memory).parameters
    if "valid" in params:  # per-element permanence (registration propagator supports it)
        prop.add_memory(images, masks, permanent=False)
        prop.add_memory(images, masks, permanent=True, valid=permanent)
    else:
        prop.add_memory(images, masks, permanent=False)


class _Grid:
    """Crop / resize between the image grid and the propagator's working grid."""

    def __init__(self, crop: Crop, input_size: Optional[tuple[int, int]], device: torch.device) -> None:
        self.crop = crop
        self.size = tuple(input_size) if input_size else crop.shape
        self.device = device

    def images(self, a: np.ndarray) -> torch.Tensor:
        """``[B, H, W]`` cropped normalised images -> working grid (bilinear)."""
        t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(self.device)
        if self.size != self.crop.shape:
            t = F.interpolate(t[:, None], size=self.size, mode="bilinear", align_corners=False)[:, 0]
        return t

    def masks(self, a: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64)).to(self.device)
        if self.size != self.crop.shape:
            t = F.interpolate(t[:, None].float(), size=self.size, mode="nearest")[:, 0].long()
        return t

    def labels_back(self, probs: torch.Tensor) -> np.ndarray:
        """Probabilities on the working grid -> label crop (bilinear, then argmax)."""
        if self.size != self.crop.shape:
            probs = F.interpolate(probs.float(), size=self.crop.shape, mode="bilinear", align_corners=False)
        return probs.argmax(dim=1).to(torch.uint8).cpu().numpy()


def propagate_4d(
    image: Cine,
    seeds: SeedSet,
    make_propagator: PropagatorFactory,
    progress: ProgressFn = silent,
    memory_frames: int = 2,
    apex_extra: int = 1,
    device: Optional[torch.device] = None,
    batch_phases: bool = True,
) -> np.ndarray:
    """Segment every phase and slice of ``image`` from ``seeds`` in the CSTM order.

    Args:
        image: the cine (``[T, K, J, I]``).
        seeds: seed labels on the image grid and which slice/phases carry one.
        make_propagator: ``(labels, memory_frames=n) -> Propagator`` for the labels to propagate.
        progress: ``(fraction, message)`` callback.
        memory_frames: memory size (seed + previous) for the temporal pass and the base side.
        apex_extra: extra memory frames on the apex side.
        device: where the tensors go (default: the propagator's device).
        batch_phases: run the through-stack pass for all phases in one batch (False: one phase
            at a time, frame-by-frame inference; same result, kept for benchmarks).

    Returns:
        uint8 label array ``[T, K, J, I]``.
    """
    T, K, J, I = image.array.shape
    seeded, slabels, labels = checked_seeds(image, seeds)

    crop = heart_crop(seeds, image.spacing[:2])
    sl = (slice(None), slice(None), slice(crop.j0, crop.j1), slice(crop.i0, crop.i1))
    img = normalise(image.array[sl])
    seed_crop = slabels[sl]
    out = np.zeros((T, K) + crop.shape, dtype=np.uint8)
    out[seeded] = seed_crop[seeded]

    # anchor: the seed phase with the most seeded slices, then the seeded slice nearest their middle
    t0 = int(np.argmax(seeded.sum(axis=1)))
    ks = np.where(seeded[t0])[0]
    k0 = int(ks[np.argmin(np.abs(ks - ks.mean()))])
    apex = apex_step(image) if K > 1 else 1

    n_time = T - 1
    n_stack = K - 1
    total = max(1, n_time + n_stack)
    done = 0

    # ---- 1. the anchor slice through time (forward and backward halves of the cycle) --------
    nf = (T - 1 + 1) // 2
    nb = T - 1 - nf
    for direction, n in ((1, nf), (-1, nb)):
        if n <= 0:
            continue
        prop = _make(make_propagator, labels, memory_frames)
        _set_context(prop, "time")
        grid = _Grid(crop, getattr(prop, "input_size", None), device or prop.device)
        prop.init(grid.images(img[t0, k0][None]), grid.masks(out[t0, k0][None]))
        for s in range(1, n + 1):
            t = (t0 + direction * s) % T
            x = grid.images(img[t, k0][None])
            if seeded[t, k0]:
                m = grid.masks(out[t, k0][None])
                prop.add_memory(x, m, permanent=True)
            else:
                probs = prop.restrict(prop.step(x))
                out[t, k0] = grid.labels_back(probs)[0]
                prop.add_memory(x, probs.argmax(dim=1), permanent=False)
            done += 1
            progress(done / total, f"phase {t + 1}/{T}, slice {k0 + 1}")
        del prop

    # ---- 2. every phase through the stack, all phases in one batch -------------------------
    groups = [np.arange(T)] if batch_phases else [np.array([t]) for t in range(T)]
    for side, step_k, frames in (("base", -apex, memory_frames), ("apex", apex, memory_frames + apex_extra)):
        ks_side = list(range(k0 + step_k, K if step_k > 0 else -1, step_k))
        if not ks_side:
            continue
        for ts in groups:
            prop = _make(make_propagator, labels, frames)
            _set_context(prop, side)
            grid = _Grid(crop, getattr(prop, "input_size", None), device or prop.device)
            prop.init(grid.images(img[ts, k0]), grid.masks(out[ts, k0]))
            for k in ks_side:
                x = grid.images(img[ts, k])
                probs = prop.restrict(prop.step(x))
                pred = grid.labels_back(probs)
                user = seeded[ts, k]
                pred[user] = out[ts, k][user]
                out[ts, k] = pred
                _add_memory(prop, x, grid.masks(pred), torch.from_numpy(user))
                done += 1 / len(groups)
                progress(done / total, f"slice {k + 1}/{K} ({side}), {len(ts)} of {T} phases")
            del prop

    full = np.zeros((T, K, J, I), dtype=np.uint8)
    full[sl] = out
    keep = np.isin(full, labels)
    full[~keep] = 0
    return full


def checked_seeds(image: Cine, seeds) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """``(seeded [T,K] bool, seed labels [T,K,J,I], sorted label values)`` after checking the seed fits the image."""
    T, K, J, I = image.array.shape
    seeded = np.asarray(seeds.seeded, dtype=bool)
    slabels = np.asarray(seeds.labels)
    if slabels.shape != (T, K, J, I) or seeded.shape != (T, K):
        raise InputError(f"the seed grid {slabels.shape} does not match the image {image.array.shape}")
    if not seeded.any():
        raise InputError("the seed marks no slice or phase")
    labels = sorted(int(v) for v in np.unique(slabels[seeded]) if v != 0)
    if not labels:
        raise InputError("the seed has no labelled voxel")
    if max(labels) >= NUM_CLASSES:
        raise InputError(f"seed labels must be in 1..{NUM_CLASSES - 1}, got {labels}")
    return seeded, slabels, labels
