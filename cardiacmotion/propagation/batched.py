"""Several studies propagated together: the network is fed many frames per step.

The CSTM order (:mod:`cardiacmotion.propagation.order`) already batches one study's phases in
the through-stack pass. Here the studies of a group share one propagator session:

- the temporal pass runs every study's forward and backward halves as one batch
  (``B = 2 x studies``; echo clips run only this pass, so clips are batched through time);
- each through-stack side runs every phase of every study as one batch (``B = sum of phases``).

Studies are grouped by the propagator's working grid (the memory method resizes every heart
crop to its fixed ``input_size``, so all studies share one; a method without one batches only
studies whose crops have the same shape) and by their seeded labels. A study with fewer steps
than the longest of its group repeats its last frame; those padding steps are computed and
dropped, and since every element of a batch is independent (per-frame normalisation, eval-mode
batch norm, per-element memory matching), each study gets the result it gets alone.
Studies seeded on more than one phase, or with a single phase, run alone through
:func:`~cardiacmotion.propagation.order.propagate_4d` (their user-seeded frames change the
memory per element, which one shared session cannot do).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.io.seeds import SeedSet
from cardiacmotion.progress import ProgressFn, silent
from cardiacmotion.propagation.base import NUM_CLASSES
from cardiacmotion.propagation.order import (PropagatorFactory, _add_memory, _Grid, _make, _set_context, apex_step,
                                             checked_seeds,
                                             heart_crop, normalise, propagate_4d)


@dataclass
class _Plan:
    """One study's crop, normalised images, running labels and anchor."""

    index: int
    image: Cine
    seeds: SeedSet
    labels: list[int]
    crop: object
    sl: tuple
    img: np.ndarray
    out: np.ndarray
    seeded: np.ndarray
    t0: int
    k0: int
    apex: int
    grid: Optional[_Grid] = None
    work: Optional[torch.Tensor] = None  #: every frame on the working grid ``[T, K, H, W]``, on the device

    def load(self, size: Optional[tuple[int, int]], device: torch.device) -> None:
        """Move every frame to the working grid on the device once (one transfer, one resize)."""
        self.grid = _Grid(self.crop, size, device)
        T, K = self.img.shape[:2]
        flat = self.grid.images(self.img.reshape((T * K,) + self.img.shape[2:]))
        self.work = flat.reshape((T, K) + tuple(flat.shape[-2:]))

    def unload(self) -> None:
        self.work = None

    @property
    def T(self) -> int:
        return self.img.shape[0]

    @property
    def K(self) -> int:
        return self.img.shape[1]


def _plan(index: int, image: Cine, seeds: SeedSet) -> _Plan:
    T, K, J, I = image.array.shape
    seeded, slabels, labels = checked_seeds(image, seeds)
    crop = heart_crop(seeds, image.spacing[:2])
    sl = (slice(None), slice(None), slice(crop.j0, crop.j1), slice(crop.i0, crop.i1))
    out = np.zeros((T, K) + crop.shape, dtype=np.uint8)
    out[seeded] = slabels[sl][seeded]
    t0 = int(np.argmax(seeded.sum(axis=1)))
    ks = np.where(seeded[t0])[0]
    k0 = int(ks[np.argmin(np.abs(ks - ks.mean()))])
    return _Plan(index, image, seeds, labels, crop, sl, normalise(image.array[sl]), out, seeded, t0, k0,
                 apex_step(image) if K > 1 else 1)


def _batchable(plan: _Plan) -> bool:
    """One seeded phase and more than one phase: the shared session gives exactly the lone result."""
    return plan.T > 1 and int((plan.seeded.sum(axis=1) > 0).sum()) == 1


