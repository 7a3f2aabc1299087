"""Shared pieces of the fuzz suite: tiny inputs, running the CLI in a child process, the clean-exit checks.

``run_cli`` forks a child from the test process (the heavy imports are already done, so a case
costs milliseconds, not the ~2 s of a fresh interpreter), points its file descriptors 1 and 2 at
files and runs the real entry point ``cardiacmotion.cli.main.main``: what a library writes on
descriptor 2, the exit code and the files left behind are those of a real process. ``spawn_cli``
starts a fresh ``python -m cardiacmotion`` (signal tests, the long-clip memory test).
"""
from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

REPO = Path(__file__).resolve().parents[2]
PYTHON_ENV = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                  OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

#: landmark names (MR) in the markups files written here
MR_LANDMARKS = ("RV anterior insertion", "RV inferior insertion", "LV center")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    seconds: float


def _preload() -> None:
    """Import the heavy modules once in the parent so every forked child starts warm."""
    import torch

    torch.set_num_threads(1)  # no thread pool may exist across fork
    import cardiacmotion.cli.main  # noqa: F401
    import cardiacmotion.propagation.segment  # noqa: F401
    import cardiacmotion.propagation.registration  # noqa: F401
    import cardiacmotion.propagation.memory  # noqa: F401
    import cardiacmotion.scoring.learned  # noqa: F401
    import cardiacmotion.function.report  # noqa: F401
    import cardiacmotion.analyze  # noqa: F401
    import nibabel  # noqa: F401
    import SimpleITK  # noqa: F401


def run_cli(argv: Sequence[str], cwd: Path, env: Optional[dict] = None, timeout: float = 120.0,
            interrupt: Optional[tuple] = None) -> Result:
    """Run ``cardiacmotion ARGV`` in a forked child (see the module doc).

    Args:
        interrupt: ``(signal number, progress fraction)``: send the signal once the child's
            ``--progress json`` lines on stdout pass that fraction (the run is mid-work then).
    """
    _preload()

    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 98
        try:
            os.chdir(cwd)
            for key, value in (env or {}).items():
                os.environ[key] = value
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True)
            sys.stderr = sys.__stderr__ = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True)
            from cardiacmotion.cli.main import main

            code = main(list(argv))
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
        except BaseException:  # noqa: BLE001 - report it as the test's failure, not pytest's
            import traceback

            traceback.print_exc()
            code = 99
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    deadline = time.time() + timeout
    sent = interrupt is None
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if not sent and _progress_passed(out, interrupt[1]):
            os.kill(pid, interrupt[0])
            sent = True
        if time.time() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            raise TimeoutError(f"cardiacmotion {' '.join(argv)} ran over {timeout} s")
        time.sleep(0.01)
    code = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    return Result(code, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                  time.perf_counter() - t0)


def _progress_passed(stream, fraction: float) -> bool:
    """Whether the JSON progress lines written so far reached ``fraction``."""
    import json

    fd = stream.fileno()
    text = os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace")  # the child shares the offset
    for line in text.splitlines()[::-1]:
        try:
            if float(json.loads(line).get("progress", 0.0)) >= fraction:
                return True
        except (ValueError, AttributeError):
            continue
    return False


