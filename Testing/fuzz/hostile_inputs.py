"""The hand-made hostile cases: one builder per case, grouped by the classes of issue 19's table.

Each builder gets ``(base, case)`` (the shared tiny inputs as paths, and a folder for this case's
own hostile files) and returns a :class:`Case`: the command line, the documented exit code and a
piece of the expected one-line reason. Outputs are always asked for in ``out/`` (or a location
that cannot be written), which must be empty afterwards.
"""
from __future__ import annotations

import gzip
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from fuzz_support import REPO, nifti_with

BUNDLED = REPO / "Resources" / "Models"
REG = ["--method", "registration"]


@dataclass
class Case:
    argv: list
    code: int
    reason: str = ""
    env: dict = field(default_factory=dict)


def _nan_image(base: dict, case: Path, share: float) -> str:
    import nibabel as nib

    img = nib.load(base["image"])
    data = np.asarray(img.dataobj).astype(np.float32)
    mask = np.random.default_rng(1).random(data.shape) < share
    data[mask] = np.nan
    out = case / f"nan{int(share * 100)}.nii.gz"
    nib.save(nib.Nifti1Image(data, img.affine, img.header), str(out))
    return str(out)


# -- non-finite images ---------------------------------------------------------------------------
def nan5_info(base, case):
    return Case(["info", _nan_image(base, case, 0.05)], 2, "NaN or infinite")


def nan5_segment(base, case):
    return Case(["segment", _nan_image(base, case, 0.05), "--seed", base["seed"], "-o", "out/seg.nii.gz", *REG], 2, "NaN")


def all_nan_segment(base, case):
    return Case(["segment", _nan_image(base, case, 1.0), "--seed", base["seed"], "-o", "out/seg.nii.gz", *REG], 2, "NaN")


def nan5_analyze(base, case):
    return Case(["analyze", _nan_image(base, case, 0.05), "--seed", base["seed"], "-o", "out/a", *REG, "--no-scene"], 2, "NaN")


def nan5_score(base, case):
    return Case(["score", _nan_image(base, case, 0.05), "--seg", base["labels"], "--landmarks", base["landmarks"],
                 "-o", "out/s.json", "--method", "thickening"], 2, "NaN")


def nan5_function_image(base, case):
    return Case(["function", base["labels"], "--image", _nan_image(base, case, 0.05), "-o", "out/f.json"], 2, "NaN")


def inf_voxel_info(base, case):
    path = nifti_with(case, "inf.nii.gz", np.where(np.eye(8)[:, :, None, None] > 0, np.inf, 1.0).astype(np.float32) * np.ones((8, 8, 2, 3), np.float32))
    return Case(["info", path], 2, "NaN or infinite")


def dicom_rescale_nan(base, case):
    import pydicom

    from dicom_synth import write_mr_series

    write_mr_series(case / "dcm", slices=3, phases=4)
    for f in sorted((case / "dcm").iterdir())[:1]:
        ds = pydicom.dcmread(f)
        ds.RescaleSlope = "nan"
        ds.save_as(f)
    return Case(["info", str(case / "dcm")], 2, "NaN or infinite")


# -- corrupt user weights (CSTM via segment, MMSA via score) ---------------------------------------
def _flip(src: Path, dst: Path, nbytes: int = 4096) -> str:
    data = bytearray(src.read_bytes())
    start = len(data) // 2
    noise = np.random.default_rng(3).integers(1, 256, nbytes, dtype=np.uint8).tobytes()
    data[start:start + nbytes] = bytes(a ^ b for a, b in zip(data[start:start + nbytes], noise))
    dst.write_bytes(bytes(data))
    return str(dst)


def _nan_checkpoint(src: Path, dst: Path) -> str:
    import torch

    payload = torch.load(src, map_location="cpu", weights_only=True)
    payload["state_dict"] = {k: (torch.full_like(v, float("nan")) if v.is_floating_point() else v)
                             for k, v in payload["state_dict"].items()}
    torch.save(payload, dst)
    return str(dst)


def _shuffled_checkpoint(src: Path, dst: Path) -> str:
    """Finite values, right shapes, no digest, but a broken network: only the self-check can tell."""
    import torch

    payload = torch.load(src, map_location="cpu", weights_only=True)
    g = torch.Generator().manual_seed(0)
    payload["state_dict"] = {k: (v.reshape(-1)[torch.randperm(v.numel(), generator=g)].reshape(v.shape)
                                 if v.is_floating_point() and v.dim() > 1 else v) for k, v in payload["state_dict"].items()}
    torch.save(payload, dst)
    return str(dst)


