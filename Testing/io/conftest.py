"""Session caches of the real studies (DICOM loading takes about a second each)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def scd101(sunnybrook):
    from cardiacmotion.io.sunnybrook import load_sunnybrook

    return load_sunnybrook(sunnybrook / "SCD0000101", sunnybrook / "contours" / "SC-HF-I-1")


@pytest.fixture(scope="session")
def scd201(sunnybrook):
    from cardiacmotion.io.sunnybrook import load_sunnybrook

    return load_sunnybrook(sunnybrook / "SCD0000201", sunnybrook / "contours" / "SC-HF-I-2")


@pytest.fixture(scope="session")
def porcine_study(porcine):
    from cardiacmotion.io.sunnybrook import load_porcine

    return load_porcine(porcine)