def spawn_cli(argv: Sequence[str], cwd: Path, **kwargs) -> subprocess.Popen:
    """A fresh ``python -m cardiacmotion`` process (stdout/stderr piped)."""
    return subprocess.Popen([sys.executable, "-m", "cardiacmotion", *argv], cwd=cwd, env=PYTHON_ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def tree_hash(root: Path) -> dict:
    """``{relative path: sha256}`` of every file under ``root`` (folders as None)."""
    found = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        found[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
    return found


def assert_clean(result: Result, code: int, out_dir: Path, inputs_before: dict, inputs_root: Path,
                 out_before: Optional[dict] = None, reason: str = "") -> None:
    """The error contract: one stderr line, the documented code, nothing left, inputs unchanged."""
    lines = result.stderr.splitlines()
    assert result.code == code, f"exit {result.code}, expected {code}: {result.stderr[-800:]}"
    assert len(lines) == 1 and result.stderr.endswith("\n"), f"{len(lines)} stderr lines: {result.stderr[-1500:]}"
    assert lines[0].startswith("cardiacmotion: "), lines[0]
    assert "Traceback" not in result.stderr and "internal error" not in lines[0], lines[0]
    if reason:
        assert reason in lines[0], lines[0]
    assert tree_hash(out_dir) == (out_before or {}), f"left in the output folder: {sorted(tree_hash(out_dir))}"
    assert tree_hash(inputs_root) == inputs_before, "an input was modified"


# -- tiny inputs -----------------------------------------------------------------------------------
def tiny_mr(phases: int = 6, slices: int = 3, size: int = 32):
    """A tiny short-axis cine with labels (ACDC), a 3D seed of phase 0 and the three MR landmarks (RAS).

    Returns ``(image Cine, labels Cine, seed Cine, landmarks dict)``.
    """
    from cardiacmotion.cine import Cine

    m = np.diag([1.5, 1.5, 8.0, 1.0])
    m[:3, 3] = [-24.0, -24.0, 0.0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    c = size / 2.0
    labels = np.zeros((phases, slices, size, size), np.uint8)
    for t in range(phases):
        scale = 1.0 - 0.25 * np.sin(np.pi * t / phases)
        for k in range(slices):
            r = np.hypot(yy - c, xx - c)
            rv = np.hypot(yy - c, xx - (c - 9))
            lab = np.zeros((size, size), np.uint8)
            lab[(rv < 7 * scale) & (r > 7)] = 1
            lab[(r >= 5 * scale) & (r < 7.5)] = 2
            lab[r < 5 * scale] = 3
            labels[t, k] = lab
    rng = np.random.default_rng(0)
    image = np.choose(labels, [60.0, 300.0, 120.0, 330.0]).astype(np.float32) + rng.normal(0, 8, labels.shape).astype(np.float32)
    times = np.arange(phases) * 40.0
    img = Cine(image, m, times, modality="MR", view="SAX")
    lab = Cine(labels, m, times, modality="MR", view="SAX")
    seed = Cine(labels[:1], m, [0.0], modality="MR", view="SAX")
    k = slices // 2
    ijk = np.array([[c - 6, c - 6, k], [c - 6, c + 6, k], [c, c, k]], dtype=np.float64)
    ras = img.ijk_to_ras_points(ijk)
    return img, lab, seed, dict(zip(MR_LANDMARKS, ras))


def write_tiny_mr(folder: Path, **kwargs) -> dict:
    """Write image/labels/seed NIfTI and the landmarks into ``folder``; returns their paths (str)."""
    from cardiacmotion.io import write_image
    from cardiacmotion.io.markups import write_markups

    folder.mkdir(parents=True, exist_ok=True)
    img, lab, seed, lm = tiny_mr(**kwargs)
    paths = {n: folder / f for n, f in (("image", "image.nii.gz"), ("labels", "labels.nii.gz"),
                                          ("seed", "seed.nii.gz"), ("landmarks", "lm.mrk.json"))}
    write_image(img, paths["image"])
    write_image(lab, paths["labels"])
    write_image(seed, paths["seed"])
    write_markups(lm, paths["landmarks"])
    return {k: str(v) for k, v in paths.items()}


def nifti_with(folder: Path, name: str, array: np.ndarray, affine=None, zooms=None, extension: Optional[bytes] = None,
               codes: int = 1) -> str:
    """A raw NIfTI written with nibabel (x, y, z, t order), for hostile headers and values."""
    import nibabel as nib

    img = nib.Nifti1Image(array, affine if affine is not None else np.diag([1.5, 1.5, 8.0, 1.0]))
    if zooms is not None:
        img.header.set_zooms(zooms)
    if extension is not None:
        img.header.extensions.append(nib.nifti1.Nifti1Extension(40, extension))
    img.set_qform(img.affine if codes else None, code=codes)
    img.set_sform(img.affine if codes else None, code=codes)
    path = folder / name
    nib.save(img, str(path))
    return str(path)


def write_long_echo(folder: Path, frames: int = 1000, size: int = 112, spacing: float = 0.4) -> dict:
    """A synthetic apical-like echo clip (``frames`` frames, MJPG AVI) and its 2D seed of frame 0.

    A dark LV cavity inside a bright myocardial wall, beating at 60 frames per cycle, with speckle.
    Returns ``{"video", "seed", "spacing"}`` (paths as str, spacing in mm).
    """
    from cardiacmotion.cine import Cine
    from cardiacmotion.io import read_image, write_image
    from cardiacmotion.io.video import write_video

    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    cy, cx = size * 0.55, size * 0.5
    rng = np.random.default_rng(0)
    clip = np.empty((frames, 1, size, size), np.float32)
    labels0 = None
    for t in range(frames):
        s = 1.0 - 0.18 * np.sin(2 * np.pi * t / 60.0) ** 2
        r = np.hypot((yy - cy) / (0.32 * size * s), (xx - cx) / (0.17 * size * s))
        lab = np.zeros((size, size), np.uint8)
        lab[(r >= 1.0) & (r < 1.35)] = 2
        lab[r < 1.0] = 1
        if labels0 is None:
            labels0 = lab
        clip[t, 0] = np.choose(lab, [40.0, 25.0, 190.0]) + rng.normal(0, 12, (size, size))
    video = folder / "long.avi"
    write_video(Cine(clip, np.eye(4), np.arange(frames) * 20.0, modality="US"), video, fps=50.0)
    del clip
    grid = read_image(video, spacing=[spacing])
    seed = Cine(labels0[None, None], grid.ijk_to_ras, [0.0], modality="US")
    write_image(seed, folder / "seed.nii.gz")
    return {"video": str(video), "seed": str(folder / "seed.nii.gz"), "spacing": str(spacing)}
