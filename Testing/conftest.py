"""Shared fixtures: the real data beside the checkout, skipped cleanly when absent."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

def _find_shared() -> Path:
    """``$CARDIACMOTION_SHARED``, else the first ``shared/`` beside the checkout or above it (git worktrees)."""
    if os.environ.get("CARDIACMOTION_SHARED"):
        return Path(os.environ["CARDIACMOTION_SHARED"])
    for parent in REPO.parents:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared"
    return REPO.parent / "shared"


SHARED = _find_shared()
SHARED_DATA = SHARED / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; skips the test when it is not there (a user's checkout)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not available")
    return SHARED_DATA


@pytest.fixture(scope="session")
def sunnybrook(shared_data: Path) -> Path:
    root = shared_data / "sunnybrook"
    if not (root / "SCD0000101").is_dir():
        pytest.skip("Sunnybrook studies are not available")
    return root


@pytest.fixture(scope="session")
def porcine(shared_data: Path) -> Path:
    root = shared_data / "ep-preclinical"
    if not (root / "E774S5-shortAxis").is_dir():
        pytest.skip("the porcine study is not available")
    return root