def _time_pass(plans: list[_Plan], make_propagator: PropagatorFactory, memory_frames: int) -> None:
    # every study's forward and backward half: (plan, direction, steps)
    sessions = []
    for p in plans:
        nf = (p.T - 1 + 1) // 2
        for direction, n in ((1, nf), (-1, p.T - 1 - nf)):
            if n > 0:
                sessions.append((p, direction, n))
    if not sessions:
        return
    pending: list = []
    prop = _make(make_propagator, plans[0].labels, memory_frames)
    _set_context(prop, "time")
    prop.init(torch.cat([p.work[p.t0, p.k0][None] for p, _, _ in sessions]),
              torch.cat([p.grid.masks(p.out[p.t0, p.k0][None]) for p, _, _ in sessions]))
    for s in range(1, max(n for _, _, n in sessions) + 1):
        ts = [(p.t0 + d * min(s, n)) % p.T for p, d, n in sessions]
        x = torch.cat([p.work[t, p.k0][None] for (p, _, _), t in zip(sessions, ts)])
        probs = prop.restrict(prop.step(x))
        for j, ((p, _, n), t) in enumerate(zip(sessions, ts)):
            if s <= n:
                pending.append((p, t, p.k0, _labels_on_device(p.grid, probs[j:j + 1])[0]))
        prop.add_memory(x, probs.argmax(dim=1), permanent=False)
    del prop
    _flush(pending)


def _stack_side(plans: list[_Plan], make_propagator: PropagatorFactory, side: str, frames: int) -> None:
    steps = []
    for p in plans:
        step_k = -p.apex if side == "base" else p.apex
        ks = list(range(p.k0 + step_k, p.K if step_k > 0 else -1, step_k))
        if ks:
            steps.append((p, ks))
    if not steps:
        return
    pending: list = []
    prop = _make(make_propagator, plans[0].labels, frames)
    _set_context(prop, side)
    prop.init(torch.cat([p.work[:, p.k0] for p, _ in steps]),
              torch.cat([p.grid.masks(p.out[:, p.k0]) for p, _ in steps]))
    sizes = [p.T for p, _ in steps]
    for s in range(max(len(ks) for _, ks in steps)):
        kk = [ks[min(s, len(ks) - 1)] for _, ks in steps]
        x = torch.cat([p.work[:, k] for (p, _), k in zip(steps, kk)])
        probs = prop.restrict(prop.step(x))
        masks, user_all = [], []
        for (p, ks), k, part in zip(steps, kk, torch.split(probs, sizes)):
            pred = _labels_on_device(p.grid, part)
            real = s < len(ks)
            user = p.seeded[:, k] if real else np.zeros(p.T, bool)
            if real:
                if user.any():  # user-seeded frames stay as drawn (p.out holds the seed there)
                    keep = torch.from_numpy(user).to(pred.device)
                    pred = torch.where(keep[:, None, None], torch.from_numpy(p.out[:, k]).to(pred.device), pred)
                pending.append((p, None, k, pred))
            masks.append(_masks_on_device(p.grid, pred))
            user_all.append(user)
        _add_memory(prop, x, torch.cat(masks), torch.from_numpy(np.concatenate(user_all)))
    del prop
    _flush(pending)


def _labels_on_device(grid: _Grid, probs: torch.Tensor) -> torch.Tensor:
    """:meth:`_Grid.labels_back` without the copy to the host (no device sync inside the loop)."""
    if grid.size != grid.crop.shape:
        probs = F.interpolate(probs.float(), size=grid.crop.shape, mode="bilinear", align_corners=False)
    return probs.argmax(dim=1).to(torch.uint8)


def _masks_on_device(grid: _Grid, labels: torch.Tensor) -> torch.Tensor:
    """:meth:`_Grid.masks` of a label crop already on the device."""
    t = labels.long()
    if grid.size != grid.crop.shape:
        t = F.interpolate(t[:, None].float(), size=grid.size, mode="nearest")[:, 0].long()
    return t


def _flush(pending: list) -> None:
    """Copy the predictions of a pass to the host labels (one sync per pass, not per step)."""
    for p, t, k, pred in pending:
        if t is None:
            p.out[:, k] = pred.cpu().numpy()
        else:
            p.out[t, k] = pred.cpu().numpy()


def _full(p: _Plan) -> np.ndarray:
    T, K, J, I = p.image.array.shape
    full = np.zeros((T, K, J, I), dtype=np.uint8)
    full[p.sl] = p.out
    full[~np.isin(full, p.labels)] = 0
    return full


