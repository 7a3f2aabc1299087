"""``cardiacmotion batch`` through a real Dask LocalCluster (a scheduler and two worker
processes), with one worker killed while it runs a study, a corrupt study, and a rerun."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from cohort_cases import write_cases  # noqa: E402

pytest.importorskip("distributed")
REPO = Path(__file__).resolve().parents[2]


def _env() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _kill_first_running_worker(out: Path, proc: subprocess.Popen, deadline: float) -> str:
    """Wait for the first study to start on a worker, then SIGKILL that worker process."""
    attempts = out / "attempts"
    while time.monotonic() < deadline and proc.poll() is None:
        for log in sorted(attempts.glob("case*.log")) if attempts.is_dir() else []:
            study = log.stem
            lines = [ln for ln in log.read_text().splitlines() if ln.strip()]
            if lines and not (out / "rows" / f"{study}.json").exists():
                os.kill(json.loads(lines[0])["pid"], signal.SIGKILL)
                return study
        time.sleep(0.02)
    raise AssertionError("no study started on a worker in time")


def test_batch_local_cluster_survives_a_killed_worker_and_resumes(tmp_path):
    studies = tmp_path / "studies"
    names = write_cases(studies, 6)
    out = tmp_path / "cohort"
    cmd = [sys.executable, "-m", "cardiacmotion", "batch", str(studies), "-o", str(out), "--workers", "2",
           "--method", "registration", "--score-method", "thickening", "--device", "cpu", "--progress", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        killed = _kill_first_running_worker(out, proc, time.monotonic() + 120)
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, stderr  # one study failed: exit 1, the others are in the table
    assert "dask-local" in stderr
    lines = [json.loads(ln) for ln in stdout.splitlines() if ln.strip()]
    assert sorted(ln["study"] for ln in lines) == sorted(names)
    assert lines[-1]["progress"] == 1.0

    rows = {r["id"]: r for r in map(json.loads, (out / "cohort.jsonl").read_text().splitlines())}
    assert sorted(rows) == sorted(names)
    csv_ids = [line.split(",")[0] for line in (out / "cohort.csv").read_text().splitlines()[1:]]
    assert sorted(csv_ids) == sorted(names)
    for name in names[:-1]:
        r = rows[name]
        assert r["status"] == "ok", r
        assert 5 < r["lv_ef_pct"] < 95 and r["lv_edv_ml"] > r["lv_esv_ml"] > 0
        assert r["method"] == "registration" and r["msi"] is not None and r["seg01"] in (1, 2, 3, 4)
        assert (out / "studies" / name / "summary.json").is_file()
    # the killed study ran again on a live worker and finished
    assert rows[killed]["attempts"] >= 2, rows[killed]
    assert len({rows[n]["worker"] for n in names[:-1]}) >= 2  # both workers (and the restarted one) ran studies
    # the corrupt study is reported with its reason, and only it
    assert rows["corrupt"]["status"] == "failed"
    assert "cannot read" in rows["corrupt"]["reason"] and "image.nii.gz" in rows["corrupt"]["reason"]
    assert (out / "cohort_summary.png").stat().st_size > 1000
    pq = pytest.importorskip("pyarrow.parquet")
    assert pq.read_table(out / "cohort.parquet").num_rows == len(names)

    # a rerun skips every finished study; only the failed one is tried again
    from cardiacmotion.cli.main import main

    before = {n: (out / "studies" / n / "summary.json").stat().st_mtime_ns for n in names[:-1]}
    rerun = tmp_path / "rerun.jsonl"
    with open(rerun, "w") as f:
        stdout_fd = sys.stdout
        sys.stdout = f
        try:
            code = main(cmd[3:5] + ["-o", str(out), "--method", "registration", "--score-method", "thickening",
                                    "--device", "cpu", "--progress", "json"])
        finally:
            sys.stdout = stdout_fd
    assert code == 1
    status = {ln["study"]: ln["status"] for ln in map(json.loads, rerun.read_text().splitlines())}
    assert status == {**{n: "skipped" for n in names[:-1]}, "corrupt": "failed"}
    assert before == {n: (out / "studies" / n / "summary.json").stat().st_mtime_ns for n in names[:-1]}
