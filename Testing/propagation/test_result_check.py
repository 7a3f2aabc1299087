"""A propagation that gives back only the seeded frames is a failure (exit 3), never a success."""
from __future__ import annotations

import numpy as np
import pytest

from cardiacmotion.errors import MethodFailedError, NotAvailableError
from cardiacmotion.propagation.result_check import check_propagated


def _seeded(t: int, k: int, frames) -> np.ndarray:
    s = np.zeros((t, k), bool)
    for f in frames:
        s[f] = True
    return s


def test_only_the_seed_labelled_is_refused():
    seg = np.zeros((5, 3, 8, 8), np.uint8)
    seg[0, 1, 2:5, 2:5] = 3
    with pytest.raises(MethodFailedError, match="labelled nothing outside the 1 seeded frame") as info:
        check_propagated(seg, _seeded(5, 3, [(0, 1)]), "memory")
    assert isinstance(info.value, NotAvailableError) and info.value.exit_code == 3


def test_propagated_labels_pass():
    seg = np.zeros((5, 3, 8, 8), np.uint8)
    seg[:, 1, 2:5, 2:5] = 3  # every phase of the seeded slice: a real propagation
    check_propagated(seg, _seeded(5, 3, [(0, 1)]), "registration")


def test_everything_seeded_passes():
    seg = np.ones((2, 1, 4, 4), np.uint8)
    check_propagated(seg, np.ones((2, 1), bool), "memory")
