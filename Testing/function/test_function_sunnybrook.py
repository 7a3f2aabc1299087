"""Sunnybrook expert contours: EF from the rasterised labels against the contour polygons themselves.

The reference is computed from the expert contour files directly (polygon areas by the shoelace
formula x pixel area x the 10 mm slice spacing, over the contoured slices), independently of the
rasterisation and of the function module. Skips cleanly without ``../shared/data``.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from cardiacmotion.function import compute_function

sunnybrook_io = pytest.importorskip("cardiacmotion.io.sunnybrook")

STUDIES = {"SCD0000101": "SC-HF-I-1", "SCD0000201": "SC-HF-I-2"}
_NAME = re.compile(r"IM-\d+-(\d+)-icontour", re.IGNORECASE)


def _shoelace(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _contour_volumes(cine, contours_dir) -> dict[int, float]:
    """Endocardial volume (ml) per contoured phase from the polygons."""
    where = {}
    for k, per_slice in enumerate(cine.meta["instance_numbers"]):
        for t, n in enumerate(per_slice):
            where[int(n)] = t
    pixel_area = float(np.linalg.norm(np.cross(cine.ijk_to_ras[:3, 0], cine.ijk_to_ras[:3, 1])))
    spacing = float(np.linalg.norm(cine.ijk_to_ras[:3, 2]))
    vol: dict[int, float] = {}
    for f in sorted(contours_dir.rglob("*icontour*.txt")):
        t = where[int(_NAME.search(f.name).group(1))]
        xy = np.loadtxt(f, ndmin=2)
        vol[t] = vol.get(t, 0.0) + _shoelace(xy) * pixel_area * spacing / 1000.0
    return vol


_CACHE: dict = {}


def _load(sunnybrook, name):
    if name not in _CACHE:  # DICOM loading takes about a second a study
        contours = sunnybrook / "contours" / STUDIES[name]
        cine, labels, endo, _epi = sunnybrook_io.load_sunnybrook(sunnybrook / name, contours)
        _CACHE[name] = (name, cine, labels, endo, contours)
    return _CACHE[name]


@pytest.fixture(params=sorted(STUDIES))
def study(request, sunnybrook):
    return _load(sunnybrook, request.param)


def test_sunnybrook_ef_matches_expert_contours(study):
    name, cine, labels, endo, contours = study
    result = compute_function(cine.with_array(labels))
    drawn = set(np.flatnonzero(endo.any(axis=1)).tolist())
    assert {result["ed_phase"], result["es_phase"]} == drawn  # ED/ES = the two contoured phases
    ref = _contour_volumes(cine, contours)
    ed = max(ref, key=ref.get)
    es = min(ref, key=ref.get)
    ref_ef = (ref[ed] - ref[es]) / ref[ed] * 100
    assert (result["ed_phase"], result["es_phase"]) == (ed, es)
    assert abs(result["lv_ef_pct"] - ref_ef) <= 0.5, (name, result["lv_ef_pct"], ref_ef)
    assert result["lv_edv_ml"] == pytest.approx(ref[ed], rel=0.03)
    assert result["lv_esv_ml"] == pytest.approx(ref[es], rel=0.03)
    # phases without contours are interpolated and said so; the RV was not drawn
    assert any("interpolated" in w for w in result["warnings"])
    assert result["rv_volume_ml"] is None
    if name == "SCD0000101":  # the published facts of the data README
        assert result["lv_edv_ml"] == pytest.approx(191, abs=4)
        assert result["lv_esv_ml"] == pytest.approx(141, abs=4)
        assert result["lv_ef_pct"] == pytest.approx(26, abs=1.5)
        assert result["lv_mass_g"] == pytest.approx(117, abs=6)
    # two contoured phases of 20: no rates from an interpolated curve
    assert result["peak_ejection_rate_ml_s"] is None


def test_cli_on_sunnybrook_with_the_dicom_image(tmp_path, sunnybrook):
    import json

    from cardiacmotion.cli.main import main
    from cardiacmotion.io import write_image

    name, cine, labels, _endo, _contours = _load(sunnybrook, "SCD0000101")
    seg_path = tmp_path / "seg.nii.gz"
    write_image(cine.with_array(labels), seg_path)
    out = tmp_path / "FUNCTION.json"
    assert main(["function", str(seg_path), "-o", str(out), "--image", str(sunnybrook / name),
                 "--plot", str(tmp_path / "curve.png")]) == 0
    r = json.loads(out.read_text())
    assert r["lv_ef_pct"] == pytest.approx(compute_function(cine.with_array(labels))["lv_ef_pct"], abs=1e-3)
    # frame times and the RR interval come from the DICOM image, not from the NIfTI
    np.testing.assert_allclose(r["frame_times_ms"], cine.frame_times_ms, atol=1e-3)
    rr = [v for v in cine.meta["rr_interval_ms"] if v]
    assert r["heart_rate_bpm"] == pytest.approx(60000 / np.median(rr), abs=0.01)
    assert (tmp_path / "FUNCTION.csv").is_file() and (tmp_path / "curve.png").is_file()
