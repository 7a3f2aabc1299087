"""Accuracy of the bundled MMSA weights on phantom MR studies never used in training
(training seeds 0-299, validation 5000-5015; these are 9000+), scored from the ground-truth
segmentation, and compared with the thickening method on the same studies."""
from __future__ import annotations

import time

import numpy as np
import pytest

from cardiacmotion.scoring import learned
from cardiacmotion.training.train_scoring import wall_motion_metrics

EVAL_SEEDS = range(9000, 9022)


@pytest.fixture(scope="module")
def scored():
    phantom = pytest.importorskip("cardiacmotion.phantom")
    if not hasattr(phantom, "make_mr_case"):
        pytest.skip("the MR phantom is not in this checkout")
    if not learned.DEFAULT_WEIGHTS.is_file():
        pytest.skip("no bundled MMSA weights")
    import torch

    meta = torch.load(learned.DEFAULT_WEIGHTS, weights_only=True).get("meta", {})
    if meta.get("sampler", learned.available_sampler()) != learned.available_sampler():
        pytest.skip("the bundled weights need the scoring.polar sampler, absent from this checkout")

    from cardiacmotion.training.scoring_data import case_options

    torch.set_num_threads(2)
    model = learned.load_model()
    truth, pred, thick, seconds = [], [], [], []
    for seed in EVAL_SEEDS:
        case = phantom.make_mr_case(seed, **case_options(seed))
        truth.append([int(s["score"]) for s in sorted(case.truth["segments"], key=lambda s: s["id"])[:16]])
        t = time.perf_counter()
        res = learned.score_learned(case.image, case.labels, case.landmarks, model=model)
        seconds.append(time.perf_counter() - t)
        pred.append([s["score"] for s in res["segments"]])
        try:
            from cardiacmotion.scoring.thickening import score_thickening
        except ImportError:
            continue
        th = score_thickening(case.image, case.labels, case.landmarks)
        thick.append([int(s["score"]) for s in sorted(th["segments"], key=lambda s: s["id"])[:16]])
    return np.array(truth), np.array(pred), (np.array(thick) if thick else None), seconds


@pytest.mark.slow
def test_learned_accuracy_on_held_out_phantoms(scored):
    truth, pred, _, seconds = scored
    m = wall_motion_metrics(truth, pred)
    print("learned", m, "median s/study", np.median(seconds))
    assert len(np.unique(truth)) == 4  # every class is represented
    # v0.2.0 on seeds 9000-9039: 0.978 / 0.989 / 0.997 (issue targets 0.85 / 0.93 / 0.95)
    assert m["accuracy_4way"] >= 0.93
    assert m["accuracy_abnormal"] >= 0.96
    assert m["msi_pearson_r"] >= 0.97
    assert np.median(seconds) < 10.0  # CPU, per study, polar sampling + network


@pytest.mark.slow
def test_compared_with_thickening_on_the_same_cases(scored):
    """From ground-truth labels thickening is strong on phantoms (their classes are defined by
    thickening); v0.2.0 still beats it (seeds 9000-9039: 4-way 0.978 vs 0.905)."""
    truth, pred, thick, _ = scored
    if thick is None:
        pytest.skip("the thickening method is not in this checkout")
    ml, mt = wall_motion_metrics(truth, pred), wall_motion_metrics(truth, thick)
    print("learned", ml, "thickening", mt)
    assert ml["accuracy_4way"] > mt["accuracy_4way"]
    assert ml["accuracy_abnormal"] >= mt["accuracy_abnormal"]


@pytest.mark.slow
def test_from_the_products_own_memory_segmentation():
    """The issue's setting: scored from ``segment``'s default (memory) 4D segmentation of the seed
    slice, not from the truth. Seeds 9000-9039 measured 0.975 / 0.988 / 0.995, thickening on the
    same segmentations 0.466 / 0.698 / 0.740; here six of them, to keep the suite short."""
    pytest.importorskip("cardiacmotion.phantom")
    if not learned.DEFAULT_WEIGHTS.is_file():
        pytest.skip("no bundled MMSA weights")
    from cardiacmotion.training.train_scoring import _evaluate_seed

    rows = [_evaluate_seed((seed, None, "cpu", "memory", True)) for seed in range(9000, 9006)]
    truth = np.array([r["truth"] for r in rows])
    ml = wall_motion_metrics(truth, np.array([r["learned"] for r in rows]))
    mt = wall_motion_metrics(truth, np.array([r["thickening"] for r in rows]))
    print("learned", ml, "thickening", mt)
    assert ml["accuracy_4way"] >= 0.88 and ml["accuracy_abnormal"] >= 0.93
    assert ml["accuracy_4way"] > mt["accuracy_4way"]
