"""Finding a cohort's studies: folders of cases, image files with sidecars, CSV/JSON manifests."""
from __future__ import annotations

import json

import pytest

from cardiacmotion.cohort.studies import load_studies, read_manifest
from cardiacmotion.errors import InputError


def test_folder_of_case_folders_dicom_folders_and_files(tmp_path):
    case = tmp_path / "caseA"
    case.mkdir()
    for name in ("image.nii.gz", "seed.nii.gz", "landmarks.mrk.json"):
        (case / name).write_bytes(b"x")
    (case / "truth.json").write_text(json.dumps({"lv_ef_pct": 61.5, "seed_phase": 3}))
    dicom = tmp_path / "patient 2"
    dicom.mkdir()
    (dicom / "IM0001.dcm").write_bytes(b"x")
    for name in ("echo1.mp4", "echo1.seed.nii.gz", "echo1.mrk.json", "cine3.nii.gz"):
        (tmp_path / name).write_bytes(b"x")
    studies = {s.id: s for s in load_studies(tmp_path)}
    assert sorted(studies) == ["caseA", "cine3", "echo1", "patient_2"]
    a = studies["caseA"]
    assert a.path.endswith("caseA/image.nii.gz") and a.seed.endswith("seed.nii.gz") and a.reference_ef == 61.5
    assert a.landmarks.endswith("landmarks.mrk.json") and a.seed_phase == 3
    assert studies["patient_2"].path == str(dicom.resolve()) and studies["patient_2"].seed is None
    e = studies["echo1"]
    assert e.seed.endswith("echo1.seed.nii.gz") and e.landmarks.endswith("echo1.mrk.json")
    assert studies["cine3"].seed is None and studies["cine3"].landmarks is None


def test_csv_manifest_relative_paths_reference_column_and_duplicates(tmp_path):
    (tmp_path / "m").mkdir()
    manifest = tmp_path / "m" / "cohort.csv"
    manifest.write_text("id,path,series,seed,seed_phase,modality,ed_phase,es_phase,expert_ef,site\n"
                        "p1,../data/p1,1.2.3,seeds/p1.nii.gz,0,mr,0,9,55.5,A\n"
                        "p1,/abs/p2.mp4,,,,echo,,,,B\n")
    studies = read_manifest(manifest, reference_column="expert_ef")
    assert [s.id for s in studies] == ["p1", "p1-2"]
    s = studies[0]
    assert s.path == str((tmp_path / "data" / "p1").resolve())
    assert s.seed == str((tmp_path / "m" / "seeds" / "p1.nii.gz").resolve())
    assert (s.series, s.seed_phase, s.modality, s.ed_phase, s.es_phase, s.reference_ef) == ("1.2.3", 0, "mr", 0, 9, 55.5)
    assert s.extra == {"site": "A"}
    assert studies[1].path == "/abs/p2.mp4" and studies[1].reference_ef is None and studies[1].modality == "echo"


def test_json_manifest_and_bad_manifests(tmp_path):
    good = tmp_path / "c.json"
    good.write_text(json.dumps({"studies": [{"path": "a.nii.gz", "landmarks": "a.mrk.json", "spacing": "0.3 0.3"}]}))
    (s,) = read_manifest(good)
    assert s.id == "a" and s.landmarks.endswith("a.mrk.json") and s.spacing == [0.3, 0.3]
    for text, word in (("id,seed\nx,y\n", "no 'path'"), ("path,ed_phase\na,first\n", "whole number"),
                       ("path\n", "no study")):
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(InputError, match=word):
            read_manifest(bad)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="unreadable manifest"):
        read_manifest(tmp_path / "bad.json")
    with pytest.raises(InputError, match="no such file"):
        load_studies(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no studies"):
        load_studies(empty)
