"""``cardiacmotion batch`` on the shared real studies (two Sunnybrook, one porcine) from a manifest:
the cohort table carries each study's EF beside the Sunnybrook experts' value. Skips cleanly
without ../shared/data; slow (three real cines through the memory method on a CPU)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from shared_manifest import write_shared_manifest  # noqa: E402

from cardiacmotion.cli.main import main  # noqa: E402


@pytest.mark.slow
@pytest.mark.shared
def test_batch_on_the_shared_studies_puts_ef_beside_the_experts(tmp_path, capsys, sunnybrook, porcine):
    manifest = write_shared_manifest(sunnybrook.parent, tmp_path / "inputs")
    out = tmp_path / "cohort"
    assert main(["batch", str(manifest), "-o", str(out), "--device", "cpu", "--progress", "none"]) == 0
    # a rerun skips all three
    assert main(["batch", str(manifest), "-o", str(out), "--device", "cpu", "--progress", "json"]) == 0
    assert {json.loads(x)["status"] for x in capsys.readouterr().out.splitlines()} == {"skipped"}
    rows = {r["id"]: r for r in map(json.loads, (out / "cohort.jsonl").read_text().splitlines())}
    assert sorted(rows) == ["SCD0000101", "SCD0000201", "porcine-E774S5"]
    for name in ("SCD0000101", "SCD0000201"):
        r = rows[name]
        # no landmarks in the manifest: segmentation and function are written, the scoring is skipped and said so
        assert r["status"] == "partial" and "no landmarks" in r["reason"], r
        assert r["phases"] == 20 and r["slices"] >= 12
        # expert EF from the contour polygons: 26.2 and 25.5 %; measured: memory +4.5 and +2.8 points
        assert 20 < r["reference_ef"] < 32
        assert abs(r["lv_ef_pct"] - r["reference_ef"]) < 6.0, r
    pig = rows["porcine-E774S5"]
    assert pig["status"] == "partial" and pig["reference_ef"] is None and 20 < pig["lv_ef_pct"] < 80
    assert (out / "cohort_summary.png").is_file()
