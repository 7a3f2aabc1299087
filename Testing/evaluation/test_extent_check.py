"""The extent measurement on one small phantom heart: the numbers it reports are consistent."""
from __future__ import annotations

import math

import pytest

pytest.importorskip("cardiacmotion.phantom")

from cardiacmotion.evaluation.extent_check import measure_case, summarise  # noqa: E402


def test_small_phantom_measured_against_its_truth():
    row = measure_case("phantom", 3, options={"phases": 6, "grid": 96, "base_descent_mm": 14.0})
    assert 0 < row["es_agree"] <= row["es_pairs"] and 0 < row["all_agree"] <= row["all_pairs"]
    assert row["all_pairs"] == 6 * row["es_pairs"]
    s = summarise([row])
    assert s["cases"] == 1 and s["ef_abs_error_mean"] == pytest.approx(abs(row["ef"] - row["ef_true"]), abs=0.01)
    assert 0.5 < s["es_match"] <= 1.0 and not math.isnan(s["dice"]["LV"]) and s["dice"]["LV"] > 0.8