def _digest_mismatch(src: Path, dst: Path) -> str:
    import torch

    from cardiacmotion.models.weights import save_checkpoint

    payload = torch.load(src, map_location="cpu", weights_only=True)
    save_checkpoint(dst, payload["arch_id"], payload["config"], payload["state_dict"], payload.get("meta", {}))
    tampered = torch.load(dst, map_location="cpu", weights_only=True)
    key = next(k for k, v in tampered["state_dict"].items() if v.is_floating_point())
    tampered["state_dict"][key] = tampered["state_dict"][key] + 1e-3  # digest kept: must not match
    torch.save(tampered, dst)
    return str(dst)


def _segment_with(weights: str, method: str) -> Case:
    return Case(["segment", "{image}", "--seed", "{seed}", "-o", "out/seg.nii.gz", "--method", method, "--weights", weights], 4)


def cstm_bitflip_memory(base, case):
    return _segment_with(_flip(BUNDLED / "cstm-v0.2.0.pt", case / "cstm.pt"), "memory")


def cstm_bitflip_auto(base, case):
    return _segment_with(_flip(BUNDLED / "cstm-v0.2.0.pt", case / "cstm.pt"), "auto")


def cstm_nan_auto(base, case):
    c = _segment_with(_nan_checkpoint(BUNDLED / "cstm-v0.2.0.pt", case / "nan.pt"), "auto")
    c.reason = "NaN"
    return c


def cstm_shuffled_auto(base, case):
    c = _segment_with(_shuffled_checkpoint(BUNDLED / "cstm-v0.2.0.pt", case / "shuffled.pt"), "auto")
    c.reason = "self-check"
    return c


def cstm_digest_mismatch(base, case):
    c = _segment_with(_digest_mismatch(BUNDLED / "cstm-v0.2.0.pt", case / "tampered.pt"), "memory")
    c.reason = "digest"
    return c


def cstm_garbage_auto(base, case):
    (case / "garbage.pt").write_bytes(b"not a checkpoint" * 100)
    return _segment_with(str(case / "garbage.pt"), "auto")


def cstm_given_mmsa(base, case):
    return _segment_with(str(BUNDLED / "mmsa-v0.2.0.pt"), "memory")


def _score_with(weights: str, method: str) -> Case:
    return Case(["score", "{image}", "--seg", "{labels}", "--landmarks", "{landmarks}", "-o", "out/s.json",
                 "--method", method, "--weights", weights, "--bullseye", "out/b.png"], 4)


def mmsa_bitflip_learned(base, case):
    return _score_with(_flip(BUNDLED / "mmsa-v0.2.0.pt", case / "mmsa.pt"), "learned")


def mmsa_bitflip_auto(base, case):
    return _score_with(_flip(BUNDLED / "mmsa-v0.2.0.pt", case / "mmsa.pt"), "auto")


def mmsa_nan_auto(base, case):
    c = _score_with(_nan_checkpoint(BUNDLED / "mmsa-v0.2.0.pt", case / "nan.pt"), "auto")
    c.reason = "NaN"
    return c


def mmsa_garbage_learned(base, case):
    (case / "g.pt").write_bytes(bytes(range(256)) * 16)
    return _score_with(str(case / "g.pt"), "learned")


# -- invented geometry / data ----------------------------------------------------------------------
def nifti_zero_pixdim(base, case):
    path = nifti_with(case, "z.nii.gz", np.ones((8, 8, 3, 4), np.float32), zooms=(0, 0, 0, 0), codes=0)
    return Case(["info", path], 2, "voxel size")


def nifti_nan_sform(base, case):
    path = Path(nifti_with(case, "n.nii", np.ones((8, 8, 3, 4), np.float32)))
    raw = bytearray(path.read_bytes())
    struct.pack_into("<f", raw, 312 + 8, float("nan"))  # srow_z[2]: the slice spacing
    path.write_bytes(bytes(raw))
    return Case(["info", str(path)], 2)


def mhd_garbage_compressed(base, case):
    (case / "g.mhd").write_text("ObjectType = Image\nNDims = 3\nDimSize = 16 16 4\nElementType = MET_FLOAT\n"
                                "CompressedData = True\nCompressedDataSize = 900\nElementDataFile = g.zraw\n")
    (case / "g.zraw").write_bytes(np.random.default_rng(5).bytes(900))
    return Case(["info", str(case / "g.mhd")], 2, "compressed data")


