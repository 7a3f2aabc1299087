"""Property-based fuzzing (hypothesis) of the readers at the boundary.

For any document or any mutation of a valid file, a reader either returns a well-formed value
or raises the product's own one-line error (:class:`InputError` / :class:`WeightsError`); never
another exception type (the "internal error" exit 70), never a non-finite number inside.
"""
from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardiacmotion.errors import InputError, WeightsError

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=12))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=20)
#: documents shaped like a markups file, with every leaf possibly of the wrong type
point = st.fixed_dictionaries({}, optional={"label": st.one_of(st.sampled_from(["LV center", "Apex"]), scalars),
                                            "position": st.one_of(st.lists(st.one_of(st.floats(-100, 100), scalars), max_size=4), scalars),
                                            "positionStatus": st.one_of(st.just("defined"), scalars)})
markups_like = st.fixed_dictionaries({"markups": st.one_of(
    st.lists(st.fixed_dictionaries({}, optional={"coordinateSystem": st.one_of(st.sampled_from(["LPS", "RAS", "XYZ"]), scalars),
                                                  "controlPoints": st.one_of(st.lists(st.one_of(point, scalars), max_size=4), scalars)}),
             max_size=2),
    json_values)})


def _dump(doc) -> str:
    return json.dumps(doc, allow_nan=True)


@SETTINGS
@given(doc=st.one_of(json_values, markups_like))
def test_markups_reader_total(tmp_path, doc):
    from cardiacmotion.io.markups import read_markups

    path = tmp_path / "lm.mrk.json"
    path.write_text(_dump(doc))
    try:
        points = read_markups(path)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    for value in points.values():
        assert value.shape == (3,) and np.all(np.isfinite(value))


@SETTINGS
@given(doc=st.one_of(json_values, st.fixed_dictionaries({}, optional={
    "frame_times_ms": st.one_of(st.lists(st.one_of(st.floats(0, 2000), scalars), max_size=5), scalars),
    "modality": st.one_of(st.sampled_from(["MR", "US"]), scalars),
    "view": scalars, "slice_thickness_mm": scalars})))
def test_nifti_extension_total(doc):
    from cardiacmotion.io.schema import NIFTI_META, parse_json, validate

    try:
        meta = validate(parse_json(_dump(doc).encode(), "ext"), NIFTI_META, "ext")
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(meta, dict)
    if "frame_times_ms" in meta:
        assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in meta["frame_times_ms"])


@SETTINGS
@given(doc=st.one_of(json_values, st.fixed_dictionaries({"models": st.lists(st.one_of(
    st.fixed_dictionaries({"id": st.one_of(st.just("cstm-v1.0.0"), scalars), "file": st.one_of(st.just("x.pt"), scalars)}),
    scalars), max_size=3)})))
def test_manifest_reader_total(tmp_path, doc):
    from cardiacmotion.models.weights import manifest_entry, read_manifest

    (tmp_path / "models.json").write_text(_dump(doc))
    try:
        data = read_manifest(tmp_path)
        manifest_entry("cstm-", tmp_path)
    except WeightsError as exc:
        assert "\n" not in str(exc)
        return
    assert all(isinstance(m["id"], str) and isinstance(m["file"], str) for m in data["models"])


@pytest.fixture(scope="module")
def valid_nifti(tmp_path_factory) -> bytes:
    from fuzz_support import tiny_mr

    from cardiacmotion.io import write_image

    path = tmp_path_factory.mktemp("nii") / "ok.nii"
    write_image(tiny_mr(phases=3, slices=2, size=8)[0], path)
    return path.read_bytes()


@SETTINGS
@given(edits=st.lists(st.tuples(st.integers(0, 351), st.integers(0, 255)), min_size=1, max_size=6),
       gz=st.booleans())
