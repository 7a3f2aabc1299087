"""TCM: Lucas-Kanade flow labels follow the LV, the Hausdorff gate drops inconsistent pairs, the dual-path loss trains."""
from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("cv2")

from cardiacmotion.echo.clips import phantom_clip  # noqa: E402
from cardiacmotion.echo.tan_data import TANTrainingSet  # noqa: E402
from cardiacmotion.echo.tcm import TCMPairs, flow_label, hausdorff_mm, noisy_labels  # noqa: E402
from cardiacmotion.models.tan import TANNet  # noqa: E402


@pytest.fixture(scope="module")
def clip():
    return phantom_clip(9040, "A4C", frames=16)


def test_flow_label_tracks_the_cavity(clip):
    ok = 0
    for t in range(1, clip.length):
        fl = flow_label(clip.frames[t - 1], clip.frames[t], clip.labels[t - 1] == 1)
        if fl is None:  # forward-backward check failed on > 25 % of the points: the pair is dropped
            continue
        ok += 1
        truth = clip.labels[t] == 1
        assert 2 * (fl & truth).sum() / (fl.sum() + truth.sum()) > 0.97
        assert hausdorff_mm(fl, truth, clip.spacing) < 5.0
    assert ok >= 0.7 * (clip.length - 1)


def test_gate_rejects_inconsistent_labels_and_loss_trains(clip):
    rng = np.random.default_rng(0)
    bad = noisy_labels(clip, 0.0, rng, landmark_mm=0.0)
    bad.labels = bad.labels.copy()
    bad.labels[3][bad.labels[3] == 1] = 0  # a frame whose manual LV is missing: the flow label disagrees
    pairs = TCMPairs(TANTrainingSet([bad], 64), rng)
    kept = {t for _, t, _ in pairs.pairs}
    assert 3 not in kept and 4 not in kept and len(kept) >= 0.6 * (clip.length - 1)
    assert pairs.rejected + pairs.failed >= 2
    model = TANNet(64)
    loss, parts = pairs.loss(model, 2)
    assert torch.isfinite(loss) and parts["seg"] > 0
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_noisy_labels_perturb_the_contour(clip):
    n = noisy_labels(clip, 1.5, np.random.default_rng(2))
    d = [2 * ((n.labels[t] == 1) & (clip.labels[t] == 1)).sum() / ((n.labels[t] == 1).sum() + (clip.labels[t] == 1).sum())
         for t in range(clip.length)]
    assert 0.85 < np.mean(d) < 0.995
