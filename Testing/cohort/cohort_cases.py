"""Tiny phantom studies for the cohort tests (seconds each with registration on a CPU)."""
from __future__ import annotations

from pathlib import Path

from cardiacmotion.phantom.mr import make_mr_case

#: Small enough for a 2-core CI run, large enough for a real segmentation, function and scores.
TINY = {"phases": 6, "slices": 7, "grid": 64, "pixel_mm": 2.8}  # 7 slices: stacks may start in the atrium


def write_cases(root: Path, n: int, corrupt: bool = True) -> list[str]:
    """``case0..case{n-1}`` phantom folders (image, seed, landmarks, truth) and a corrupt one."""
    root.mkdir(parents=True, exist_ok=True)
    names = []
    for s in range(n):
        make_mr_case(s, **TINY).save(root / f"case{s}")
        names.append(f"case{s}")
    if corrupt:
        bad = root / "corrupt"
        bad.mkdir()
        (bad / "image.nii.gz").write_bytes(b"\x1f\x8b this is not a NIfTI file" * 50)
        (bad / "seed.nii.gz").write_bytes((root / "case0" / "seed.nii.gz").read_bytes())
        names.append("corrupt")
    return names
