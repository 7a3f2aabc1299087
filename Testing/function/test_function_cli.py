"""FUNCTION.json + CSV + PNG, and ``cardiacmotion function`` end to end on real NIfTI files."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.cli.main import main
from cardiacmotion.function import compute_function, write_function_outputs
from cardiacmotion.io import write_image
from cardiacmotion.io.markups import write_markups
from fn_helpers import echo_landmarks, echo_matrix, ellipse_frame, mr_box_case

KEYS = {
    "ed_phase", "es_phase", "ed_time_ms", "es_time_ms", "frame_times_ms", "heart_rate_bpm", "lv_volume_ml",
    "lv_edv_ml", "lv_esv_ml", "lv_sv_ml", "lv_ef_pct", "lv_mass_g", "rv_volume_ml", "rv_edv_ml", "rv_esv_ml",
    "rv_sv_ml", "rv_ef_pct", "peak_ejection_rate_ml_s", "peak_filling_rate_ml_s", "method", "units", "warnings",
    "lv_slices_per_phase",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _cli(*args, capsys=None):
    """Run ``cardiacmotion function``: in-process with ``capsys``, else as a real subprocess."""
    if capsys is not None:
        capsys.readouterr()
        code = main(["function", *map(str, args)])
        return code, capsys.readouterr().err
    proc = subprocess.run([sys.executable, "-m", "cardiacmotion", "function", *map(str, args)],
                          capture_output=True, text=True)
    return proc.returncode, proc.stderr


def test_outputs_json_csv_png(tmp_path):
    seg, truth = mr_box_case()
    r = compute_function(seg)
    assert set(r) == KEYS
    out = tmp_path / "FUNCTION.json"
    write_function_outputs(r, out, tmp_path / "curve.png")
    assert json.loads(out.read_text()) == r
    rows = list(csv.DictReader((tmp_path / "FUNCTION.csv").open()))
    assert len(rows) == seg.phases
    np.testing.assert_allclose([float(x["lv_volume_ml"]) for x in rows], truth["lv"], atol=1e-3)
    assert [x["event"] for x in rows if x["event"]] == ["ED", "ES"] and rows[4]["event"] == "ES"
    png = (tmp_path / "curve.png").read_bytes()
    assert png[:8] == PNG_MAGIC and len(png) > 10_000
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary left behind


def test_cli_mr_end_to_end(tmp_path, capsys):
    seg, truth = mr_box_case()
    path = tmp_path / "seg.nii.gz"
    write_image(seg, path)
    out = tmp_path / "res" / "FUNCTION.json"
    out.parent.mkdir()
    assert main(["function", str(path), "-o", str(out), "--plot", str(tmp_path / "res" / "c.png"),
                 "--image", str(path)]) == 0
    r = json.loads(out.read_text())
    assert set(r) == KEYS
    assert abs(r["lv_edv_ml"] - truth["lv"][0]) <= 0.5 and abs(r["lv_esv_ml"] - truth["lv"][4]) <= 0.5
    assert abs(r["lv_mass_g"] - truth["mass"]) <= 0.5
    assert (tmp_path / "res" / "FUNCTION.csv").is_file() and (tmp_path / "res" / "c.png").is_file()
    assert r["frame_times_ms"][1] == 85.0
    assert "EF" in capsys.readouterr().err
    # trigger-time phases from the command line
    assert main(["function", str(path), "-o", str(tmp_path / "f2.json"), "--ed-phase", "1"]) == 0
    assert "trigger times" in json.loads((tmp_path / "f2.json").read_text())["method"]


def test_cli_echo_biplane_with_landmarks(tmp_path, capsys):
    px, centre = 0.3, (120.0, 110.0)
    sizes = [(34.0, 16.0), (30.0, 13.5), (27.0, 11.5)]
    m4, m2 = echo_matrix(px), echo_matrix(px, angles=(0.4, 0.1, 1.3))
    files = {}
    for name, m, angle, k in (("a4c", m4, 0.5, 1.0), ("a2c", m2, -0.3, 0.8)):
        frames = np.stack([ellipse_frame((240, 240), px, centre, angle, a, b * k, half=True) for a, b in sizes])
        write_image(Cine(frames[:, None], m, np.arange(3) * 45.0, modality="US", view=name.upper()), tmp_path / f"{name}.nii.gz")
        write_markups(echo_landmarks(m, px, centre, angle, *sizes[0][:1], sizes[0][1] * k), tmp_path / f"{name}.mrk.json")
        files[name] = tmp_path / f"{name}.nii.gz"
    out = tmp_path / "F.json"
    code, err = _cli(files["a4c"], "-o", out, "--landmarks", tmp_path / "a4c.mrk.json",
                     "--a2c", files["a2c"], "--a2c-landmarks", tmp_path / "a2c.mrk.json", "--progress", "none",
                     "--plot", tmp_path / "echo.png", capsys=capsys)
    assert code == 0, err
    r = json.loads(out.read_text())
    truth = [2 / 3 * np.pi * a * b * (b * 0.8) / 1000 for a, b in sizes]
    np.testing.assert_allclose(r["lv_volume_ml"], truth, rtol=0.02)
    assert "biplane" in r["method"] and "same points every phase" in r["method"]
    assert r["rv_volume_ml"] is None
    assert (tmp_path / "echo.png").read_bytes()[:8] == PNG_MAGIC and (tmp_path / "F.csv").is_file()


def test_cli_bad_inputs_one_line(tmp_path, capsys):
    seg, _ = mr_box_case()
    path = tmp_path / "seg.nii.gz"
    write_image(seg, path)
    before = path.read_bytes()
    # never overwrite an input
    code, err = _cli(path, "-o", path)
    assert code == 2 and "refusing to overwrite" in err and err.count("\n") == 1
    assert path.read_bytes() == before
    # missing file
    code, err = _cli(tmp_path / "nope.nii.gz", "-o", tmp_path / "f.json", capsys=capsys)
    assert code == 2 and "no such file" in err and err.count("\n") == 1
    # unknown labels
    bad = seg.array.copy()
    bad[0, 3, 0, 0] = 9
    write_image(seg.with_array(bad), tmp_path / "bad.nii.gz")
    code, err = _cli(tmp_path / "bad.nii.gz", "-o", tmp_path / "f.json", capsys=capsys)
    assert code == 2 and "unknown labels" in err and err.count("\n") == 1
    # a single frame
    write_image(Cine(seg.array[:1], seg.ijk_to_ras, [0.0], modality="MR"), tmp_path / "one.nii.gz")
    code, err = _cli(tmp_path / "one.nii.gz", "-o", tmp_path / "f.json", capsys=capsys)
    assert code == 2 and "at least 2 phases" in err and err.count("\n") == 1
    # biplane on MR, landmarks without a second view
    code, err = _cli(path, "-o", tmp_path / "f.json", "--a2c", path, capsys=capsys)
    assert code == 2 and "echo" in err
    code, err = _cli(path, "-o", tmp_path / "f.json", "--a2c-landmarks", path, capsys=capsys)
    assert code == 2 and "--a2c" in err
    code, err = _cli(path, "-o", tmp_path / "f.csv", capsys=capsys)
    assert code == 2 and ".json" in err
    code, err = _cli(path, "-o", tmp_path / "f.json", "--plot", tmp_path / "c.pdf", capsys=capsys)
    assert code == 2 and ".png" in err
    assert not (tmp_path / "f.json").exists() and not (tmp_path / "f.csv").exists()


def test_figure_marks_ed_es_and_lists_values():
    from cardiacmotion.function.figure import curve_figure

    seg, _ = mr_box_case()
    r = compute_function(seg)
    ax = curve_figure(r).axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(f"EDV {r['lv_edv_ml']:.1f} ml" in t and f"EF {r['lv_ef_pct']:.1f} %" in t for t in texts)
    assert any(t.startswith("RV") and f"EF {r['rv_ef_pct']:.1f} %" in t for t in texts)
    assert any("ED  phase 0" in t for t in texts) and any("ES  phase 4" in t for t in texts)
    vlines = [ln.get_xdata()[0] for ln in ax.get_lines() if len(ln.get_xdata()) == 2 and ln.get_xdata()[0] == ln.get_xdata()[1]]
    assert r["ed_time_ms"] in vlines and r["es_time_ms"] in vlines
