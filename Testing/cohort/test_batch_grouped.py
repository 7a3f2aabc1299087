"""``batch --batch-studies K``: studies propagated in one batch give the rows they give one by one."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from cohort_cases import write_cases  # noqa: E402

from cardiacmotion.cli.main import main  # noqa: E402
from cardiacmotion.io import read_image  # noqa: E402
from cardiacmotion.propagation.methods import get_method  # noqa: E402


@pytest.mark.skipif(get_method("memory") is None, reason="the memory method is not installed")
def test_grouped_batch_equals_one_by_one(tmp_path, capsys):
    studies = tmp_path / "studies"
    write_cases(studies, 2)
    common = ["--method", "memory", "--score-method", "thickening", "--device", "cpu", "--progress", "none", "--threads", "1"]
    assert main(["batch", str(studies), "-o", str(tmp_path / "alone"), *common]) == 1
    assert main(["batch", str(studies), "-o", str(tmp_path / "grouped"), "--batch-studies", "3", *common]) == 1
    capsys.readouterr()

    def rows(name):
        return {r["id"]: r for r in map(json.loads, (tmp_path / name / "cohort.jsonl").read_text().splitlines())}

    alone, grouped = rows("alone"), rows("grouped")
    assert grouped["corrupt"]["status"] == "failed" and grouped["corrupt"]["reason"] == alone["corrupt"]["reason"]
    for name in ("case0", "case1"):
        a = read_image(tmp_path / "alone" / "studies" / name / "segmentation.nii.gz").array
        g = read_image(tmp_path / "grouped" / "studies" / name / "segmentation.nii.gz").array
        assert np.array_equal(a, g)
        for col in ("lv_edv_ml", "lv_esv_ml", "lv_ef_pct", "lv_mass_g", "msi", "seg01", "seg16"):
            assert grouped[name][col] == alone[name][col]
        summary = json.loads((tmp_path / "grouped" / "studies" / name / "summary.json").read_text())
        assert summary["segmentation"]["batched_studies"] == 2 and summary["segmentation"]["method"] == "memory"
