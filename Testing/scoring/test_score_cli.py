"""`cardiacmotion score` end to end on files: outputs, one-line errors, inputs untouched."""
from __future__ import annotations

import json

import numpy as np
import pytest

from cardiacmotion.cli.main import main
from cardiacmotion.io import write_image
from cardiacmotion.io.markups import write_markups
from scoring_hearts import make_heart, rotation
from test_thickening import EXPECTED, _wall


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    d = tmp_path_factory.mktemp("score")
    heart = make_heart(wall=_wall, phases=2, direction=rotation([1.0, 0.4, -0.3], 25.0), anterior_deg=95.0)
    write_image(heart.image, d / "image.nii.gz")
    write_image(heart.labels, d / "seg.nii.gz")
    write_markups(heart.landmarks, d / "lm.mrk.json")
    return d


def _args(d, *extra):
    return ["score", str(d / "image.nii.gz"), "--seg", str(d / "seg.nii.gz"), "--landmarks", str(d / "lm.mrk.json"), *extra]


def test_score_writes_json_and_bullseyes(case, capsys):
    out = case / "scores.json"
    rc = main(_args(case, "-o", str(out), "--bullseye", str(case / "b.png"), "--thickening-bullseye", str(case / "t.png"),
                    "--rule", "thickening"))  # EXPECTED are the thickening rule's classes
    assert rc == 0
    scores = json.loads(out.read_text())
    assert scores["method"] == "thickening" and len(scores["segments"]) == 16
    # auto scores by thickening: recorded as better on held-out evidence (models.json), or, without that
    # record, because this 2-phase cine is too short for the learned scorer; the note says which
    assert "auto: thickening" in scores["method_note"]
    assert "phases" in scores["method_note"] or "held-out evidence" in scores["method_note"]
    assert {s["id"]: s["score"] for s in scores["segments"]} == EXPECTED
    assert scores["ed_phase"] == 0 and scores["es_phase"] == 1 and scores["rule"] == "thickening"
    for s in scores["segments"]:
        assert set(s) >= {"id", "name", "score", "label", "thickening_pct", "endocardial_excursion_mm"}
    assert (case / "b.png").read_bytes()[:4] == b"\x89PNG" and (case / "t.png").stat().st_size > 5000


def test_score_errors_are_one_line(case, capsys):
    before = {p.name: p.read_bytes() for p in case.iterdir()}
    assert main(_args(case, "-o", str(case / "x.json"), "--method", "learned")) == 3
    assert main(_args(case, "-o", str(case / "seg.nii.gz"))) == 2  # never overwrite an input
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("cardiacmotion: error:") for line in err)
    assert "learned" in err[0] and "overwrite" in err[1]
    # landmarks missing a name
    pts = {"LV center": np.zeros(3), "RV anterior insertion": np.ones(3)}
    write_markups(pts, case / "bad.mrk.json")
    args = _args(case, "-o", str(case / "x.json"))
    args[args.index(str(case / "lm.mrk.json"))] = str(case / "bad.mrk.json")
    assert main(args) == 2
    assert "RV inferior insertion" in capsys.readouterr().err
    assert not (case / "x.json").exists()
    for name, data in before.items():
        assert (case / name).read_bytes() == data
