"""auto by evidence: the rules, the models.json record, and segment/score following it."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from cardiacmotion.evaluation.evidence import (auto_choices, auto_method, choose_echo_propagation, choose_propagation,
                                               write_echo_evidence, write_evidence)


def _row(source, method, lv, myo, rv=None, **scores):
    return {"source": source, "method": method, "cases": 1, "held_out": True, "dice_LV": lv, "dice_Myo": myo,
            "dice_RV": rv, **scores}


def test_learned_method_worse_on_any_label_is_never_picked():
    summary = [
        _row("training phantom (held-out seeds)", "memory", 0.99, 0.99, 0.99),  # not evidence: ignored
        _row("training phantom (held-out seeds)", "registration", 0.5, 0.5, 0.5),
        _row("independent generator", "registration", 0.91, 0.89, 0.88),
        _row("independent generator", "memory", 0.95, 0.93, 0.87),  # RV worse than registration
        _row("independent generator", "fusion", 0.93, 0.90, 0.88),
        _row("real: SCD0000101", "registration", 0.90, 0.75),
        _row("real: SCD0000101", "memory", 0.92, 0.80),
        _row("real: SCD0000101", "fusion", 0.91, 0.76),
    ]
    res = choose_propagation(summary)
    assert "memory" not in res["eligible"]  # better mean, but worse on RV
    assert res["choice"] == "fusion"
    summary[4] = _row("independent generator", "fusion", 0.93, 0.88, 0.88)  # now fusion is worse on Myo
    assert choose_propagation(summary)["choice"] == "registration"
    # the training phantom alone is no evidence
    assert choose_propagation(summary[:2]) is None


def test_scoring_choice_needs_learned_at_least_as_good_on_every_measure():
    base = [_row("independent generator", "registration", 0.9, 0.9, 0.9, learned_4way=0.9, learned_abnormal=0.95,
                 learned_msi_r=0.93, thickening_4way=0.7, thickening_abnormal=0.9, thickening_msi_r=0.94)]
    assert auto_choices(base)["scoring"]["choice"] == "thickening"  # MSI r lower
    base[0]["learned_msi_r"] = 0.95
    assert auto_choices(base)["scoring"]["choice"] == "learned"


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    from cardiacmotion.models.weights import models_dir as bundled

    shutil.copy(bundled() / "models.json", tmp_path / "models.json")
    monkeypatch.setenv("CARDIACMOTION_MODELS", str(tmp_path))
    return tmp_path


def _record(directory, propagation, scoring):
    summary = [_row("independent generator", "registration", 0.9, 0.9, 0.9, learned_4way=0.5, learned_abnormal=0.5,
                    learned_msi_r=0.5, thickening_4way=0.8, thickening_abnormal=0.9, thickening_msi_r=0.9)]
    report = {"auto": auto_choices(summary), "summary": summary, "models": {}, "command": "test", "device": "cpu"}
    report["auto"]["propagation"]["MR"]["choice"] = propagation
    report["auto"]["scoring"]["choice"] = scoring
    write_evidence(report, directory)


def test_write_and_read_the_record_keeps_the_models(models_dir):
    before = json.loads((models_dir / "models.json").read_text())["models"]
    assert auto_method("propagation", "MR") in (None, "memory", "registration", "fusion")
    us_before = auto_method("propagation", "US")
    _record(models_dir, "registration", "thickening")
    data = json.loads((models_dir / "models.json").read_text())
    assert data["models"] == before
    assert auto_method("propagation", "MR") == "registration"
    assert auto_method("propagation", "US") == us_before  # an MR table run keeps the echo record
    assert auto_method("scoring") == "thickening"


def _echo_result(reg, mem, fus):
    def s(d):
        return {"clips": 20, "dice_LV": d[0], "dice_myocardium": d[1], "dice_LA": d[2]}
    return {"held-out training-phantom clips": {"summary": {"memory": s((0.99, 0.99, 0.99)), "registration": s((0.5, 0.5, 0.5))}},
            "independent echo generator clips": {"summary": {"registration": s(reg), "memory": s(mem), "fusion": s(fus)}}}


def test_echo_choice_uses_only_the_independent_clips_and_the_same_rule():
    res = choose_echo_propagation(_echo_result((0.95, 0.90, 0.85), (0.96, 0.89, 0.90), (0.95, 0.91, 0.86)))
    assert res["eligible"] == ["registration", "fusion"] and res["choice"] == "fusion"
    res = choose_echo_propagation(_echo_result((0.95, 0.90, 0.85), (0.88, 0.74, 0.80), (0.94, 0.88, 0.84)))
    assert res["choice"] == "registration" and res["eligible"] == ["registration"]
    assert choose_echo_propagation({"held-out training-phantom clips": {"summary": {"registration": {"clips": 3}}}}) is None


def test_echo_record_is_followed_by_segment_and_kept_by_mr_runs(models_dir):
    from cardiacmotion.propagation.segment import segment_cine
    from cardiacmotion.echo.clips import phantom_clip
    from cardiacmotion.echo.harness import _seedset

    rec = choose_echo_propagation(_echo_result((0.95, 0.90, 0.85), (0.88, 0.74, 0.80), (0.94, 0.88, 0.84)))
    write_echo_evidence(rec, {"command": "test"}, models_dir)
    assert auto_method("propagation", "US") == "registration"
    _record(models_dir, "memory", "thickening")
    assert auto_method("propagation", "US") == "registration" and auto_method("propagation", "MR") == "memory"
    clip = phantom_clip(5, "A4C", frames=6)
    _, info = segment_cine(clip.cine, seeds=_seedset(clip), method="auto", device="cpu")
    assert info["method"] == "registration" and "held-out evidence" in info["auto"]


def test_segment_and_score_auto_follow_the_record(models_dir):
    from cardiacmotion.analyze import score_segmentation
    from cardiacmotion.phantom import make_mr_case
    from cardiacmotion.propagation.evaluate import single_slice_seed
    from cardiacmotion.propagation.segment import segment_cine
    from cardiacmotion.propagation.synthetic import make_mr

    _record(models_dir, "registration", "thickening")
    sc = make_mr(0, phases=4, slices=4, size=64)
    seeds = single_slice_seed(sc.labels.array, sc.seed_phase, sc.seed_slice)
    _, info = segment_cine(sc.image, seeds=seeds, method="auto", device="cpu")
    assert info["method"] == "registration" and "held-out evidence" in info["auto"]
    case = make_mr_case(3, grid=96, phases=8, slices=6)
    scores = score_segmentation(case.image, case.labels, case.landmarks, method="auto")
    assert scores["method"] == "thickening" and "held-out evidence" in scores["method_note"]
    assert len(scores["segments"]) >= 16 and np.isfinite(scores["motion_score_index"])
