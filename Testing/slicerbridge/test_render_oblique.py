"""Snapshots of a strongly oblique short-axis stack show the short-axis slice, not a cut across the stack.

The toy two-ventricle cine is put on the grid orientation of a real Sunnybrook study (slice normal
about 55 degrees from every patient axis): the rendered ED view must show the round LV (equal width
and height of the overlay) and match the committed golden image.
"""
from pathlib import Path

import numpy as np
import pytest

from cardiacmotion.slicerbridge import render, selftest

GOLDEN = Path(__file__).parent / "golden"
# IJK->RAS direction of SCD0000101 (columns: i, j, k), spacings 1.5, 1.5, 8 mm
_DIRECTION = np.array([[-0.7705, 0.1516, 0.6193], [-0.6185, -0.4139, -0.6680], [0.1551, -0.8976, 0.4126]])


@pytest.fixture(scope="module")
def oblique_render(tmp_path_factory):
    ok, reason = render.offscreen_available()
    if not ok:
        pytest.skip(f"no offscreen rendering here: {reason}")
    case = selftest.toy_mr_case()
    m = np.eye(4)
    m[:3, :3] = _DIRECTION @ np.diag([1.5, 1.5, 8.0])
    m[:3, 3] = (24.0, 290.0, 92.0)
    case.image.ijk_to_ras = m
    case.labels.ijk_to_ras = m.copy()
    case.landmarks = {k: case.image.ijk_to_ras_points(np.array([[32, 32, 2]]))[0] for k in case.landmarks}
    out = render.render_analysis(tmp_path_factory.mktemp("oblique"), case.image, case.labels, None, case.function, None)
    import os

    if os.environ.get("CARDIACMOTION_UPDATE_GOLDEN"):
        render.save_png(out["slice_ed"], GOLDEN / "slice_ed_oblique.png")
    return out["slice_ed"]


def test_oblique_stack_renders_the_short_axis_slice(oblique_render):
    rgb = oblique_render.astype(int)
    overlay = (np.abs(rgb[..., 0] - rgb[..., 1]) > 40) | (np.abs(rgb[..., 2] - rgb[..., 1]) > 40)
    red = overlay & (rgb[..., 0] > rgb[..., 2] + 30)  # LV cavity + myocardium overlays (red / yellow)
    jj, ii = np.nonzero(red)
    assert jj.size > 500
    width, height = np.ptp(ii) + 1, np.ptp(jj) + 1
    # the LV is a disc in its own slice; a cut across an 8 mm-spaced stack of 4 slices would be a thin band
    assert 0.8 < width / height < 1.25, (width, height)


def test_oblique_render_matches_golden(oblique_render):
    import cv2

    golden = cv2.imread(str(GOLDEN / "slice_ed_oblique.png"))
    assert golden is not None, "golden image slice_ed_oblique.png missing (regenerate with CARDIACMOTION_UPDATE_GOLDEN=1)"
    golden = golden[..., ::-1]
    assert golden.shape == oblique_render.shape
    diff = np.abs(golden.astype(np.int16) - oblique_render.astype(np.int16)).max(axis=2)
    assert diff.mean() < 2.0 and (diff > 48).mean() < 0.01
