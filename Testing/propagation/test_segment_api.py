"""segment_cine: method resolution, fallback, landmark start, topology of the output."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from cardiacmotion.errors import InputError
from cardiacmotion.propagation.evaluate import single_slice_seed
from cardiacmotion.propagation.methods import available_methods
from cardiacmotion.propagation.segment import segment_cine
from cardiacmotion.propagation.synthetic import make_mr


@pytest.fixture(scope="module")
def small():
    return make_mr(5, phases=4, slices=4, size=64)


def test_auto_falls_back_to_registration_with_a_message(small, tmp_path):
    seeds = single_slice_seed(small.labels.array, 0, small.seed_slice)
    seg, info = segment_cine(small.image, seeds=seeds, method="auto", device="cpu", weights=str(tmp_path / "none.pt"))
    assert info["method"] == "registration" and "registration" in info["message"]
    assert "registration" in available_methods()
    assert seg.array.shape == small.image.array.shape and seg.same_grid(small.image)
    # one LV cavity per slice/phase, no holes
    for t in range(seg.phases):
        for k in range(seg.slices):
            cav = seg.array[t, k] == 3
            if cav.any():
                assert ndi.label(cav)[1] == 1
                assert np.array_equal(ndi.binary_fill_holes(cav), cav)


def test_memory_with_missing_weights_is_a_clean_error(small, tmp_path):
    seeds = single_slice_seed(small.labels.array, 0, small.seed_slice)
    with pytest.raises(Exception) as exc:
        segment_cine(small.image, seeds=seeds, method="memory", device="cpu", weights=str(tmp_path / "none.pt"))
    from cardiacmotion.errors import CardiacMotionError

    assert isinstance(exc.value, CardiacMotionError)


def test_landmark_start_and_bad_inputs(small):
    seg, info = segment_cine(small.image, landmarks=small.landmarks, method="registration", device="cpu")
    assert info["seed"] == "landmarks" and set(info["labels"]) == {1, 2, 3}
    # neither seed nor landmarks: the automatic start finds the LV and builds both
    _, auto = segment_cine(small.image, method="registration", device="cpu")
    assert auto["seed"] == "auto" and set(auto["landmarks"]) == set(small.landmarks)
    assert 0 <= auto["auto_start"]["confidence"] <= 1
    with pytest.raises(InputError):
        segment_cine(small.image, landmarks={"LV center": np.zeros(3)}, device="cpu")
    with pytest.raises(InputError):
        segment_cine(small.image, landmarks=small.landmarks, method="nonsense", device="cpu")