def mhd_zero_spacing(base, case):
    (case / "z.mhd").write_text("ObjectType = Image\nNDims = 3\nDimSize = 8 8 4\nElementSpacing = 0 0 1\n"
                                "ElementType = MET_FLOAT\nElementDataFile = z.raw\n")
    (case / "z.raw").write_bytes(np.ones(256, np.float32).tobytes())
    return Case(["info", str(case / "z.mhd")], 2)


def seqnrrd_zero_direction(base, case):
    path = case / "z.seq.nrrd"
    path.write_bytes(b"NRRD0005\ntype: float\ndimension: 3\nsizes: 10 10 4\nencoding: raw\nendian: little\n"
                     b"space dimension: 3\nspace directions: (0,0,0) (0,1,0) none\nkinds: domain domain list\n\n" + bytes(1600))
    return Case(["info", str(path)], 2)


# -- another patient's series (issue 18's contract: refused with the list, exit 2) ------------------
def dicom_second_study_in_subfolder(base, case):
    from dicom_synth import write_mr_series

    write_mr_series(case / "dcm", slices=3, phases=4, series_number=1)
    write_mr_series(case / "dcm" / "other", slices=4, phases=5, series_number=7, origin=(90.0, 0, 0))
    return Case(["info", str(case / "dcm")], 2)


# -- memory from the header, not the file ------------------------------------------------------------
def nifti_claims_21gb(base, case):
    hdr = bytearray(352)
    struct.pack_into("<i", hdr, 0, 348)
    struct.pack_into("<8h", hdr, 40, 4, 2048, 2048, 640, 2, 1, 1, 1)  # 2048*2048*640*2 float32 = 21 GB
    struct.pack_into("<hh", hdr, 70, 16, 32)
    struct.pack_into("<8f", hdr, 76, 1, 1, 1, 1, 1, 0, 0, 0)
    struct.pack_into("<f", hdr, 108, 352.0)
    hdr[344:348] = b"n+1\0"
    (case / "big.nii.gz").write_bytes(gzip.compress(bytes(hdr) + bytes(3000)))
    return Case(["info", str(case / "big.nii.gz")], 2, "claims")


def nifti_claims_21gb_segment(base, case):
    c = nifti_claims_21gb(base, case)
    return Case(["segment", c.argv[1], "--seed", base["seed"], "-o", "out/seg.nii.gz", *REG], 2, "claims")


def dicom_rows_65535(base, case):
    import pydicom

    from dicom_synth import write_mr_series

    write_mr_series(case / "dcm", slices=3, phases=4)
    for f in sorted((case / "dcm").iterdir()):
        ds = pydicom.dcmread(f)
        ds.Rows = 65535
        ds.Columns = 65535
        ds.save_as(f)
    return Case(["info", str(case / "dcm")], 2)


def mhd_claims_huge(base, case):
    (case / "h.mhd").write_text("ObjectType = Image\nNDims = 4\nDimSize = 4096 4096 64 30\nElementType = MET_FLOAT\n"
                                "CompressedData = True\nElementDataFile = h.zraw\n")
    import zlib

    (case / "h.zraw").write_bytes(zlib.compress(bytes(4000)))
    return Case(["info", str(case / "h.mhd")], 2, "claims")


def seqnrrd_claims_huge(base, case):
    path = case / "h.seq.nrrd"
    path.write_bytes(b"NRRD0005\ntype: float\ndimension: 4\nsizes: 100000 100000 100 10\nencoding: gzip\nendian: little\n"
                     b"kinds: domain domain domain list\n\n" + gzip.compress(bytes(3000)))
    return Case(["info", str(path)], 2)


# -- malformed JSON where a dict/list/number is expected ----------------------------------------------
def _nifti_ext(case: Path, ext: bytes) -> str:
    return nifti_with(case, "e.nii.gz", np.ones((8, 8, 3, 4), np.float32), extension=ext)


def nifti_ext_list(base, case):
    return Case(["info", _nifti_ext(case, b"[1, 2, 3]")], 2, "JSON extension")


def nifti_ext_string_times(base, case):
    return Case(["info", _nifti_ext(case, json.dumps({"frame_times_ms": ["0", "40", "80", "120"]}).encode())], 2, "frame_times_ms[0]")


