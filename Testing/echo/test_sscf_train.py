"""SSCF training: only ED/ES labels reach the loss; one clip is overfitted to ED/ES Dice >= 0.98."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cardiacmotion.echo.clips import phantom_clip
from cardiacmotion.echo.sscf_data import prepare, window_indices
from cardiacmotion.models.sscf import SSCFNet
from cardiacmotion.models.sscf_teacher import supervised_loss
from cardiacmotion.training.train_sscf import sample_windows

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def clip():
    return prepare(phantom_clip(123, "A4C", frames=30), size=48)


def test_only_ed_and_es_labels_survive(clip):
    assert sorted(np.nonzero(clip.labelled)[0].tolist()) == sorted({clip.ed, clip.es})
    hidden = [t for t in range(clip.frames.shape[0]) if not clip.labelled[t]]
    assert all(int(clip.labels[t].max()) == -1 for t in hidden)
    rng = np.random.default_rng(0)
    for _ in range(20):  # sampled labelled windows are centred on ED or ES and carry that frame's mask
        _, y = sample_windows([clip], 1, True, rng)
        assert any(torch.equal(y[0], clip.labels[t]) for t in (clip.ed, clip.es))


def test_overfit_one_clip_to_ed_es_dice_098(clip):
    torch.manual_seed(0)
    model = SSCFNet((8, 16, 32), num_classes=1)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    idx = torch.as_tensor(window_indices([clip.ed, clip.es], clip.frames.shape[0]))
    x = clip.frames[idx]
    y = (clip.labels[[clip.ed, clip.es]] == 1).long()
    for _ in range(150):
        loss, _ = supervised_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        pred = torch.sigmoid(model(x))[:, 0] >= 0.5
    for p, g in zip(pred, y.bool()):
        d = 2 * float((p & g).sum()) / float(p.sum() + g.sum())
        assert d >= 0.98, d
