"""cardiacmotion evaluate table on a tiny run: the table with every column, the JSON, the real-study cases."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from cardiacmotion.evaluation.table import LABELS, case_dice


def _has_independent() -> bool:
    return importlib.util.find_spec("cardiacmotion.independent") is not None


def test_tiny_run_writes_the_table_with_every_column(tmp_path):
    md, js = tmp_path / "table.md", tmp_path / "table.json"
    n_ind = "1" if _has_independent() else "0"
    cmd = [sys.executable, "-m", "cardiacmotion", "evaluate", "table", "--phantom-cases", "1", "--independent-cases", n_ind,
           "--real", "", "--small", "--device", "cpu", "--progress", "none", "--markdown", str(md), "--json", str(js)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stderr
    text = md.read_text()
    header = text.splitlines()[0]
    for col in ("Dice LV", "Dice Myo", "Dice RV", "EF abs err", "learned 4-way", "learned abnormal", "learned MSI r",
                "thickening 4-way", "thickening abnormal", "thickening MSI r", "frames/s"):
        assert col in header
    report = json.loads(js.read_text())
    rows = report["summary"]
    sources = {r["source"] for r in rows}
    assert "training phantom (held-out seeds)" in sources
    if n_ind == "1":
        assert "independent generator" in sources
    for r in rows:
        assert r["method"] in ("registration", "memory", "fusion")
        assert 0.5 < r["dice_LV"] <= 1.0 and 0.3 < r["dice_Myo"] <= 1.0
        assert r["ef_abs_error"] is not None and r["learned_4way"] is not None and r["thickening_4way"] is not None
    assert {r["method"] for r in rows} == {"registration", "memory", "fusion"}
    assert "auto" in report and report["cases"][0]["truth_scores"]


def test_bad_method_is_one_line_exit_2():
    res = subprocess.run([sys.executable, "-m", "cardiacmotion", "evaluate", "table", "--methods", "magic",
                          "--phantom-cases", "0", "--independent-cases", "0", "--real", ""],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1


def test_real_study_case_is_seeded_on_one_slice_and_scored_where_contoured(sunnybrook, tmp_path):
    from cardiacmotion.evaluation.sources import real_case, real_jobs, save_real_cache

    case = real_case("SCD0000101", sunnybrook / "SCD0000101")
    assert case.held_out and case.labels == (2, 3)
    assert int(case.seeds.seeded.sum()) == 1
    assert case.ef_truth == pytest.approx(26.26, abs=0.1)  # the expert contours' EF (models.json, cstm-v0.2.0)
    perfect = np.where(case.truth == 255, 0, case.truth)
    assert case_dice(perfect, case) == {"LV": 1.0, "Myo": 1.0}
    # the compact cache (for the GPU machine) gives the same case
    save_real_cache(sunnybrook.parent, tmp_path, ["SCD0000101"])
    (job,) = real_jobs(None, tmp_path, ["SCD0000101"])
    cached = real_case("SCD0000101", __import__("pathlib").Path(job[2]["path"]))
    assert cached.ef_truth == pytest.approx(case.ef_truth)
    assert np.array_equal(cached.frames["LV"], case.frames["LV"])
    assert int((cached.truth == 3).sum()) == int((case.truth == 3).sum())
    assert set(LABELS) >= set(case.frames)