def nifti_ext_int_modality(base, case):
    return Case(["info", _nifti_ext(case, b'{"modality": 7}')], 2, "modality")


def nifti_ext_not_json(base, case):
    return Case(["info", _nifti_ext(case, b"\xff\xfe not json")], 2, "JSON")


def _markups(case: Path, doc) -> str:
    path = case / "lm.mrk.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def _segment_landmarks(path: str) -> Case:
    return Case(["segment", "{image}", "--landmarks", path, "-o", "out/seg.nii.gz", *REG], 2, "markups")


def markups_is_string(base, case):
    return _segment_landmarks(_markups(case, {"markups": "RV anterior insertion"}))


def markups_points_ints(base, case):
    return _segment_landmarks(_markups(case, {"markups": [{"controlPoints": [1, 2, 3]}]}))


def markups_points_strings(base, case):
    return _segment_landmarks(_markups(case, {"markups": [{"controlPoints": ["a", "b", "c"]}]}))


def markups_position_strings(base, case):
    return _segment_landmarks(_markups(case, {"markups": [{"controlPoints": [{"label": "LV center", "position": ["1", "2", "3"]}]}]}))


def markups_deeply_nested(base, case):
    return _segment_landmarks(_markups(case, "[" * 200000 + "]" * 200000))


def markups_score_list(base, case):
    c = Case(["score", "{image}", "--seg", "{labels}", "--landmarks", _markups(case, [1, 2]), "-o", "out/s.json",
              "--method", "thickening"], 2, "markups")
    return c


def markups_function_nan(base, case):
    return Case(["function", "{labels}", "--landmarks", _markups(case, '{"markups": [{"controlPoints": [{"position": [NaN, 1, 2]}]}]}'),
                 "-o", "out/f.json"], 2, "markups")


def models_json_broken(base, case):
    (case / "models").mkdir()
    (case / "models" / "models.json").write_text('{"models": [{"id": 3')
    return Case(["segment", "{image}", "--seed", "{seed}", "-o", "out/seg.nii.gz", "--method", "memory"], 4, "manifest",
                env={"CARDIACMOTION_MODELS": str(case / "models")})


def models_json_wrong_types(base, case):
    (case / "models").mkdir()
    (case / "models" / "models.json").write_text('{"models": [{"id": "cstm-v9.0.0", "file": ["x"]}]}')
    return Case(["segment", "{image}", "--seed", "{seed}", "-o", "out/seg.nii.gz", "--method", "memory"], 4, "file",
                env={"CARDIACMOTION_MODELS": str(case / "models")})


# -- unwritable or impossible output paths --------------------------------------------------------------
def _unwritable_dir(case: Path) -> str:
    import os

    if os.geteuid() == 0:  # root writes anywhere a mode allows: use a read-only filesystem
        return "/proc"
    ro = case / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    return str(ro)


def segment_readonly(base, case):
    return Case(["segment", "{image}", "--seed", "{seed}", "-o", f"{_unwritable_dir(case)}/seg.nii.gz", *REG], 2, "not writable")


def segment_txt_suffix(base, case):
    return Case(["segment", "{image}", "--seed", "{seed}", "-o", "out/seg.txt", *REG], 2, "unknown output type")


def segment_folder_is_file(base, case):
    (case / "afile").write_text("x")
    return Case(["segment", "{image}", "--seed", "{seed}", "-o", str(case / "afile" / "seg.nii.gz"), *REG], 2, "is a file")


def segment_output_is_folder(base, case):
    (case / "seg.nii.gz").mkdir()
    return Case(["segment", "{image}", "--seed", "{seed}", "-o", str(case / "seg.nii.gz"), *REG], 2, "existing folder")


def segment_output_is_input(base, case):
    return Case(["segment", "{image}", "--seed", "{seed}", "-o", "{seed}", *REG], 2, "input")


def analyze_output_is_file(base, case):
    (case / "afile").write_text("x")
    return Case(["analyze", "{image}", "--seed", "{seed}", "-o", str(case / "afile"), *REG], 2, "is a file")


def analyze_readonly(base, case):
    return Case(["analyze", "{image}", "--seed", "{seed}", "-o", f"{_unwritable_dir(case)}/res", *REG], 2, "not writable")


