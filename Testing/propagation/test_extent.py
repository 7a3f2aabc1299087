"""The per-phase LV extent step: atrium above the valve plane at ES is relabelled, the apex closes,
the basal rule, user limits, and the wiring into ``segment_cine``."""
from __future__ import annotations

import numpy as np
import pytest

from cardiacmotion.errors import InputError
from cardiacmotion.function import compute_function
from cardiacmotion.function.slices import apply_limits, myocardial_border_fraction, parse_limits
from cardiacmotion.phantom import make_mr_case
from cardiacmotion.propagation.extent import EXTENT_MODES, lv_extent


@pytest.fixture(scope="module")
def carried():
    """A phantom heart whose base descends 15 mm, and a "propagation" that carried the ED labels
    of every slice that leaves the LV in systole into the atrium (what the product did before)."""
    case = make_mr_case(2, phases=10, grid=128, base_descent_mm=15.0)
    truth = case.labels.array
    seg = truth.copy()
    ed_slices = set(case.truth["lv_slices_per_phase"][0])
    carried_pairs = 0
    for t in range(truth.shape[0]):
        for k in ed_slices - set(case.truth["lv_slices_per_phase"][t]):
            seg[t, k] = truth[0, k]
            carried_pairs += 1
    seeded = np.zeros(truth.shape[:2], bool)
    seeded[0, case.truth["seed_slice"]] = True
    assert carried_pairs >= 3  # at least the basal slice at ES, and its neighbours in time
    return case, seg, seeded


def test_atrium_at_es_is_cleaned(carried):
    case, seg, seeded = carried
    es = case.truth["es_phase"]
    before = compute_function(case.labels.with_array(seg))
    true_ef = case.truth["lv_ef_pct"]
    assert before["lv_ef_pct"] < true_ef - 5.0  # the carried atrium makes EF much too low
    for mode in ("plane", "ring"):
        lab, info = lv_extent(case.image, seg, seeded, mode=mode)
        after = compute_function(case.labels.with_array(lab))
        truth_es = set(case.truth["lv_slices_per_phase"][es])
        assert set(info["lv_slices_per_phase"][es]) == truth_es, (mode, info["lv_slices_per_phase"][es], truth_es)
        assert abs(after["lv_ef_pct"] - true_ef) < 2.0, (mode, after["lv_ef_pct"], true_ef)
        # what was removed above the valve became background (MR convention), the RV is untouched
        base = slice(0, case.truth["seed_slice"])
        removed = (seg[:, base] == 3) & (lab[:, base] != 3)
        assert removed.any() and np.all(lab[:, base][removed] == 0)
        # the RV is only ever trimmed above the anchor (where it spills into the right atrium)
        assert not ((seg[:, case.truth["seed_slice"]:] == 1) & (lab[:, case.truth["seed_slice"]:] != 1)).any()
        assert (lab == 1).sum() >= 0.9 * (seg == 1).sum()
        assert (lab[seeded] == seg[seeded]).all()  # the user's seed stays exactly as drawn
    off, info = lv_extent(case.image, seg, seeded, mode="off")
    np.testing.assert_array_equal(off, seg)


def test_closed_apex_cavity_becomes_myocardium(carried):
    case, _, seeded = carried
    truth = case.labels.array
    es = case.truth["es_phase"]
    apex = max(case.truth["lv_slices_per_phase"][0])
    seg = truth.copy()
    # a propagation that kept a cavity on the apical slice where the walls closed it
    if apex in case.truth["lv_slices_per_phase"][es]:
        pytest.skip("this heart's apical cavity stays open")
    seg[es, apex][(truth[0, apex] == 3) & (truth[es, apex] == 2)] = 3
    lab, _ = lv_extent(case.image, seg, seeded)
    assert not (lab[es, apex] == 3).any()
    assert ((lab[es, apex] == 2) | (lab[es, apex] == 0)).sum() >= (truth[es, apex] == 2).sum()


def test_basal_rule_on_labels():
    y, x = np.mgrid[:64, :64]
    r = np.hypot(x - 32, y - 32)
    full = np.where(r < 12, 3, np.where(r < 18, 2, 0)).astype(np.uint8)
    assert myocardial_border_fraction(full) == pytest.approx(1.0)
    half = full.copy()
    half[(r >= 12) & (x < 32)] = 0  # the septal half of the wall is atrium / outflow tract
    assert myocardial_border_fraction(half) == pytest.approx(0.5, abs=0.08)
    bare = np.where(r < 12, 3, 0).astype(np.uint8)
    assert myocardial_border_fraction(bare) == 0.0
    assert myocardial_border_fraction(np.zeros((8, 8), np.uint8)) is None


def test_limits_parse_and_apply(carried):
    case, seg, _ = carried
    assert parse_limits("3") == 3 and parse_limits("0:2, 4:3") == {0: 2, 4: 3} and parse_limits(None) is None
    for bad in ("x", "-1", "1:2:3", "0:-2"):
        with pytest.raises(InputError):
            parse_limits(bad)
    with pytest.raises(InputError):
        parse_limits("12:2", phases=10)
    es = case.truth["es_phase"]
    k_es = min(case.truth["lv_slices_per_phase"][es])
    lab = apply_limits(case.labels, seg, basal={es: k_es})
    assert min(k for k in range(lab.shape[1]) if (lab[es, k] == 3).any()) == k_es
    np.testing.assert_array_equal(lab[0], seg[0])  # other phases untouched
    with pytest.raises(InputError):
        apply_limits(case.labels, seg, basal=99)
    # user limits override the estimate in the extent step too, whatever the mode
    _, info = lv_extent(case.image, seg, None, mode="off", basal={es: k_es + 1})
    assert info["lv_slices_per_phase"][es][0] == k_es + 1
    assert set(EXTENT_MODES) == {"plane", "ring", "off"}


def test_partial_basal_slice_is_trimmed_to_its_walled_side():
    """A basal slice cut by the oblique valve plane: the dark wall surrounds the cavity on one side
    only; the carried labels on the open (atrial) side become background, the walled side stays."""
    from cardiacmotion.propagation.extent import trim_open_sectors

    y, x = np.mgrid[:80, :80]
    r = np.hypot(x - 40, y - 40)
    img = np.full((80, 80), 0.3)  # grey surroundings
    img[(r >= 14) & (r < 20) & (x < 40)] = 0.1  # myocardium: dark wall on the left half only
    img[(r >= 14) & (x >= 40)] = 1.0  # atrial blood continues on the right
    img[r < 14] = 1.0  # blood
    lab = np.where(r < 14, 3, np.where(r < 20, 2, 0)).astype(np.uint8)
    before = lab.copy()
    trim_open_sectors(img, lab, thr=0.55, band=4.0)
    left, right = x < 36, x > 44
    assert (lab[left] == before[left]).all()  # the walled side is untouched
    assert not ((lab == 3) & right).any() and not ((lab == 2) & right).any()
    assert 0.35 < (lab == 3).sum() / (before == 3).sum() < 0.65
    closed = np.where(r < 14, 3, np.where(r < 20, 2, 0)).astype(np.uint8)
    ring = np.where(r < 14, 1.0, np.where(r < 20, 0.1, 0.3))
    trim_open_sectors(ring, closed, thr=0.55, band=4.0)
    assert (closed == np.where(r < 14, 3, np.where(r < 20, 2, 0))).all()  # a whole ring: nothing trimmed
