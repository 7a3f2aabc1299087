"""The CSTM 4D order on a real (registration) propagator and on a recording one."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cardiacmotion.errors import InputError
from cardiacmotion.propagation.base import NUM_CLASSES, MemoryBank, Propagator
from cardiacmotion.propagation.evaluate import single_slice_seed
from cardiacmotion.propagation.order import SeedSet, apex_step, heart_crop, propagate_4d
from cardiacmotion.propagation.synthetic import make_mr


class CopyPropagator(Propagator):
    """A real, trivial method: predicts the most recent memory mask. Records the calls."""

    method = "copy"

    def __init__(self, labels, memory_frames=2, log=None, input_size=None):
        super().__init__(torch.device("cpu"), labels)
        self.bank = MemoryBank(memory_frames - 1)
        self.log = log if log is not None else []
        self.memory_frames = memory_frames
        self.input_size = input_size

    def init(self, images, masks):
        self.log.append(("init", images.shape[0], self.memory_frames))
        self.bank.add(images, masks, permanent=True)

    def add_memory(self, images, masks, permanent=False):
        self.log.append(("add", images.shape[0], permanent))
        self.bank.add(images, masks, permanent=permanent)

    def step(self, images):
        self.log.append(("step", images.shape[0], tuple(images.shape[1:])))
        last = self.bank.entries()[-1][1]
        return torch.nn.functional.one_hot(last, NUM_CLASSES).permute(0, 3, 1, 2).float()


def test_order_batches_phases_and_keeps_seeds():
    case = make_mr(0, phases=6, slices=5, size=64)
    truth = case.labels.array
    seeds = single_slice_seed(truth, 0, 2)
    # a second user seed on another slice at another phase must be kept verbatim
    seeds.labels[3, 4] = truth[3, 4]
    seeds.seeded[3, 4] = True
    log: list = []
    seg = propagate_4d(case.image, seeds, lambda labels, memory_frames=2: CopyPropagator(labels, memory_frames, log))
    assert seg.shape == truth.shape and seg.dtype == np.uint8
    assert np.array_equal(seg[0, 2], truth[0, 2])
    assert np.array_equal(seg[3, 4], truth[3, 4])
    steps = [e for e in log if e[0] == "step"]
    # 5 temporal steps (B=1) then 4 through-stack steps batched over the 6 phases
    assert sum(1 for e in steps if e[1] == 1) == 5
    assert sum(1 for e in steps if e[1] == 6) == 4
    inits = [e for e in log if e[0] == "init"]
    # apex side keeps one more memory frame
    assert sorted(e[2] for e in inits if e[1] == 6) == [2, 3]
    # copy propagation: every phase of the anchor slice equals the seed
    assert all(np.array_equal(seg[t, 2], truth[0, 2]) for t in range(6))


def test_only_seeded_labels_propagate_and_resize_roundtrip():
    case = make_mr(1, phases=4, slices=3, size=64)
    seeds = single_slice_seed(case.labels.array, 0, 1, keep=[2, 3])
    log: list = []
    seg = propagate_4d(case.image, seeds, lambda labels: CopyPropagator(labels, 2, log, input_size=(48, 48)))
    assert set(np.unique(seg)) <= {0, 2, 3}
    assert all(e[2] == (48, 48) for e in log if e[0] == "step")
    # nearest / bilinear round trip of a copied mask stays close to the seed
    inter = ((seg[2, 1] == 3) & (case.labels.array[0, 1] == 3)).sum()
    assert inter / (case.labels.array[0, 1] == 3).sum() > 0.9


def test_echo_runs_through_time_only():
    from cardiacmotion.propagation.synthetic import make_echo

    case = make_echo(0, frames=6)
    seeds = single_slice_seed(case.labels.array, 0, 0)
    log: list = []
    propagate_4d(case.image, seeds, lambda labels: CopyPropagator(labels, 2, log))
    assert all(e[1] == 1 for e in log if e[0] == "step") and len([e for e in log if e[0] == "step"]) == 5


def test_bad_seeds_raise_input_error():
    case = make_mr(0, phases=3, slices=3, size=48)
    empty = SeedSet(np.zeros(case.image.array.shape, np.uint8), np.zeros((3, 3), bool))
    with pytest.raises(InputError):
        propagate_4d(case.image, empty, lambda labels: CopyPropagator(labels))
    wrong = SeedSet(np.zeros((3, 3, 10, 10), np.uint8), np.ones((3, 3), bool))
    with pytest.raises(InputError):
        propagate_4d(case.image, wrong, lambda labels: CopyPropagator(labels))


def test_geometry_helpers():
    case = make_mr(0, phases=2, slices=4, size=64)
    assert apex_step(case.image) == 1
    flipped = case.image.with_array(case.image.array)
    flipped.ijk_to_ras = flipped.ijk_to_ras.copy()
    flipped.ijk_to_ras[:3, 2] *= -1
    assert apex_step(flipped) == -1
    crop = heart_crop(single_slice_seed(case.labels.array, 0, 1), case.image.spacing[:2])
    lab = case.labels.array[0, 1] > 0
    rows = np.where(lab.any(1))[0]
    assert crop.j0 <= rows[0] and crop.j1 > rows[-1]
