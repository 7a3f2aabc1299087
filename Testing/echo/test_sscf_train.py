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


def test_label_noise_moves_only_the_ed_es_masks(clip):
    from cardiacmotion.echo.sscf_data import SSCFClip, add_label_noise

    before = clip.labels.clone()
    unlabelled = SSCFClip("u", clip.frames, torch.full_like(clip.labels, -1), np.zeros_like(clip.labelled), clip.ed, clip.es, clip.mm_per_px)
    jit, same = add_label_noise([clip, unlabelled], jitter_mm=2.0 * clip.mm_per_px, seed=1)
    assert same is unlabelled
    for t in (clip.ed, clip.es):  # boundary jitter: a few per cent of pixels change, labels stay the same set
        changed = float((jit.labels[t] != clip.labels[t]).float().mean())
        assert 0.005 < changed < 0.2, changed
        assert set(jit.labels[t].unique().tolist()) == set(clip.labels[t].unique().tolist())
        lv_a, lv_b = clip.labels[t] == 1, jit.labels[t] == 1
        assert 2 * float((lv_a & lv_b).sum()) / float(lv_a.sum() + lv_b.sum()) > 0.85
    shifted = add_label_noise([clip], timing_fraction=1.0, seed=0)[0]
    moved = sorted(np.nonzero(shifted.labelled)[0].tolist())
    assert len(moved) == 2 and moved != sorted({clip.ed, clip.es})
    for t in (clip.ed, clip.es):  # each ED/ES mask now sits on a neighbouring frame, its own frame is unlabelled
        u = [v for v in moved if abs(v - t) == 1 and torch.equal(shifted.labels[v], clip.labels[t])]
        assert len(u) == 1 and int(shifted.labels[t].max()) == -1
    assert torch.equal(clip.labels, before)  # the input clip is untouched


def test_plain_unet_ablation_ignores_the_neighbours():
    torch.manual_seed(0)
    net = SSCFNet((4, 8, 16), num_classes=4, encoders=1, fuse_levels=()).eval()
    w = torch.rand(2, 3, 32, 32)
    other = w.clone()
    other[:, [0, 2]] = torch.rand(2, 2, 32, 32)
    with torch.no_grad():
        assert torch.equal(net(w), net(other))
    assert len(net.fusion) == 0
