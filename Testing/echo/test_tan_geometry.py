"""TAN's affine window: exact landmark mapping, invertibility, torch warp == OpenCV, template coverage."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from cardiacmotion.echo.clips import phantom_clip
from cardiacmotion.echo.geometry import (affine_from_points, apply_affine, build_template, invert_affine, warp_probs_back,
                                         warp_to_window)

SIZE = 96


@pytest.fixture(scope="module")
def clip():
    return phantom_clip(9001, "A4C", frames=6)


@pytest.fixture(scope="module")
def template(clip):
    return build_template(((clip.landmarks[t], np.isin(clip.labels[t], (1, 2))) for t in range(clip.length)), SIZE)


def test_landmarks_land_on_the_template_and_come_back(clip, template):
    for t in range(clip.length):
        a = affine_from_points(clip.landmarks[t], template)
        assert np.abs(apply_affine(a, clip.landmarks[t]) - template).max() < 1e-6
        back = apply_affine(invert_affine(a), template)
        assert np.abs(back - clip.landmarks[t]).max() < 1e-4


def test_degenerate_triangle_is_refused():
    with pytest.raises(ValueError):
        affine_from_points([[0, 0], [1, 1], [2, 2]], [[0, 0], [1, 0], [0, 1]])


def test_mask_round_trip_keeps_dice(clip, template):
    """A label map into the window (one-hot, bilinear) and back (probabilities, threshold) keeps Dice >= 0.99."""
    lab = clip.labels[0]
    a = affine_from_points(clip.landmarks[0], template)
    onehot = torch.from_numpy(np.stack([lab == v for v in range(4)]).astype(np.float32))[None]
    win = warp_to_window(onehot, a[None], SIZE)
    win[:, 0] = 1.0 - win[:, 1:].sum(1)
    back = warp_probs_back(win, a[None], lab.shape)[0].argmax(0).numpy()
    cav, got = lab == 1, back == 1
    dice = 2 * (cav & got).sum() / (cav.sum() + got.sum())
    assert dice >= 0.99, dice


def test_torch_warp_equals_opencv(clip, template):
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(0)
    img = ndimage.gaussian_filter(rng.standard_normal((200, 230)), 4).astype(np.float32)
    img = (img - img.min()) / (img.max() - img.min())
    src = clip.landmarks[0] * 0.8
    a = affine_from_points(src, template)
    ours = warp_to_window(torch.from_numpy(img)[None, None], a[None], SIZE)[0, 0].numpy()
    ref = cv2.warpAffine(img, a.astype(np.float64), (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    inner = (slice(2, -2), slice(2, -2))
    assert np.abs(ours[inner] - ref[inner]).max() < 1e-3


def test_template_window_covers_the_lv(clip, template):
    """With each frame's own landmarks, >= 99.5 % of the LV cavity lands inside the window."""
    for t in range(clip.length):
        a = affine_from_points(clip.landmarks[t], template)
        cav = torch.from_numpy((clip.labels[t] == 1).astype(np.float32))[None, None]
        inside = warp_to_window(cav, a[None], SIZE).sum().item() / abs(np.linalg.det(a[:, :2]))
        assert inside / cav.sum().item() >= 0.995