def function_plot_missing_folder(base, case):
    return Case(["function", "{labels}", "-o", "out/f.json", "--plot", "out/missing/curve.png"], 2, "does not exist")


def function_readonly(base, case):
    return Case(["function", "{labels}", "-o", f"{_unwritable_dir(case)}/f.json"], 2, "not writable")


def score_bullseye_missing_folder(base, case):
    return Case(["score", "{image}", "--seg", "{labels}", "--landmarks", "{landmarks}", "-o", "out/s.json",
                 "--bullseye", "out/none/b.png", "--method", "thickening"], 2, "does not exist")


def score_same_outputs(base, case):
    return Case(["score", "{image}", "--seg", "{labels}", "--landmarks", "{landmarks}", "-o", "out/s.json",
                 "--bullseye", "out/b.png", "--thickening-bullseye", "out/b.png", "--method", "thickening"], 2, "same file")


def benchmark_json_missing_folder(base, case):
    return Case(["benchmark", "--cases", "1", "--json", "out/nope/b.json"], 2, "does not exist")


# -- bad values accepted ---------------------------------------------------------------------------------
def score_ed_phase_999(base, case):
    return Case(["score", "{image}", "--seg", "{labels}", "--landmarks", "{landmarks}", "-o", "out/s.json",
                 "--ed-phase", "999", "--method", "thickening"], 2, "999")


def function_es_phase_negative(base, case):
    return Case(["function", "{labels}", "-o", "out/f.json", "--es-phase", "-5"], 2)


def segment_seed_phase_999(base, case):
    return Case(["segment", "{image}", "--seed", "{seed}", "--seed-phase", "999", "-o", "out/seg.nii.gz", *REG], 2)


def score_threshold_nan(base, case):
    return Case(["score", "{image}", "--seg", "{labels}", "--landmarks", "{landmarks}", "-o", "out/s.json",
                 "--method", "thickening", "--normal-pct", "nan"], 2, "--normal-pct must be a finite number")


def score_outward_inf(base, case):
    return Case(["score", "{image}", "--seg", "{labels}", "--landmarks", "{landmarks}", "-o", "out/s.json",
                 "--method", "thickening", "--dyskinetic-outward-mm", "inf"], 2, "finite")


def video_spacing_zero(base, case):
    from cardiacmotion.cine import Cine
    from cardiacmotion.io.video import write_video

    write_video(Cine(np.random.default_rng(0).random((4, 1, 16, 16)).astype(np.float32), np.eye(4), [0, 40, 80, 120],
                     modality="US"), case / "e.avi")
    return Case(["info", str(case / "e.avi"), "--spacing", "0"], 2, "--spacing")


def video_spacing_nan(base, case):
    c = video_spacing_zero(base, case)
    c.argv[-1] = "nan"
    return c


# -- multi-line errors (library chatter) -------------------------------------------------------------------
def mp4_without_moov(base, case):
    (case / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(2000))
    return Case(["info", str(case / "clip.mp4"), "--spacing", "0.3"], 2)


def avi_truncated(base, case):
    from cardiacmotion.cine import Cine
    from cardiacmotion.io.video import write_video

    write_video(Cine(np.random.default_rng(0).random((6, 1, 32, 32)).astype(np.float32), np.eye(4), np.arange(6) * 40.0,
                     modality="US"), case / "full.avi")
    (case / "cut.avi").write_bytes((case / "full.avi").read_bytes()[:300])
    (case / "full.avi").unlink()
    return Case(["info", str(case / "cut.avi"), "--spacing", "0.3"], 2)


# -- training arguments -------------------------------------------------------------------------------------
def train_scoring_batch0(base, case):
    return Case(["train", "scoring", "--batch", "0", "-o", "out/m.pt"], 2, "--batch")


def train_scoring_epochs0(base, case):
    return Case(["train", "scoring", "--epochs", "0", "-o", "out/m.pt"], 2, "--epochs")


def train_scoring_init_garbage(base, case):
    (case / "garbage.pt").write_text("garbage")
    return Case(["train", "scoring", "--init", str(case / "garbage.pt"), "-o", "out/m.pt"], 4)


def train_propagation_batch0(base, case):
    return Case(["train", "propagation", "--batch", "0", "--out", "out/c.pt"], 2, "--batch")


def train_propagation_init_nan(base, case):
    return Case(["train", "propagation", "--init", _nan_checkpoint(BUNDLED / "cstm-v0.2.0.pt", case / "n.pt"),
                 "--out", "out/c.pt"], 4, "NaN")


