"""Studies propagated together give what each gives alone (memory method, MR stacks and echo clips)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cardiacmotion.io.seeds import SeedSet
from cardiacmotion.phantom.echo import make_echo_case
from cardiacmotion.phantom.mr import make_mr_case
from cardiacmotion.propagation.batched import segment_many
from cardiacmotion.propagation.methods import get_method
from cardiacmotion.propagation.segment import segment_cine

pytestmark = pytest.mark.skipif(get_method("memory") is None, reason="the memory method is not installed")


def _seeded(pc, extra_phase=None, extra_slice=False):
    seed = pc.seed.array[0]
    labels = np.zeros(pc.image.array.shape, np.uint8)
    labels[pc.seed_phase] = seed
    seeded = np.zeros(pc.image.array.shape[:2], bool)
    seeded[pc.seed_phase] = seed.reshape(seed.shape[0], -1).any(axis=1)
    if extra_slice:  # a second drawn slice in the seed phase: kept as drawn inside the shared batch
        k = int(np.where(seeded[pc.seed_phase])[0][0]) + 1
        labels[pc.seed_phase, k] = pc.labels.array[pc.seed_phase, k]
        seeded[pc.seed_phase, k] = True
    if extra_phase is not None:  # a corrected phase from the truth: this study must run alone
        labels[extra_phase] = np.where(seeded[pc.seed_phase][:, None, None], pc.labels.array[extra_phase], 0)
        seeded[extra_phase] = seeded[pc.seed_phase]
    return pc.image, SeedSet(labels, seeded)


def _dice(a, b, v):
    s = (a == v).sum() + (b == v).sum()
    return 1.0 if s == 0 else 2.0 * ((a == v) & (b == v)).sum() / s


def _check(cases, segs):
    for (image, seeds), seg in zip(cases, segs):
        alone, _ = segment_cine(image, seeds=seeds, method="memory", device="cpu", extent="off")  # propagation only
        assert seg.array.shape == image.array.shape
        for v in (1, 2, 3):
            assert _dice(seg.array, alone.array, v) >= 0.999


def test_mr_studies_of_different_sizes_batched_equal_alone():
    torch.set_num_threads(1)
    cases = [_seeded(make_mr_case(0, phases=6, slices=5, grid=64, pixel_mm=2.8), extra_slice=True),
             _seeded(make_mr_case(1, phases=7, slices=6, grid=80, pixel_mm=2.5)),
             _seeded(make_mr_case(2, phases=5, slices=4, grid=64, pixel_mm=2.8), extra_phase=2)]
    segs, info = segment_many(cases, method="memory", device="cpu", max_batch_frames=13)
    assert info["method"] == "memory" and info["frames"] == 6 * 5 + 7 * 6 + 5 * 4
    _check(cases, segs)


def test_echo_clips_batched_through_time_equal_alone():
    torch.set_num_threads(1)
    cases = [_seeded(make_echo_case(s, frames=9, rows=96, columns=96, pixel_mm=1.2)) for s in (0, 1)]
    segs, info = segment_many(cases, method="memory", device="cpu")
    assert info["frames"] == 18
    _check(cases, segs)
