"""``segment --method tan`` end to end: tracked landmarks written and used by ``function``; automatic start;
bad weights refused (exit 4, no output); the ``evaluate echo`` table on a tiny run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cardiacmotion.cli.main import main
from cardiacmotion.phantom.echo import make_echo_case

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("echo")
    case = make_echo_case(9030, "A4C", frames=10)
    case.save(d)
    (d / "truth_ef.txt").write_text(str(case.truth["lv_ef_pct"]))
    return d


def test_segment_tan_writes_tracked_landmarks_used_by_function(case_dir, tmp_path):
    seg, lm, info = tmp_path / "seg.nii.gz", tmp_path / "lm.json", tmp_path / "info.json"
    # one real subprocess: the installed entry point, as Slicer runs it
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "cardiacmotion", "segment", str(case_dir / "image.nii.gz"), "--landmarks",
                        str(case_dir / "landmarks.mrk.json"), "--method", "tan", "-o", str(seg), "--landmarks-out", str(lm),
                        "--info-json", str(info)], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    doc = json.loads(lm.read_text())
    assert doc["frames"] == 10 and set(doc["landmarks_per_frame"]) == {"Apex", "Mitral annulus septal", "Mitral annulus lateral"}
    assert (tmp_path / "lm.mrk.json").is_file()
    meta = json.loads(info.read_text())
    assert meta["method"] == "tan" and meta["view"] == "A4C" and 1 in meta["labels"]
    out = tmp_path / "f.json"
    assert main(["function", str(seg), "--image", str(case_dir / "image.nii.gz"), "--landmarks", str(lm), "-o", str(out)]) == 0
    f = json.loads(out.read_text())
    assert "tracked landmarks" in f["method"]
    assert abs(f["lv_ef_pct"] - float((case_dir / "truth_ef.txt").read_text())) < 10


def test_segment_tan_automatic_and_bad_weights(case_dir, tmp_path):
    assert main(["segment", str(case_dir / "image.nii.gz"), "--method", "tan", "--auto", "-o", str(tmp_path / "a.nii.gz")]) == 0
    assert (tmp_path / "a.nii.gz").is_file()
    bad = tmp_path / "w.pt"
    bad.write_bytes(b"x")
    code = main(["segment", str(case_dir / "image.nii.gz"), "--method", "tan", "--auto", "--weights", str(bad), "-o", str(tmp_path / "b.nii.gz")])
    assert code == 4 and not (tmp_path / "b.nii.gz").exists()


def test_evaluate_echo_table_columns(tmp_path, capsys):
    out = tmp_path / "e.json"
    assert main(["evaluate", "echo", "--phantom-per-view", "1", "--frames", "6", "--methods", "registration,tan", "--json-out", str(out)]) == 0
    header = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| method"))
    for col in ("dice_LV", "dice_myocardium", "dice_LA", "dice_LV_ED", "dice_LV_ES", "hd95_LV_mm", "apex_err_mm",
                "annulus_err_mm", "ef_abs_err", "ed_err_frames", "es_err_frames", "view_correct", "fps"):
        assert col in header
    summary = json.loads(out.read_text())["held-out training-phantom clips"]["summary"]
    assert summary["tan"]["clips"] == 2 and summary["registration"]["clips"] == 2
    assert "apex_err_mm" in summary["tan"] and "apex_err_mm" not in summary["registration"]
