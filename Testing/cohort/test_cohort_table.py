"""The cohort table, the resume key and the summary statistics."""
from __future__ import annotations

import json

import numpy as np
import pytest

from cardiacmotion.cohort.runner import resume_key
from cardiacmotion.cohort.studies import Study
from cardiacmotion.cohort.summary import bland_altman, write_summary_figure
from cardiacmotion.cohort.table import COLUMNS, SEGMENT_COLUMNS, read_csv_table, write_table


def test_table_files_carry_every_column_and_row(tmp_path):
    rows = [{"id": "a", "status": "ok", "lv_ef_pct": 55.123456, "seg01": 2, "qc_flags": "x, y; z"},
            {"id": "b", "status": "failed", "reason": "cannot read NIfTI b.nii.gz: bad"}]
    files = write_table(rows, tmp_path)
    back = read_csv_table(files["csv"])
    assert list(back[0]) == list(COLUMNS) and len(SEGMENT_COLUMNS) == 16
    assert back[0]["lv_ef_pct"] == "55.1235" and back[0]["qc_flags"] == "x, y; z" and back[0]["seg02"] is None
    assert back[1]["reason"] == "cannot read NIfTI b.nii.gz: bad"
    assert [json.loads(x)["id"] for x in files["jsonl"].read_text().splitlines()] == ["a", "b"]
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(files["parquet"]).to_pydict()
    assert table["lv_ef_pct"] == [55.123456, None] and table["seg01"] == [2, None] and table["id"] == ["a", "b"]


def test_resume_key_follows_content_options_and_not_the_device(tmp_path):
    image = tmp_path / "image.nii.gz"
    image.write_bytes(b"abc")
    study = Study(id="s", path=str(image))
    key = resume_key(study, {"method": "memory", "device": "cpu"})
    assert key == resume_key(study, {"method": "memory", "device": "cuda", "threads": 4})
    assert key != resume_key(study, {"method": "registration"})
    assert key != resume_key(Study(id="s", path=str(image), seed_phase=3), {"method": "memory"})
    image.write_bytes(b"abd")
    assert key != resume_key(study, {"method": "memory", "device": "cpu"})


def test_bland_altman_and_figure(tmp_path):
    m, r = np.array([50.0, 60.0, 40.0, 70.0]), np.array([48.0, 61.0, 37.0, 66.0])
    ba = bland_altman(m, r)
    d = m - r
    assert ba["bias"] == pytest.approx(d.mean()) and ba["sd"] == pytest.approx(d.std(ddof=1))
    assert ba["loa_high"] - ba["loa_low"] == pytest.approx(2 * 1.96 * d.std(ddof=1))
    rows = [{"status": "ok", "lv_ef_pct": a, "reference_ef": b} for a, b in zip(m, r)]
    assert write_summary_figure(rows, tmp_path / "s.png").stat().st_size > 1000
    assert write_summary_figure([{"status": "failed"}], tmp_path / "none.png") is None
