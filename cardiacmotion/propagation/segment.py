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
    # without recorded evidence auto prefers memory: the bundled cstm weights beat registration on phantoms and Sunnybrook
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
                if getattr(make, "note", None):
                    info["message"] = make.note
                return make
            except Exception as exc:  # noqa: BLE001 - auto must always fall back to registration
                if method == "memory" or weights:  # the user's own checkpoint: an error, never a fallback
                    if isinstance(exc, CardiacMotionError):
                        raise
                    raise WeightsError(f"the memory method could not start: {type(exc).__name__}: {exc}") from exc
                info["message"] = f"learned memory propagation unavailable ({exc}); used registration"
    make = get_method("registration")(device, modality=modality)
    info["method"] = "registration"
    return make


def _auto_choice(modality: str, info: dict) -> str:
    """What ``auto`` runs: the method ``models.json`` records as best on held-out evidence
    (independent generator + held-out real study; :mod:`cardiacmotion.evaluation.evidence`), else
    'auto' (memory when its weights load, else registration)."""
    try:
        from cardiacmotion.evaluation.evidence import auto_method

        choice = auto_method("propagation", modality)
    except ImportError:
        choice = None
    if choice in ("memory", "registration", "fusion"):
        info["auto"] = f"{choice} (best on held-out evidence, models.json)"
        if choice == "fusion" and get_method("memory") is None:
            info["message"] = "fusion needs the learned memory method, which is not available; used registration"
            return "registration"
        return choice
    return "auto"


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
    extent: str = "plane",
    basal_limit=None,
    apical_limit=None,
) -> tuple[Cine, dict]:
    """Segment every phase and slice of ``image``.

    Args:
        image: cine MR stack or echo video (``[T, K, J, I]``).
        seeds: seed labels on the image grid; when ``None``, ``landmarks`` build the ED seed, and
            without landmarks either the automatic start builds both (short-axis MR).
        landmarks: ``{name: RAS}`` (MR: RV insertions + LV centre; echo: apex + annulus).
        method: 'auto' (the method ``models.json`` records as best on held-out evidence, see
            :mod:`cardiacmotion.evaluation.evidence`; without a record, or with ``weights``, memory
            when the weights load, else registration with a ``message``),
            'memory', 'registration' or 'fusion' (both, fused by shape averaging: the most
            accurate on real studies, about three times the time of memory on a CPU).
        device: 'auto', 'cpu' or 'cuda'.
        progress: ``(fraction, message)`` callback.
        weights: checkpoint for the memory method (default: the bundled one).
        seed_phase: phase of the landmark / automatic seed (default: the ED estimate of
            :func:`~cardiacmotion.propagation.autostart.estimate_ed_es`).
        batch_phases: through-stack pass for all phases in one batch (False: frame by frame, for benchmarks).
        extent: MR per-phase LV extent step after propagation (:mod:`cardiacmotion.propagation.extent`):
            'plane' (default), 'ring' or 'off'.
        basal_limit / apical_limit: user slice limits of the LV (an int for every phase or
            ``{phase: slice}``); applied whatever ``extent`` is.

    Returns:
        ``(segmentation Cine uint8 on the image grid, info)``; info has ``method``, ``device``,
        ``seconds``, ``frames_per_second``, ``labels``, ``seed`` ('mask' | 'landmarks'), ``extent``
        (MR: the slices kept per phase, see :func:`~cardiacmotion.propagation.extent.lv_extent`) and a
        ``message`` when the method fell back.
    """
    from cardiacmotion.device import resolve_device

    from cardiacmotion.threads import apply_thread_policy

    dev = resolve_device(device)
    if echo_method(method) is not None:  # whole-video echo methods (TAN) take the video, landmarks or seed
        seg, info = echo_method(method)(image, seeds=seeds, landmarks=landmarks, weights=weights, device=str(dev),
                                        seed_phase=seed_phase, progress=progress)
        info["device"] = str(dev)
        info["labels"] = sorted(int(v) for v in np.unique(seg.array) if v)
        info["available_methods"] = segment_methods()
        return seg, info
    info: dict = {"device": str(dev)}
    if dev.type == "cpu":
        info["threads"] = apply_thread_policy()  # follow the machine's load (Slicer shares the CPU)
    t_start = time.perf_counter()
    if seeds is None:
        if landmarks is None:
            # automatic start: find the LV, its ED phase, seed and landmarks (short-axis MR)
            from cardiacmotion.propagation.autostart import auto_seed

            progress(0.0, "finding the LV (automatic start)")
            seeds, auto_landmarks, report = auto_seed(image, seed_phase)
            info["seed"] = "auto"
            info["auto_start"] = report
            info["landmarks"] = {k: [float(x) for x in v] for k, v in auto_landmarks.items()}
            info["seed_phase"] = report["seed_phase"]
        else:
            from cardiacmotion.propagation.landmarks_init import seed_from_landmarks

            if seed_phase is None and image.modality == "MR" and image.slices > 1:
                from cardiacmotion.propagation.autostart import estimate_ed_es

                seed_phase = int(estimate_ed_es(image)["ed_phase"])
            progress(0.0, "building the seed from the landmarks")
            seeds = seed_from_landmarks(image, landmarks, seed_phase)
            info["seed"] = "landmarks"
            info["seed_phase"] = 0 if seed_phase is None else int(seed_phase)
    else:
        info["seed"] = "mask"
    auto_fusion = False
    # the recorded evidence is about the bundled weights: with a user's checkpoint auto stays memory-first
    if method == "auto" and weights is None:
        choice = _auto_choice(image.modality, info)
        auto_fusion = choice == "fusion"
        method = "auto" if choice == "memory" else choice  # 'auto' is memory with its registration fallback
    if method == "fusion":
        try:
            seg = _fused(image, seeds, dev, weights, info, progress, batch_phases)
        except CardiacMotionError as exc:
            if not auto_fusion:
                raise
            info["message"] = f"fusion unavailable ({exc}); used registration"
            make = _resolve("registration", dev, image.modality, None, info)
            seg = propagate_4d(image, seeds, make, progress=sub_progress(progress, 0.02, 1.0), batch_phases=batch_phases)
    else:
        make = _resolve(method, dev, image.modality, weights, info)
        seg = propagate_4d(image, seeds, make, progress=sub_progress(progress, 0.02, 1.0), batch_phases=batch_phases)
    from cardiacmotion.propagation.result_check import check_propagated

    check_propagated(seg, seeds.seeded, info.get("method", method))  # only the seed back: a failure (exit 3)
    if image.modality == "MR" and (extent != "off" or basal_limit is not None or apical_limit is not None):
        from cardiacmotion.propagation.extent import lv_extent

        progress(0.98, "per-phase LV extent (base and apex)")
        seg, ext = lv_extent(image, seg, seeds.seeded, mode=extent, basal=basal_limit, apical=apical_limit)
        info["extent"] = {k: v for k, v in ext.items() if k != "ring_score"}
    elapsed = time.perf_counter() - t_start
    info["seconds"] = round(elapsed, 3)
    info["frames_per_second"] = round(image.phases * image.slices / max(elapsed, 1e-9), 3)
    info["labels"] = sorted(int(v) for v in np.unique(seg) if v)
    info["available_methods"] = segment_methods()
    progress(1.0, "done")
    out = image.with_array(seg.astype(np.uint8))
    out.meta["segmentation_method"] = info["method"]
    return out, info