def propagate_many(
    cases: Sequence[tuple[Cine, SeedSet]],
    make_propagator: PropagatorFactory,
    progress: ProgressFn = silent,
    memory_frames: int = 2,
    apex_extra: int = 1,
    device: Optional[torch.device] = None,
    max_batch_frames: int = 4096,
) -> list[np.ndarray]:
    """Segment several cines from their seeds in the CSTM order, studies batched together.

    Args:
        cases: ``(image, seeds)`` per study (MR stacks or echo clips, any sizes).
        make_propagator: ``(labels, memory_frames=n) -> Propagator``, as for ``propagate_4d``.
        progress: ``(fraction, message)`` callback, over the groups.
        memory_frames, apex_extra: as for :func:`~cardiacmotion.propagation.order.propagate_4d`.
        device: where the tensors go (default: the propagator's device).
        max_batch_frames: at most this many frames per network step (a group is split beyond it).

    Returns:
        uint8 label arrays ``[T, K, J, I]``, in the order of ``cases``; each equals what
        ``propagate_4d`` gives for that study alone (to floating-point reordering).
    """
    plans = [_plan(i, image, seeds) for i, (image, seeds) in enumerate(cases)]
    results: list[Optional[np.ndarray]] = [None] * len(plans)
    probe = _make(make_propagator, plans[0].labels if plans else [1], memory_frames)
    fixed = getattr(probe, "input_size", None)
    dev = device or probe.device
    del probe
    groups: dict[tuple, list[_Plan]] = {}
    alone = []
    for p in plans:
        if not _batchable(p):
            alone.append(p)
            continue
        size = tuple(fixed) if fixed else p.crop.shape
        groups.setdefault((tuple(p.labels), size), []).append(p)
    batches = []
    for members in groups.values():
        chunk: list[_Plan] = []
        for p in members:
            if chunk and sum(q.T for q in chunk) + p.T > max_batch_frames:
                batches.append(chunk)
                chunk = []
            chunk.append(p)
        batches.append(chunk)
    total = max(1, len(batches) + len(alone))
    for n, chunk in enumerate(batches):
        for p in chunk:
            p.load(fixed, dev)
        _time_pass(chunk, make_propagator, memory_frames)
        for side, frames in (("base", memory_frames), ("apex", memory_frames + apex_extra)):
            _stack_side(chunk, make_propagator, side, frames)
        for p in chunk:
            p.unload()
            results[p.index] = _full(p)
        progress((n + 1) / total, f"{len(chunk)} studies batched ({sum(p.T for p in chunk)} phases)")
    for n, p in enumerate(alone):
        results[p.index] = propagate_4d(p.image, p.seeds, make_propagator, memory_frames=memory_frames,
                                        apex_extra=apex_extra, device=device)
        progress((len(batches) + n + 1) / total, f"study {p.index + 1} alone (several seeded phases)")
    return [r for r in results if r is not None]


def segment_many(
    cases: Sequence[tuple[Cine, SeedSet]],
    method: str = "memory",
    device: str = "auto",
    weights: Optional[str] = None,
    progress: ProgressFn = silent,
    max_batch_frames: int = 4096,
) -> tuple[list[Cine], dict]:
    """Segment several studies of one modality with their studies batched (see :func:`propagate_many`).

    Returns:
        ``(segmentation Cines in the order of cases, info)``; info has ``method``, ``device``,
        ``seconds``, ``frames`` and ``frames_per_second``.
    """
    from cardiacmotion.device import resolve_device
    from cardiacmotion.propagation.segment import _resolve

    if not cases:
        return [], {"method": method, "frames": 0}
    modalities = {image.modality for image, _ in cases}
    if len(modalities) > 1:
        raise InputError(f"batch one modality at a time (got {sorted(modalities)})")
    dev = resolve_device(device)
    info: dict = {"device": str(dev)}
    make = _resolve(method, dev, cases[0][0].modality, weights, info)
    t0 = time.perf_counter()
    arrays = propagate_many(cases, make, progress=progress, device=dev, max_batch_frames=max_batch_frames)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    elapsed = time.perf_counter() - t0
    frames = sum(image.phases * image.slices for image, _ in cases)
    info.update(seconds=round(elapsed, 3), frames=frames, frames_per_second=round(frames / max(elapsed, 1e-9), 2))
    segs = []
    for (image, _), arr in zip(cases, arrays):
        seg = image.with_array(arr)
        seg.meta["segmentation_method"] = info["method"]
        segs.append(seg)
    return segs, info
