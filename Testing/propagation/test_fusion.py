"""Fusion of the memory and registration segmentations (shape averaging)."""
from __future__ import annotations

import numpy as np
import pytest

from cardiacmotion.errors import CardiacMotionError, InputError
from cardiacmotion.propagation.evaluate import dice, single_slice_seed
from cardiacmotion.propagation.fusion import fuse_labels, fuse_segmentations
from cardiacmotion.propagation.segment import segment_cine
from cardiacmotion.propagation.synthetic import make_mr


def _ring(shape, cy, cx, r_in, r_out, rv_cx=None):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    rho = np.hypot(yy - cy, xx - cx)
    lab = np.zeros(shape, np.uint8)
    if rv_cx is not None:
        lab[np.hypot(yy - cy, xx - rv_cx) <= 8] = 1
    lab[rho <= r_out] = 2
    lab[rho <= r_in] = 3
    return lab


def test_fusion_of_two_rings_is_the_ring_halfway():
    a = _ring((80, 80), 40, 40, 10, 16)
    b = _ring((80, 80), 40, 40, 14, 22)
    f = fuse_labels(a, b)
    area = lambda lab, v: int((lab == v).sum())  # noqa: E731
    mid = _ring((80, 80), 40, 40, 12, 19)
    assert abs(area(f, 3) - area(mid, 3)) <= 0.05 * area(mid, 3)
    assert dice(f == 2, mid == 2) > 0.95
    # weight 1 keeps the first, identical inputs stay as they are
    assert np.array_equal(fuse_labels(a, b, weight=1.0), a)
    assert np.array_equal(fuse_labels(b, b), b)


def test_a_structure_missing_in_one_segmentation_is_dropped():
    a = _ring((64, 64), 32, 30, 8, 13, rv_cx=50)
    b = a.copy()
    b[b == 1] = 0
    f = fuse_labels(a, b)
    assert not (f == 1).any() and (f == 3).any() and (f == 2).any()
    assert not fuse_labels(a, np.zeros_like(a)).any()


def test_echo_values_and_bad_inputs():
    a = _ring((64, 64), 32, 32, 8, 12)
    echo = np.where(a == 3, 1, a).astype(np.uint8)  # echo: LV cavity 1, myocardium 2
    f = fuse_labels(echo, echo, modality="US")
    assert np.array_equal(f, echo)
    with pytest.raises(InputError):
        fuse_labels(a, a[:10])
    with pytest.raises(InputError):
        fuse_labels(a, a, weight=2.0)
    with pytest.raises(InputError):
        fuse_segmentations(np.zeros((2, 3, 8, 8), np.uint8), np.zeros((2, 3, 8, 9), np.uint8))


@pytest.fixture(scope="module")
def small():
    return make_mr(5, phases=4, slices=4, size=64)


def test_segment_with_fusion_keeps_the_seed_and_is_between_its_parts(small):
    seeds = single_slice_seed(small.labels.array, 0, small.seed_slice)
    parts = {m: segment_cine(small.image, seeds=seeds, method=m, device="cpu")[0].array for m in ("memory", "registration")}
    seg, info = segment_cine(small.image, seeds=seeds, method="fusion", device="cpu")
    assert info["method"] == "fusion" and info["fused_methods"] == ["memory", "registration"]
    assert "fusion" in info["available_methods"]
    s = seg.array
    assert np.array_equal(s[0, small.seed_slice], small.labels.array[0, small.seed_slice])
    truth = small.labels.array
    for v in (1, 2, 3):
        d = dice(s == v, truth == v)
        worst = min(dice(p == v, truth == v) for p in parts.values())
        assert d >= worst - 0.02, (v, d, worst)


def test_fusion_without_memory_weights_is_a_clean_error(small, tmp_path):
    seeds = single_slice_seed(small.labels.array, 0, small.seed_slice)
    with pytest.raises(CardiacMotionError):
        segment_cine(small.image, seeds=seeds, method="fusion", device="cpu", weights=str(tmp_path / "none.pt"))