def test_nifti_header_mutations(tmp_path, valid_nifti, edits, gz):
    """Random bytes in the 348-byte header (sizes, types, pixdim, offsets, codes)."""
    from cardiacmotion.io import read_image

    raw = bytearray(valid_nifti)
    for pos, value in edits:
        raw[pos] = value
    path = tmp_path / ("m.nii.gz" if gz else "m.nii")
    path.write_bytes(gzip.compress(bytes(raw)) if gz else bytes(raw))
    try:
        cine = read_image(path)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert np.all(np.isfinite(cine.array)) and np.all(np.isfinite(cine.ijk_to_ras))
    assert np.all(np.linalg.norm(cine.ijk_to_ras[:3, :3], axis=0) > 0)


@SETTINGS
@given(dims=st.lists(st.integers(-3, 70000), min_size=1, max_size=5),
       spacing=st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 5)), min_size=1, max_size=5),
       etype=st.sampled_from(["MET_FLOAT", "MET_UCHAR", "MET_SHORT", "MET_WHAT"]),
       compressed=st.booleans(), data=st.binary(max_size=600))
def test_mhd_header_fuzz(tmp_path, dims, spacing, etype, compressed, data):
    from cardiacmotion.io import read_image

    (tmp_path / "x.mhd").write_text(
        f"ObjectType = Image\nNDims = {len(dims)}\nDimSize = {' '.join(map(str, dims))}\n"
        f"ElementSpacing = {' '.join(map(str, spacing))}\nElementType = {etype}\n"
        f"CompressedData = {'True' if compressed else 'False'}\nElementDataFile = x.raw\n")
    (tmp_path / "x.raw").write_bytes(data)
    try:
        cine = read_image(tmp_path / "x.mhd")
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert np.all(np.isfinite(cine.array)) and np.all(np.isfinite(cine.ijk_to_ras))


@SETTINGS
@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 6), st.integers(1, 6)),
       bad=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from([np.nan, np.inf, -np.inf])), max_size=3))
def test_non_finite_voxels_refused(shape, bad):
    from cardiacmotion.cine import Cine
    from cardiacmotion.io.validate import check_image_values

    arr = np.ones(shape, np.float32)
    for pos, value in bad:
        arr.reshape(-1)[pos % arr.size] = value
    cine = Cine(arr, np.diag([1.0, 1.0, 2.0, 1.0]), np.arange(shape[0]) * 40.0)
    if np.all(np.isfinite(arr)):
        check_image_values(cine, "x")
    else:
        with pytest.raises(InputError, match="NaN or infinite"):
            check_image_values(cine, "x")


@SETTINGS
@given(data=st.recursive(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text(max_size=4), st.none()),
                         lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
                         max_leaves=15))
def test_json_outputs_never_hold_nan(tmp_path, data):
    from cardiacmotion.cli.common import write_json

    write_json(data, tmp_path / "o.json")
    json.loads((tmp_path / "o.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} written into JSON"))


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ed=st.one_of(st.none(), st.integers(-20, 20)), es=st.one_of(st.none(), st.integers(-20, 20)),
       normal=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
       akinetic=st.one_of(st.none(), st.floats(-50, 60)))
def test_score_options_fuzz(tmp_path_factory, fuzz_base, ed, es, normal, akinetic):
    """Any ED/ES phase and threshold: exit 0 with valid JSON (no NaN), or exit 2 with one line and no output."""
    from fuzz_support import run_cli

    d = tmp_path_factory.mktemp("score_opts")
    argv = ["score", fuzz_base["image"], "--seg", fuzz_base["labels"], "--landmarks", fuzz_base["landmarks"],
            "-o", "s.json", "--method", "thickening"]
    for flag, value in (("--ed-phase", ed), ("--es-phase", es), ("--normal-pct", normal), ("--akinetic-pct", akinetic)):
        if value is not None:
            argv += [flag, repr(value) if isinstance(value, float) else str(value)]
    result = run_cli(argv, cwd=d)
    if result.code == 0:
        json.loads((d / "s.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in SCORES.json"))
    else:
        assert result.code == 2 and len(result.stderr.splitlines()) == 1, result.stderr
        assert "internal error" not in result.stderr and list(d.iterdir()) == []
