"""`cardiacmotion analyze` end to end on a phantom: every output, the scene, and agreement with truth."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cardiacmotion.phantom import make_mr_case


@pytest.fixture(scope="module")
def mr_case_dir(tmp_path_factory):
    case = make_mr_case(7)
    d = tmp_path_factory.mktemp("case")
    case.save(d)
    return d, case


def _run(*args):
    return subprocess.run([sys.executable, "-m", "cardiacmotion", *args], capture_output=True, text=True)


def test_analyze_writes_every_result(mr_case_dir, tmp_path):
    d, case = mr_case_dir
    out = tmp_path / "result"
    proc = _run("analyze", str(d / "image.nii.gz"), "-o", str(out), "--seed", str(d / "seed.nii.gz"),
                "--landmarks", str(d / "landmarks.mrk.json"), "--method", "registration", "--progress", "none")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    for name in ("segmentation.nii.gz", "function.json", "function.csv", "volume_curve.png", "scores.json",
                 "bullseye.png"):
        assert (out / name).is_file(), name
    assert "scene" in summary["files"] and (out / "scene.mrb").stat().st_size > 10_000
    assert abs(summary["function"]["lv_ef_pct"] - case.truth["lv_ef_pct"]) < 8.0
    scores = json.loads((out / "scores.json").read_text())
    assert len(scores["segments"]) == 16 and 1.0 <= scores["motion_score_index"] <= 4.0


def test_analyze_without_seed_or_landmarks_starts_automatically(mr_case_dir, tmp_path):
    d, case = mr_case_dir
    out = tmp_path / "result"
    proc = _run("analyze", str(d / "image.nii.gz"), "-o", str(out), "--method", "registration", "--no-scene",
                "--progress", "none")
    assert proc.returncode in (0, 5), proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["segmentation"]["seed"] == "auto" and "automatic start: LV on slice" in proc.stderr
    assert (out / "landmarks.mrk.json").is_file() and (out / "function.json").is_file()
    assert abs(summary["function"]["lv_ef_pct"] - case.truth["lv_ef_pct"]) < 10.0
    bad = _run("analyze", str(d / "image.nii.gz"), "-o", str(tmp_path / "x"), "--auto", "--seed", str(d / "seed.nii.gz"))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--auto" in bad.stderr
    assert not (tmp_path / "x").exists()


def test_analyze_keeps_segmentation_and_function_when_scoring_fails(mr_case_dir, tmp_path):
    """A seed without myocardium: scoring cannot find a myocardial ring; the rest is still written (exit 5)."""
    import numpy as np

    from cardiacmotion.io import read_image, write_image

    d, _ = mr_case_dir
    seed = read_image(d / "seed.nii.gz")
    arr = np.asarray(seed.array).copy()
    arr[arr == 2] = 0
    write_image(seed.with_array(arr.astype(np.float32)), tmp_path / "cavity_only.nii.gz")
    out = tmp_path / "result"
    proc = _run("analyze", str(d / "image.nii.gz"), "-o", str(out), "--seed", str(tmp_path / "cavity_only.nii.gz"),
                "--landmarks", str(d / "landmarks.mrk.json"), "--method", "registration", "--score-method",
                "thickening", "--no-scene", "--progress", "none")
    assert proc.returncode == 5, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert "scoring" in summary["skipped"] and "skipped scoring" in proc.stderr
    for name in ("segmentation.nii.gz", "function.json", "volume_curve.png", "landmarks.mrk.json"):
        assert (out / name).is_file(), name
    assert not (out / "scores.json").exists() and "scores" not in summary["files"]


def test_analyze_refuses_to_overwrite_its_input(mr_case_dir):
    d, _ = mr_case_dir
    proc = _run("analyze", str(d / "image.nii.gz"), "-o", str(d), "--seed", str(d / "seed.nii.gz"))
    assert proc.returncode == 2 and "overwrite" in proc.stderr
    assert (d / "image.nii.gz").is_file()


def test_analyze_never_replaces_a_foreign_folder(mr_case_dir, tmp_path):
    d, _ = mr_case_dir
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    proc = _run("analyze", str(d / "image.nii.gz"), "-o", str(precious), "--seed", str(d / "seed.nii.gz"))
    assert proc.returncode == 2 and "not an earlier cardiacmotion result" in proc.stderr
    assert (precious / "notes.txt").read_text() == "keep me"