def evaluate_scoring_weights_nan(base, case):
    return Case(["evaluate", "scoring", "--weights", _nan_checkpoint(BUNDLED / "mmsa-v0.2.0.pt", case / "n.pt"),
                 "--json", "out/e.json"], 4, "NaN")


def evaluate_propagation_json_missing_folder(base, case):
    return Case(["evaluate", "scoring", "--json", "out/no/e.json"], 2, "does not exist")


def phantom_output_is_file(base, case):
    (case / "afile").write_text("x")
    return Case(["phantom", "mr", "-o", str(case / "afile")], 2, "not a folder")


def demo_output_is_file(base, case):
    (case / "afile").write_text("x")
    return Case(["demo", "-o", str(case / "afile")], 2, "not a folder")


# -- outputs checked late: the output's reason must come first, before the (bad) image is even read ---
def early_segment_readonly(base, case):
    return Case(["segment", _nan_image(base, case, 0.05), "--seed", base["seed"], "-o",
                 f"{_unwritable_dir(case)}/seg.nii.gz", *REG], 2, "not writable")


def early_segment_txt(base, case):
    return Case(["segment", _nan_image(base, case, 0.05), "--seed", base["seed"], "-o", "out/seg.txt", *REG], 2, "unknown output type")


def early_score_bullseye(base, case):
    return Case(["score", _nan_image(base, case, 0.05), "--seg", base["labels"], "--landmarks", base["landmarks"],
                 "-o", "out/s.json", "--bullseye", "out/x/b.png"], 2, "does not exist")


def early_function_plot(base, case):
    return Case(["function", _nan_image(base, case, 0.05), "-o", "out/f.json", "--plot", "out/x/c.png"], 2, "does not exist")


CLASSES: dict[str, list[Callable]] = {
    "non-finite images": [nan5_info, nan5_segment, all_nan_segment, nan5_analyze, nan5_score, nan5_function_image,
                          inf_voxel_info, dicom_rescale_nan],
    "corrupt user weights": [cstm_bitflip_memory, cstm_bitflip_auto, cstm_nan_auto, cstm_shuffled_auto, cstm_digest_mismatch,
                             cstm_garbage_auto, cstm_given_mmsa, mmsa_bitflip_learned, mmsa_bitflip_auto,
                             mmsa_nan_auto, mmsa_garbage_learned],
    "invented geometry / data": [nifti_zero_pixdim, nifti_nan_sform, mhd_garbage_compressed, mhd_zero_spacing,
                                 seqnrrd_zero_direction],
    "another patient's series": [dicom_second_study_in_subfolder],
    "memory from the header": [nifti_claims_21gb, nifti_claims_21gb_segment, dicom_rows_65535, mhd_claims_huge,
                               seqnrrd_claims_huge],
    "malformed JSON": [nifti_ext_list, nifti_ext_string_times, nifti_ext_int_modality, nifti_ext_not_json,
                       markups_is_string, markups_points_ints, markups_points_strings, markups_position_strings,
                       markups_deeply_nested, markups_score_list, markups_function_nan, models_json_broken,
                       models_json_wrong_types],
    "unwritable or impossible outputs": [segment_readonly, segment_txt_suffix, segment_folder_is_file,
                                         segment_output_is_folder, segment_output_is_input, analyze_output_is_file,
                                         analyze_readonly, function_readonly, score_same_outputs,
                                         phantom_output_is_file, demo_output_is_file,
                                         evaluate_propagation_json_missing_folder],
    "bad values accepted": [score_ed_phase_999, function_es_phase_negative, segment_seed_phase_999,
                            score_threshold_nan, score_outward_inf,
                            video_spacing_zero, video_spacing_nan],
    "leftovers after a failure": [function_plot_missing_folder, score_bullseye_missing_folder,
                                  benchmark_json_missing_folder],
    "multi-line errors": [mp4_without_moov, avi_truncated, mhd_garbage_compressed],
    "outputs checked late": [early_segment_readonly, early_segment_txt, early_score_bullseye, early_function_plot],
    "training arguments": [train_scoring_batch0, train_scoring_epochs0, train_scoring_init_garbage,
                           train_propagation_batch0, train_propagation_init_nan, evaluate_scoring_weights_nan],
}

#: cases whose contract another issue implements (they pass once it is merged)
PENDING: dict[str, str] = {}
