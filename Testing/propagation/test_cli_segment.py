"""`cardiacmotion segment` and `benchmark` end to end on real files."""
from __future__ import annotations

import json

import numpy as np
import pytest

from cardiacmotion.cli.main import main
from cardiacmotion.io import read_image, write_image
from cardiacmotion.io.markups import write_markups
from cardiacmotion.propagation.synthetic import make_mr


def _files(tmp_path):
    case = make_mr(3, phases=5, slices=4, size=64)
    img = tmp_path / "image.nii.gz"
    seed = tmp_path / "seed.nii.gz"
    write_image(case.image, img)
    s = np.zeros((1,) + case.labels.array.shape[1:], np.uint8)
    s[0, case.seed_slice] = case.labels.array[0, case.seed_slice]
    write_image(case.labels.with_array(s, frame_times_ms=np.zeros(1)), seed)
    return case, img, seed


def test_segment_from_seed(tmp_path, capsys):
    case, img, seed = _files(tmp_path)
    out = tmp_path / "seg.nii.gz"
    before = img.read_bytes()
    rc = main(["segment", str(img), "-o", str(out), "--seed", str(seed), "--method", "registration",
               "--device", "cpu", "--progress", "json", "--info-json", str(tmp_path / "info.json")])
    assert rc == 0
    seg = read_image(out)
    assert seg.array.shape == case.image.array.shape
    truth = case.labels.array
    lv = 2 * ((seg.array == 3) & (truth == 3)).sum() / ((seg.array == 3).sum() + (truth == 3).sum())
    assert lv > 0.85
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert lines and lines[-1]["progress"] == 1.0
    assert json.loads((tmp_path / "info.json").read_text())["method"] == "registration"
    assert img.read_bytes() == before


def test_segment_from_landmarks_and_errors(tmp_path, capsys):
    case, img, seed = _files(tmp_path)
    lm = tmp_path / "lm.mrk.json"
    write_markups(case.landmarks, lm)
    out = tmp_path / "seg.nii.gz"
    assert main(["segment", str(img), "-o", str(out), "--landmarks", str(lm), "--device", "cpu", "--progress", "none"]) == 0
    assert (read_image(out).array == 3).any()
    # an input is never overwritten; --auto with a seed is a one-line error; nothing given = automatic start
    assert main(["segment", str(img), "-o", str(img), "--seed", str(seed)]) == 2
    assert main(["segment", str(img), "-o", str(out), "--auto", "--seed", str(seed)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-2].startswith("cardiacmotion: error: refusing to overwrite the input")
    assert err[-1].startswith("cardiacmotion: error: --auto builds its own seed and landmarks")
    assert main(["segment", str(img), "-o", str(out), "--device", "cpu", "--progress", "none"]) == 0
    assert "automatic start: LV found on slice" in capsys.readouterr().err


def test_benchmark_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["benchmark", "--cases", "1", "--methods", "registration", "--json", str(out), "--device", "cpu"]) == 0
    r = json.loads(out.read_text())
    row = r["results"][0]
    assert row["method"] == "registration" and row["frames_per_second"] > 0 and row["peak_python_mb"] > 0


def test_benchmark_memory_batched_and_frame_by_frame(tmp_path):
    out = tmp_path / "bench.json"
    rc = main(["benchmark", "--cases", "1", "--methods", "memory", "--frame-by-frame", "--json", str(out), "--device", "cpu"])
    if rc == 3:  # pragma: no cover - a checkout without Resources/Models
        pytest.skip("no bundled memory weights")
    assert rc == 0
    rows = {r["method"]: r for r in json.loads(out.read_text())["results"]}
    assert set(rows) == {"memory", "memory-frame-by-frame"}
    assert rows["memory"]["frames"] == rows["memory-frame-by-frame"]["frames"] > 0
    assert rows["memory-frame-by-frame"]["speed_ratio_vs_memory"] > 0
