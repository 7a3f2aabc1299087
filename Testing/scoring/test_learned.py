"""Learned scoring: weights loading (hash, architecture) and the SCORES.json shape on a constructed heart."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError, WeightsError
from cardiacmotion.models.mmsa import ARCHITECTURE, MMSAConfig, MMSANet
from cardiacmotion.scoring import learned
from cardiacmotion.scoring.learned import load_model, score_learned, segment_sequences_for, sha256_of


def ring_heart(frames: int = 12, slices: int = 7, n: int = 64) -> tuple[Cine, Cine, dict]:
    """A constructed LV: concentric cavity and myocardium on every slice, contracting uniformly."""
    sp = 1.5
    yy, xx = np.mgrid[0:n, 0:n].astype(float)
    rad = np.hypot(xx - 32, yy - 30)
    img = np.full((frames, slices, n, n), 0.15, np.float32)
    lab = np.zeros((frames, slices, n, n), np.uint8)
    for t in range(frames):
        f = 0.5 - 0.5 * np.cos(2 * np.pi * t / frames)
        re, w = 10 * (1 - 0.3 * f), 5 * (1 + 0.4 * f)
        for k in range(1, slices - 1):
            scale = 1.0 - 0.08 * k
            cav, myo = rad < re * scale, (rad >= re * scale) & (rad < re * scale + w)
            img[t, k][myo], img[t, k][cav] = 0.3, 0.9
            lab[t, k][myo], lab[t, k][cav] = 2, 3
    m = np.diag([sp, sp, 8.0, 1.0])
    m[:3, 3] = (-40.0, 12.0, 5.0)
    times = np.arange(frames) * 40.0
    mid = slices // 2
    lm = {
        "RV anterior insertion": (m @ np.array([32 - 15 * np.cos(0.6), 30 - 15 * np.sin(0.6), mid, 1]))[:3],
        "RV inferior insertion": (m @ np.array([32 - 15 * np.cos(-0.6), 30 - 15 * np.sin(-0.6), mid, 1]))[:3],
        "LV center": (m @ np.array([32, 30, mid, 1]))[:3],
    }
    return Cine(img, m, times), Cine(lab, m, times), lm


def _write_ckpt(path: Path, model: MMSANet, architecture: str = ARCHITECTURE) -> Path:
    torch.save({"architecture": architecture, "config": model.config.to_dict(), "state_dict": model.state_dict(), "meta": {}}, path)
    return path


@pytest.fixture()
def small_ckpt(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    return _write_ckpt(tmp_path / "mmsa-test.pt", MMSANet(MMSAConfig()))


def test_segment_sequences_shape():
    image, seg, lm = ring_heart()
    segs = segment_sequences_for(image, seg, lm, 32, 16)
    assert segs.shape == (16, 12, 32, 16) and segs.dtype == np.float32
    # the contracting cavity: the inner radial samples of segment 1 start bright and darken at ES as the wall moves in
    inner = segs[0, :, 10:14].mean(axis=(1, 2))
    assert inner[0] > inner[6] + 0.2


def test_score_learned_shape(small_ckpt: Path):
    image, seg, lm = ring_heart()
    torch.set_num_threads(2)
    t = time.perf_counter()
    result = score_learned(image, seg, lm, weights=small_ckpt, device="cpu")
    assert time.perf_counter() - t < 20
    assert result["method"] == "learned"
    assert [s["id"] for s in result["segments"]] == list(range(1, 17))
    for s in result["segments"]:
        assert len(s["probabilities"]) == 4 and abs(sum(s["probabilities"]) - 1) < 1e-3
        assert s["score"] == int(np.argmax(s["probabilities"])) + 1
        assert s["label"] in ("normal", "hypokinetic", "akinetic", "dyskinetic")
    assert result["motion_score_index"] == pytest.approx(np.mean([s["score"] for s in result["segments"]]), abs=1e-3)
    json.dumps(result)  # serialisable as SCORES.json


def test_echo_and_grid_mismatch_are_input_errors(small_ckpt: Path):
    image, seg, lm = ring_heart()
    echo = Cine(image.array, image.ijk_to_ras, image.frame_times_ms, modality="US", view="A4C")
    with pytest.raises(InputError, match="cine MR"):
        score_learned(echo, seg, lm, weights=small_ckpt)
    with pytest.raises(InputError, match="grid"):
        score_learned(image, Cine(seg.array[:, :-1], seg.ijk_to_ras, seg.frame_times_ms), lm, weights=small_ckpt)


def test_missing_landmark_is_input_error(small_ckpt: Path):
    image, seg, lm = ring_heart()
    del lm["RV inferior insertion"]
    with pytest.raises(InputError, match="RV inferior insertion"):
        score_learned(image, seg, lm, weights=small_ckpt)


def test_weights_errors(tmp_path: Path, small_ckpt: Path):
    with pytest.raises(WeightsError, match="not found"):
        load_model(tmp_path / "absent.pt")
    bad = tmp_path / "garbage.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="cannot read"):
        load_model(bad)
    other = _write_ckpt(tmp_path / "other.pt", MMSANet(), architecture="cstm-v1")
    with pytest.raises(WeightsError, match="architecture 'cstm-v1'"):
        load_model(other)
    wrong = tmp_path / "wrong.pt"
    state = torch.load(small_ckpt, weights_only=True)
    state["state_dict"].pop("fc2.weight")
    torch.save(state, wrong)
    with pytest.raises(WeightsError, match="does not fit"):
        load_model(wrong)
    assert load_model(small_ckpt).config == MMSAConfig()
    assert load_model(small_ckpt).config.radial == 16


def test_bundled_weights_hash_is_checked(tmp_path: Path, monkeypatch):
    """A copy of the models folder whose weights file was altered is refused with a sha256 reason."""
    if not learned.DEFAULT_WEIGHTS.is_file():
        pytest.skip("no bundled MMSA weights in this checkout")
    meta = torch.load(learned.DEFAULT_WEIGHTS, weights_only=True).get("meta", {})
    if meta.get("sampler", learned.available_sampler()) != learned.available_sampler():
        pytest.skip("the bundled weights need the scoring.polar sampler, absent from this checkout")
    models = tmp_path / "Models"
    shutil.copytree(learned.MODELS_DIR, models)
    monkeypatch.setattr(learned, "MODELS_DIR", models)
    monkeypatch.setattr(learned, "DEFAULT_WEIGHTS", models / learned.DEFAULT_WEIGHTS.name)
    assert load_model() is not None
    with open(models / learned.DEFAULT_WEIGHTS.name, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(WeightsError, match="sha256"):
        load_model()


def test_manifest_entry_describes_the_bundled_file():
    entry = learned.manifest_entry()
    if entry is None:
        pytest.skip("no MMSA manifest entry in this checkout")
    assert entry["architecture"] == ARCHITECTURE
    assert entry["sha256"] == sha256_of(learned.MODELS_DIR / entry["file"])
    assert (learned.MODELS_DIR / entry["file"]).stat().st_size < 25e6
    for key in ("input", "training_data", "accuracy", "speed", "training_command"):
        assert key in entry


def test_weights_from_another_sampler_are_refused(tmp_path: Path, small_ckpt: Path):
    state = torch.load(small_ckpt, weights_only=True)
    state["meta"] = {"sampler": "some-other-sampler"}
    path = tmp_path / "other-sampler.pt"
    torch.save(state, path)
    with pytest.raises(WeightsError, match="polar sampler"):
        load_model(path)
