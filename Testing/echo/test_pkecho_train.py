"""PKEcho-Net training: ED->ES clips carry only the ED and ES labels; one clip is overfitted to ED/ES Dice >= 0.9."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cardiacmotion.echo.clips import phantom_clip
from cardiacmotion.echo.pkecho_data import clip_indices, prepare
from cardiacmotion.echo.pkecho_eval import clip_scores
from cardiacmotion.models.pkecho import PKEchoNet
from cardiacmotion.models.pkecho_loss import pkecho_loss
from cardiacmotion.training.train_pkecho import augment, sample_batch, targets

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def source():
    return phantom_clip(123, "A4C", frames=30)


@pytest.fixture(scope="module")
def clip(source):
    return prepare(source, size=64, keep_truth=True)


def test_clip_runs_from_ed_to_es(source):
    idx = clip_indices(source.ed, source.es, source.length)
    assert len(idx) == 10 and idx[0] == source.ed and idx[-1] == source.es
    steps = np.diff(np.where(idx < idx[0], idx + source.length, idx))
    assert (steps >= 1).all()  # forward through the cycle, wrapping when ES comes before ED
    assert list(clip_indices(5, 2, 20, 4)) == [5, 11, 16, 2]


def test_only_ed_and_es_labels_survive(clip):
    assert int(clip.labels[0].min()) >= 0 and int(clip.labels[-1].min()) >= 0
    assert int(clip.labels[1:-1].max()) == -1
    assert torch.equal(clip.labels[0], clip.truth[0]) and torch.equal(clip.labels[-1], clip.truth[-1])
    x, y = augment(*sample_batch([clip], 2, np.random.default_rng(0)), torch.Generator().manual_seed(0))
    assert int(y[:, 1:-1].max()) == -1 and int(y[:, [0, -1]].min()) >= 0
    g, phi = targets(y, 3)
    assert g.shape == phi.shape == (2, 2, 3, 64, 64)


def test_overfit_one_clip_to_ed_es_dice_09(clip):
    torch.manual_seed(0)
    model = PKEchoNet("r18", base=8, num_classes=1)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    x = clip.frames[None, :, None]
    g, phi = targets(clip.labels[None], 1)
    for _ in range(120):
        loss, _ = pkecho_loss(model(x, frames_out=[0, -1]), g, phi)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    pred = model.probabilities(x)[0, :, 0] >= 0.5
    truth = clip.truth == 1
    for t in (0, 9):
        d = 2 * float((pred[t] & truth[t]).sum()) / float(pred[t].sum() + truth[t].sum())
        assert d >= 0.9, (t, d)
    scores = clip_scores(model, [clip])  # the ablations' clip-level scorer agrees
    assert scores["clips"] == 1 and scores["dice_ed_es"] >= 0.9 and 0.0 <= scores["dice_unlabelled"] <= 1.0
