"""``cardiacmotion batch`` in one process: the table, a failing study isolated, resume by content."""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from cohort_cases import write_cases  # noqa: E402

from cardiacmotion.cli.main import main  # noqa: E402

ARGS = ["--method", "registration", "--score-method", "thickening", "--device", "cpu", "--progress", "json", "--threads", "1"]


def _run(capsys, studies, out) -> tuple[int, dict]:
    code = main(["batch", str(studies), "-o", str(out), *ARGS])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.strip()]
    return code, {ln["study"]: ln["status"] for ln in lines}


def test_batch_serial_isolates_failures_and_resumes_by_content(tmp_path, capsys):
    studies = tmp_path / "studies"
    write_cases(studies, 2)
    out = tmp_path / "cohort"
    code, status = _run(capsys, studies, out)
    assert code == 1 and status == {"case0": "ok", "case1": "ok", "corrupt": "failed"}
    rows = {r["id"]: r for r in map(json.loads, (out / "cohort.jsonl").read_text().splitlines())}
    truth = json.loads((studies / "case0" / "truth.json").read_text())
    assert rows["case0"]["reference_ef"] == truth["lv_ef_pct"]
    assert abs(rows["case0"]["lv_ef_pct"] - truth["lv_ef_pct"]) < 15  # a 6-phase, 64 px phantom: a coarse EF
    assert rows["case0"]["attempts"] == 1 and rows["case0"]["version"] and len(rows["case0"]["key"]) == 64
    assert rows["corrupt"]["status"] == "failed" and "corrupt/image.nii.gz" in rows["corrupt"]["reason"]
    # rerun: finished studies are skipped; a changed input file runs again
    code, status = _run(capsys, studies, out)
    assert status == {"case0": "skipped", "case1": "skipped", "corrupt": "failed"}
    (studies / "case1" / "landmarks.mrk.json").write_text((studies / "case0" / "landmarks.mrk.json").read_text())
    code, status = _run(capsys, studies, out)
    assert status == {"case0": "skipped", "case1": "ok", "corrupt": "failed"}


def test_batch_bad_input_is_one_line_exit_2(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "missing"), "-o", str(tmp_path / "o")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    (tmp_path / "m.csv").write_text("id,seed\na,b\n")
    assert main(["batch", str(tmp_path / "m.csv"), "-o", str(tmp_path / "o")]) == 2
    assert main(["batch", str(tmp_path / "m.csv"), "-o", str(tmp_path / "o"), "--workers", "0"]) == 2


def test_process_pool_fallback_runs_studies_in_other_processes(tmp_path):
    """Without Dask, --workers N uses a spawned process pool; rows come back the same way."""
    import os

    from cardiacmotion.cohort.backends import run_pool
    from cardiacmotion.cohort.studies import load_studies

    studies = tmp_path / "studies"
    write_cases(studies, 1)
    # only the corrupt study: it fails at once, in the worker
    jobs = [([s.to_dict()], str(tmp_path / "out"), {"method": "registration", "threads": 1})
            for s in load_studies(studies) if s.id == "corrupt"]
    (tmp_path / "out").mkdir()
    (row,) = list(run_pool(jobs, workers=1, threads=1))
    assert row["id"] == "corrupt" and row["status"] == "failed" and "cannot read" in row["reason"]
    assert not row["worker"].endswith(f":{os.getpid()}")
