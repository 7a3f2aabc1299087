"""The engine API the CLI and the Slicer module call: a cine plus a seed (or landmarks) in,
a 4D segmentation out."""
from __future__ import annotations

import time
from typing import Mapping, Optional

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.errors import CardiacMotionError, InputError, WeightsError
from cardiacmotion.progress import ProgressFn, silent, sub_progress
from cardiacmotion.propagation.methods import ECHO_METHODS, available_methods, echo_method, get_method
from cardiacmotion.propagation.order import SeedSet, propagate_4d

METHODS = ("auto", "memory", "registration", "fusion") + tuple(ECHO_METHODS)


def segment_methods() -> list[str]:
    """Methods ``segment_cine`` can run here: the registered ones, plus fusion when memory is there."""
    names = available_methods()
    return names + (["fusion"] if "memory" in names else []) + sorted(ECHO_METHODS)


def _resolve(method: str, device, modality: str, weights: Optional[str], info: dict):
    """Return ``make_propagator`` for ``method``, falling back from memory to registration on auto."""
    if method not in METHODS and get_method(method) is None:
        raise InputError(f"unknown method {method!r} (expected one of {', '.join(METHODS)})")
    # auto prefers memory: the bundled cstm weights beat registration on phantoms and on Sunnybrook
    # EF (models.json); registration stays the fallback when they cannot load
    if method in ("memory", "auto"):
        factory = get_method("memory")
        if factory is None:
            if method == "memory":
                raise InputError("the learned memory method is not available in this installation (use --method registration)")
            info["message"] = "learned memory propagation is not available; used registration"
        else:
            try:
                make = factory(device, modality=modality, weights=weights)
                info["method"] = "memory"
                return make
            except Exception as exc:  # noqa: BLE001 - auto must always fall back to registration
                if method == "memory":
                    if isinstance(exc, CardiacMotionError):
                        raise
                    raise WeightsError(f"the memory method could not start: {type(exc).__name__}: {exc}") from exc
                info["message"] = f"learned memory propagation unavailable ({exc}); used registration"
    make = get_method("registration")(device, modality=modality)
    info["method"] = "registration"
    return make


def _fused(image: Cine, seeds: SeedSet, dev, weights: Optional[str], info: dict, progress: ProgressFn, batch_phases: bool) -> np.ndarray:
    """Memory and registration propagation from the same seed, fused by shape averaging."""
    from cardiacmotion.propagation.fusion import fuse_segmentations

    make_memory = _resolve("memory", dev, image.modality, weights, {})
    memory = propagate_4d(image, seeds, make_memory, progress=sub_progress(progress, 0.02, 0.35, "memory: "), batch_phases=batch_phases)
    make_registration = _resolve("registration", dev, image.modality, None, {})
    registration = propagate_4d(image, seeds, make_registration, progress=sub_progress(progress, 0.35, 0.95, "registration: "),
                                batch_phases=batch_phases)
    progress(0.95, "fusing the two segmentations")
    fused = fuse_segmentations(memory, registration, image.modality)
    # user-seeded frames stay exactly as drawn
    seeded = np.asarray(seeds.seeded, bool)
    fused[seeded] = np.asarray(seeds.labels)[seeded]
    info["method"] = "fusion"
    info["fused_methods"] = ["memory", "registration"]
    return fused


def segment_cine(
    image: Cine,
    seeds: Optional[SeedSet] = None,
    landmarks: Optional[Mapping[str, np.ndarray]] = None,
    method: str = "auto",
    device: str = "auto",
    progress: ProgressFn = silent,
    weights: Optional[str] = None,
    seed_phase: Optional[int] = None,
    batch_phases: bool = True,
) -> tuple[Cine, dict]:
    """Segment every phase and slice of ``image``.

    Args:
        image: cine MR stack or echo video (``[T, K, J, I]``).
        seeds: seed labels on the image grid; when ``None``, ``landmarks`` build the ED seed.
        landmarks: ``{name: RAS}`` (MR: RV insertions + LV centre; echo: apex + annulus).
        method: 'auto' (memory when the weights load, else registration with a ``message``),
            'memory', 'registration' or 'fusion' (both, fused by shape averaging: the most
            accurate on real studies, about three times the time of memory on a CPU).
        device: 'auto', 'cpu' or 'cuda'.
        progress: ``(fraction, message)`` callback.
        weights: checkpoint for the memory method (default: the bundled one).
        seed_phase: phase of the landmark seed (default 0, the usual ED of a triggered cine).
        batch_phases: through-stack pass for all phases in one batch (False: frame by frame, for benchmarks).

    Returns:
        ``(segmentation Cine uint8 on the image grid, info)``; info has ``method``, ``device``,
        ``seconds``, ``frames_per_second``, ``labels``, ``seed`` ('mask' | 'landmarks') and a
        ``message`` when the method fell back.
    """
    from cardiacmotion.device import resolve_device

    dev = resolve_device(device)
    if echo_method(method) is not None:  # whole-video echo methods (TAN) take the video, landmarks or seed
        seg, info = echo_method(method)(image, seeds=seeds, landmarks=landmarks, weights=weights, device=str(dev),
                                        seed_phase=seed_phase, progress=progress)
        info["device"] = str(dev)
        info["labels"] = sorted(int(v) for v in np.unique(seg.array) if v)
        info["available_methods"] = segment_methods()
        return seg, info
    info: dict = {"device": str(dev)}
    t_start = time.perf_counter()
    if seeds is None:
        if landmarks is None:
            raise InputError("give a seed (--seed) or three landmarks (--landmarks)")
        from cardiacmotion.propagation.landmarks_init import seed_from_landmarks

        progress(0.0, "building the seed from the landmarks")
        seeds = seed_from_landmarks(image, landmarks, seed_phase)
        info["seed"] = "landmarks"
    else:
        info["seed"] = "mask"
    if method == "fusion":
        seg = _fused(image, seeds, dev, weights, info, progress, batch_phases)
    else:
        make = _resolve(method, dev, image.modality, weights, info)
        seg = propagate_4d(image, seeds, make, progress=sub_progress(progress, 0.02, 1.0), batch_phases=batch_phases)
    elapsed = time.perf_counter() - t_start
    info["seconds"] = round(elapsed, 3)
    info["frames_per_second"] = round(image.phases * image.slices / max(elapsed, 1e-9), 3)
    info["labels"] = sorted(int(v) for v in np.unique(seg) if v)
    info["available_methods"] = segment_methods()
    progress(1.0, "done")
    out = image.with_array(seg.astype(np.uint8))
    out.meta["segmentation_method"] = info["method"]
    return out, info
