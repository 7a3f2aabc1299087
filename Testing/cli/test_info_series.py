"""`info` on folders with several studies: the table, the refusal, and `--series` choosing each
(real Sunnybrook DICOM; skips cleanly without ../shared/data)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "cardiacmotion", *args], capture_output=True, text=True, env=env, timeout=300)


def test_info_lists_both_sunnybrook_studies_and_refuses_without_series(sunnybrook):
    proc = _cli("info", str(sunnybrook))
    assert proc.returncode == 2
    assert "SCD0000101" in proc.stdout and "SCD0000201" in proc.stdout and "12 x 20" in proc.stdout
    err = proc.stderr.splitlines()
    assert len(err) == 1 and "holds 2 cine series; choose one with --series" in err[0]
    listing = json.loads(_cli("info", str(sunnybrook), "--list", "--json").stdout)["series"]
    assert [(s["index"], s["patient_id"], s["slices"], s["phases"]) for s in listing] == [
        (0, "SCD0000101", 12, 20), (1, "SCD0000201", 13, 20)]
    for s in listing:
        assert s["orientation"] == "oblique" and s["modality"] == "MR" and s["series_number"] == "300"


def test_series_picks_each_study_by_index_and_uid(sunnybrook):
    listing = json.loads(_cli("info", str(sunnybrook), "--list", "--json").stdout)["series"]
    for choice, s in [("0", listing[0]), (listing[1]["series_uid"], listing[1])]:
        proc = _cli("info", str(sunnybrook), "--series", choice, "--json")
        assert proc.returncode == 0, proc.stderr
        info = json.loads(proc.stdout)
        assert info["shape"]["slices"] == s["slices"]
        assert info["ed_phase"] is not None and info["es_phase"] is not None
    # the expert contours are drawn at ED 18 / ES 7 (101): the estimate is within one phase, cyclically
    info = json.loads(_cli("info", str(sunnybrook / "SCD0000101"), "--json").stdout)
    assert min(abs(info["ed_phase"] - 18), 20 - abs(info["ed_phase"] - 18)) <= 1
    assert abs(info["es_phase"] - 7) <= 1
    bad = _cli("info", str(sunnybrook), "--series", "5")
    assert bad.returncode == 2 and "holds 2 cine series (0..1)" in bad.stderr
