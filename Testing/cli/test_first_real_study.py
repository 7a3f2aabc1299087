"""The README's "Your first real study" commands, run as written on ../shared/data.

Each command of the section's code block runs from a folder beside a ``shared`` link, so that
``../shared/data`` resolves as in the README; outputs must exist and the EF of each study must be
within 6 points of the expert's (from the expert contours, rasterised). Skips without the data.
Slow (7 analyze/segment runs and 3 info: about 2 min of CPU; 15 min wall on the loaded 2-core dev machine).
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Your first real study", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\n(.*?)```", section, re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip().startswith("cardiacmotion ")]


def _expert_ef(shared_data: Path) -> dict:
    from cardiacmotion.function import compute_function
    from cardiacmotion.io.sunnybrook import load_porcine, load_sunnybrook

    out = {}
    for name, contours in (("SCD0000101", "SC-HF-I-1"), ("SCD0000201", "SC-HF-I-2")):
        cine, labels, _, _ = load_sunnybrook(shared_data / "sunnybrook" / name, shared_data / "sunnybrook" / "contours" / contours)
        out[name] = compute_function(cine.with_array(labels))["lv_ef_pct"]
    cine, labels, _, _ = load_porcine(shared_data / "ep-preclinical")
    out["porcine"] = compute_function(cine.with_array(labels))["lv_ef_pct"]
    return out


def test_readme_first_real_study_runs_as_written(tmp_path, sunnybrook, porcine, shared_data):
    commands = readme_commands()
    assert len(commands) >= 8 and any("--landmarks-ijk" in c for c in commands) and any("--seed " in c for c in commands)
    (tmp_path / "shared").symlink_to(shared_data.parent, target_is_directory=True)
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    for command in commands:
        argv = shlex.split(command)
        proc = subprocess.run([sys.executable, "-m", "cardiacmotion", *argv[1:]], cwd=work, env=env,
                              capture_output=True, text=True, timeout=900)
        several = argv[1] == "info" and "--series" not in argv and argv[2].rstrip("/").endswith("sunnybrook")
        expected = 2 if several else 0  # the folder of two studies is refused until --series chooses
        assert proc.returncode == expected, (command, proc.stderr[-2000:])
        if several:
            assert "SCD0000101" in proc.stdout and "SCD0000201" in proc.stdout and "choose one with --series" in proc.stderr
    expert = _expert_ef(shared_data)
    # the automatic seed of SCD0000201 once missed its thin infarcted wall (EF 33.2 % vs 25.4 %); since the
    # shading-flattened slice builder (seed Dice 0.96 / 0.76) every study is held to the 6 points
    known_misses: dict = {}
    for folder, study in (("scd101", "SCD0000101"), ("scd201", "SCD0000201"), ("porcine", "porcine"),
                          ("scd101-lm", "SCD0000101"), ("scd101-ijk", "SCD0000101")):
        out = work / folder
        for name in ("segmentation.nii.gz", "function.json", "summary.json", "landmarks.mrk.json", "volume_curve.png"):
            assert (out / name).is_file(), (folder, name)
        ef = json.loads((out / "function.json").read_text())["lv_ef_pct"]
        assert abs(ef - expert[study]) <= known_misses.get(folder, 6.0), (folder, ef, expert[study])
    assert (work / "scd101" / "scene.mrb").is_file() or "scene" in json.loads((work / "scd101" / "summary.json").read_text()).get("skipped", {}) \
        or any("scene" in n for n in json.loads((work / "scd101" / "summary.json").read_text())["notes"])
    assert (work / "lm.mrk.json").is_file() and (work / "scd101-reseed.nii.gz").is_file()
