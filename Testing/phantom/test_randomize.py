"""Domain randomisation of training phantoms: deterministic per seed, within its ranges, labels kept."""
from __future__ import annotations

import numpy as np
import pytest

from cardiacmotion.phantom import make_mr_case
from cardiacmotion.phantom.randomize import RandomizeConfig, phantom_options, randomize_case, randomize_mr


@pytest.fixture(scope="module")
def case():
    return make_mr_case(1000, grid=96, phases=6, slices=6)


def test_same_seed_same_result_other_seed_other_result(case):
    a = randomize_case(case, 3)
    b = randomize_case(case, 3)
    c = randomize_case(case, 4)
    assert np.array_equal(a.image.array, b.image.array) and np.array_equal(a.labels.array, b.labels.array)
    assert a.truth["randomized"] == b.truth["randomized"]
    assert not np.allclose(a.image.array, c.image.array)
    # the input case is never modified
    assert not np.shares_memory(a.image.array, case.image.array)


def test_output_is_a_valid_cine_and_labels_only_shift(case):
    lab0 = case.labels.array
    shifted = 0
    for seed in range(6):
        r = randomize_case(case, seed)
        img, lab = r.image.array, r.labels.array
        assert img.dtype == np.float32 and img.shape == case.image.array.shape
        assert np.isfinite(img).all() and img.min() >= 0.0
        assert set(np.unique(lab)) <= {0, 1, 2, 3}
        # the seed (mid) slice never moves, so the phantom's seed stays valid
        k = lab.shape[1] // 2
        assert np.array_equal(lab[:, k], lab0[:, k])
        # labels move only rigidly (breath-hold): the label count per class stays close
        for v in (1, 2, 3):
            assert abs(int((lab == v).sum()) - int((lab0 == v).sum())) <= 0.1 * int((lab0 == v).sum()) + 50
        shifted += int("breath_hold_px" in r.truth["randomized"])
    assert shifted >= 1  # breath-hold shifts are drawn at p = 0.5 over 6 seeds


def test_steps_follow_their_probabilities(case):
    none = RandomizeConfig(contrast=0, nonlinear=0, bias=0, thickness_blur=0, breath_hold=0, flow=0, trabeculation=0,
                           fat=0, resolution_mm=(0.5, 0.5), noise_sigma=(0.0, 0.0))
    img, lab, applied = randomize_mr(case.image.array, case.labels.array, float(case.image.spacing[0]), 1, none)
    assert set(applied) == {"resolution_mm", "noise"}
    np.testing.assert_allclose(img, case.image.array, rtol=1e-4, atol=1e-3 * float(case.image.array.max()))
    everything = RandomizeConfig(contrast=1, nonlinear=1, bias=1, thickness_blur=1, breath_hold=1, flow=1,
                                 trabeculation=1, fat=1)
    _, _, applied = randomize_mr(case.image.array, case.labels.array, float(case.image.spacing[0]), 1, everything)
    assert {"contrast", "gamma", "bias", "slice_blur", "breath_hold_px", "flow_ghost", "trabeculation", "fat_mm",
            "resolution_mm", "noise"} <= set(applied)
    lo, hi = everything.resolution_mm
    assert lo <= applied["resolution_mm"][0] <= hi
    assert applied["noise"]["model"] in ("rician", "correlated", "parallel")


def test_noise_models_and_contrast_ranges_are_all_drawn(case):
    models, myo_gains = set(), []
    for seed in range(12):
        _, _, applied = randomize_mr(case.image.array[:2], case.labels.array[:2], 1.5, seed)
        models.add(applied["noise"]["model"])
        if "contrast" in applied:
            myo_gains.append(applied["contrast"]["myo"])
    assert models == {"rician", "correlated", "parallel"}
    cfg = RandomizeConfig()
    assert all(cfg.myo_gain[0] <= g <= cfg.myo_gain[1] for g in myo_gains) and np.ptp(myo_gains) > 0.3


def test_phantom_options_widen_size_and_spacing():
    opts = [phantom_options(s) for s in range(40)]
    px = [o["pixel_mm"] for o in opts]
    sp = [o["slice_spacing_mm"] for o in opts]
    assert 1.1 <= min(px) and max(px) <= 2.2 and np.ptp(px) > 0.6
    assert 6.0 <= min(sp) and max(sp) <= 10.0 and np.ptp(sp) > 2.5
    assert phantom_options(7) == phantom_options(7)
    assert phantom_options(7, {"pixel_mm": 1.3})["pixel_mm"] == 1.3
