"""Throughput of batched studies: frames per second against the number of studies per batch
(``cardiacmotion benchmark --studies 1 8 32``)."""
from __future__ import annotations

import time
from typing import Optional, Sequence

import numpy as np

from cardiacmotion.errors import InputError
from cardiacmotion.progress import ProgressFn, silent


def phantom_cases(modality: str, distinct: int) -> list:
    """``distinct`` phantom studies ``(image, seeds)`` with their one-slice (MR) / one-frame (echo) seed."""
    from cardiacmotion.io.seeds import SeedSet
    from cardiacmotion.phantom.echo import make_echo_case
    from cardiacmotion.phantom.mr import make_mr_case

    cases = []
    for s in range(distinct):
        pc = make_mr_case(s) if modality == "mr" else make_echo_case(s)
        seed = pc.seed.array[0]
        labels = np.zeros(pc.image.array.shape, np.uint8)
        labels[pc.seed_phase] = seed
        seeded = np.zeros(pc.image.array.shape[:2], bool)
        seeded[pc.seed_phase] = seed.reshape(seed.shape[0], -1).any(axis=1)
        cases.append((pc.image, SeedSet(labels, seeded)))
    return cases


def studies_benchmark(
    counts: Sequence[int],
    method: str = "memory",
    device: str = "auto",
    weights: Optional[str] = None,
    distinct: int = 3,
    modalities: Sequence[str] = ("mr", "echo"),
    repeats: int = 1,
    progress: ProgressFn = silent,
) -> list[dict]:
    """Frames/s of :func:`~cardiacmotion.propagation.batched.segment_many` for each study count.

    The batches cycle through ``distinct`` phantom studies per modality (the network's work does
    not depend on which study it is). Each count runs ``repeats`` times; the fastest is kept. On
    a GPU a first small batch warms up CUDA outside the timings. Rows carry ``speed_ratio_vs_1``
    (frames/s over the first count's).
    """
    import torch

    from cardiacmotion.device import resolve_device
    from cardiacmotion.propagation.batched import segment_many

    if not counts or min(counts) < 1:
        raise InputError("--studies takes study counts of at least 1 (e.g. --studies 1 8 32)")
    dev = resolve_device(device)
    rows: list[dict] = []
    for modality in modalities:
        progress(0.0, f"building {distinct} {modality} phantom studies")
        pool = phantom_cases(modality, max(1, min(distinct, max(counts))))
        if dev.type == "cuda":
            segment_many(pool[:1], method=method, device=str(dev), weights=weights)
        first = None
        for n in counts:
            cases = [pool[i % len(pool)] for i in range(n)]
            best = None
            for _ in range(max(1, repeats)):
                if dev.type == "cuda":
                    torch.cuda.synchronize(dev)
                t0 = time.perf_counter()
                _, info = segment_many(cases, method=method, device=str(dev), weights=weights)
                seconds = time.perf_counter() - t0
                best = seconds if best is None else min(best, seconds)
            frames = sum(image.phases * image.slices for image, _ in cases)
            row = {"modality": modality, "method": info["method"], "device": str(dev), "studies": n,
                   "frames": frames, "seconds": round(best, 3), "frames_per_second": round(frames / max(best, 1e-9), 1)}
            if dev.type == "cuda":
                row["gpu"] = torch.cuda.get_device_name(dev)
            first = first or row["frames_per_second"]
            row["speed_ratio_vs_first"] = round(row["frames_per_second"] / max(first, 1e-9), 3)
            rows.append(row)
            progress(len(rows) / (len(counts) * len(modalities)), f"{modality}: {n} studies, {row['frames_per_second']} frames/s")
    return rows
