"""SIGINT / SIGTERM in the middle of ``segment`` and ``analyze``: exit 130 / 143, no partial file or
hidden temporary folder, and an earlier result (file or folder) byte-identical afterwards.

SIGTERM is what the Slicer module's Cancel sends. The runs are forked children of the test (the
real entry point and signal handlers; see ``fuzz_support``); one test also runs a fresh
``python -m cardiacmotion`` process, as Slicer does.
"""
from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import pytest

from fuzz_support import run_cli, spawn_cli, tree_hash, write_tiny_mr

CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


@pytest.fixture(scope="module")
def longer_case(tmp_path_factory) -> dict:
    """A tiny cine (registration runs ~1-2 s on it: the signal lands mid-work)."""
    return write_tiny_mr(tmp_path_factory.mktemp("sig_in"), phases=10, slices=3, size=40)


def _segment_argv(case: dict) -> list:
    return ["segment", case["image"], "--seed", case["seed"], "-o", "out/seg.nii.gz",
            "--method", "registration", "--info-json", "out/info.json", "--progress", "json"]


def _analyze_argv(case: dict) -> list:
    return ["analyze", case["image"], "--seed", case["seed"], "--landmarks", case["landmarks"],
            "-o", "out/result", "--method", "registration", "--score-method", "thickening", "--no-scene",
            "--progress", "json"]


@pytest.fixture(scope="module")
def earlier(tmp_path_factory, longer_case) -> dict:
    """Earlier results (a segment output and an analyze folder), computed once, copied per test."""
    root = tmp_path_factory.mktemp("earlier")
    (root / "out").mkdir()
    for argv in (_segment_argv(longer_case), _analyze_argv(longer_case)):
        result = run_cli(argv, cwd=root)
        assert result.code == 0, result.stderr
    return {"segment": root / "out", "analyze": root / "out"}


def _check(result, sig, out: Path, before: dict) -> None:
    assert result.code == CODES[sig], result.stderr[-600:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and ("interrupted" in lines[0] or "terminated" in lines[0]), result.stderr[-600:]
    assert tree_hash(out) == before, f"left or changed: {sorted(set(tree_hash(out)) ^ set(before))}"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("command", ["segment", "analyze"])
def test_interrupted_keeps_earlier_result(tmp_path, longer_case, earlier, command, sig):
    out = tmp_path / "out"
    shutil.copytree(earlier[command], out)
    before = tree_hash(out)
    assert ("seg.nii.gz" if command == "segment" else "result/summary.json") in before
    argv = _segment_argv(longer_case) if command == "segment" else _analyze_argv(longer_case)
    result = run_cli(argv, cwd=tmp_path, interrupt=(sig, 0.05))
    _check(result, sig, out, before)


def test_analyze_new_folder_interrupted_leaves_nothing(tmp_path, longer_case):
    out = tmp_path / "out"
    out.mkdir()
    argv = ["analyze", longer_case["image"], "--seed", longer_case["seed"], "-o", "out/result",
            "--method", "registration", "--no-scene", "--progress", "json"]
    result = run_cli(argv, cwd=tmp_path, interrupt=(signal.SIGTERM, 0.1))
    _check(result, signal.SIGTERM, out, {})


@pytest.mark.slow
def test_sigterm_fresh_process(tmp_path, longer_case):
    """What Slicer's Cancel does: a separate interpreter, SIGTERM once progress has started."""
    out = tmp_path / "out"
    out.mkdir()
    proc = spawn_cli(["segment", longer_case["image"], "--seed", longer_case["seed"], "-o", str(out / "seg.nii.gz"),
                      "--method", "registration", "--progress", "json"], cwd=tmp_path)
    deadline = time.time() + 120
    for line in proc.stdout:  # wait for work to start
        if '"progress"' in line and float(line.split('"progress":')[1].split(",")[0]) >= 0.05:
            break
        assert time.time() < deadline
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert len(err.splitlines()) == 1 and "terminated" in err
    assert list(out.iterdir()) == []
