"""Fixtures of the fuzz suite: the shared tiny inputs (written once per session)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for extra in (HERE, HERE.parent / "io"):  # fuzz_support, hostile_inputs, dicom_synth
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


@pytest.fixture(scope="session")
def fuzz_base(tmp_path_factory) -> dict:
    """Tiny MR case (8 phases x 3 slices x 32 x 32): image, labels, seed, landmarks; never modified."""
    import torch

    from fuzz_support import write_tiny_mr

    torch.set_num_threads(1)  # the CLI runs in forked children: no thread pools across fork
    base = write_tiny_mr(tmp_path_factory.mktemp("fuzz_base"), phases=8)
    base["root"] = str(Path(base["image"]).parent)
    return base
