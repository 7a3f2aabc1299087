"""Training pieces: three-frame samples, bootstrapped CE, and a few iterations that lower the loss."""
from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

from cardiacmotion.training.common import IGNORE, bootstrapped_ce, top_p_schedule
from cardiacmotion.training.datasets import Study, ThreeFrameSampler


def ring_study(T: int = 6, K: int = 4, size: int = 80, seed: int = 0) -> Study:
    """A beating two-ring 'heart' (cavity 3, myocardium 2, a crescent 1) through time and stack."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    img = np.zeros((T, K, size, size), np.float32)
    lab = np.zeros((T, K, size, size), np.uint8)
    for t in range(T):
        for k in range(K):
            r = 12 + 4 * np.cos(2 * np.pi * t / T) - 1.5 * k
            d = np.hypot(yy - size / 2, xx - size / 2)
            rv = np.hypot(yy - size / 2, xx - size / 2 + r + 10)
            lab[t, k][(rv < r + 4) & (d > r + 5)] = 1
            lab[t, k][d < r + 5] = 2
            lab[t, k][d < r] = 3
            img[t, k] = np.choose(lab[t, k], [0.2, 0.8, 0.4, 0.9]) + rng.normal(0, 0.05, (size, size))
    full = np.ones((T, K), bool)
    return Study("rings", img, lab, full, full.copy())


def test_samples_through_time_and_stack():
    st = ring_study()
    sampler = ThreeFrameSampler([st], size=48, p_stack=0.5)
    rng = np.random.default_rng(0)
    x, y = sampler.batch(rng, 6)
    assert x.shape == (6, 3, 48, 48) and y.shape == (6, 3, 48, 48)
    assert x.dtype == np.float32 and y.dtype == np.uint8
    assert set(np.unique(y)) <= {0, 1, 2, 3}
    assert (y[:, 0] == 3).any(axis=(1, 2)).all()  # the heart stays in the crop
    x2, _ = sampler.batch(np.random.default_rng(0), 6)
    assert np.array_equal(x, x2)  # deterministic per seed


def test_unknown_frames_never_start_a_sample():
    st = ring_study()
    st.full[:] = False
    st.full[0, :] = True  # only phase 0 complete; other frames targets with unknown pixels
    st.labels[1:, :, :10] = IGNORE
    sampler = ThreeFrameSampler([st], size=32, p_stack=0.0, augment=None)
    sampler.augment.strong = False
    rng = np.random.default_rng(1)
    for _ in range(10):
        _, y = sampler.sample(rng)
        assert IGNORE not in y[0]


def test_bootstrapped_ce_keeps_hardest_pixels():
    logits = torch.zeros(1, 4, 2, 2)
    logits[0, 0] = torch.tensor([[5.0, 5.0], [5.0, -5.0]])
    target = torch.zeros(1, 2, 2, dtype=torch.long)
    full = bootstrapped_ce(logits, target, 1.0)
    hard = bootstrapped_ce(logits, target, 0.25)
    assert hard > full
    target[0, 1, 1] = IGNORE
    assert bootstrapped_ce(logits, target, 0.25) < 0.1
    assert top_p_schedule(0, 100) == 1.0 and top_p_schedule(100, 100) == pytest.approx(0.15)


def test_a_few_iterations_lower_the_loss():
    from cardiacmotion.models.cstm import CSTM, CSTMConfig
    from cardiacmotion.training.train_propagation import training_loss

    torch.manual_seed(0)
    net = CSTM(CSTMConfig(widths=(8, 12, 16, 24), key_dim=8, value_dim=16, name="cstm-test"))
    sampler = ThreeFrameSampler([ring_study()], size=32)
    sampler.augment.strong = False
    rng = np.random.default_rng(0)
    x, y = (torch.from_numpy(a) for a in sampler.batch(rng, 4))
    y = y.long()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = training_loss(net, x, y, 1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_train_command_on_a_tiny_phantom(tmp_path):
    """The CLI entry: a few iterations on one tiny phantom, exported with a manifest entry."""
    phantom = pytest.importorskip("cardiacmotion.phantom")
    if not hasattr(phantom, "make_mr_case"):
        pytest.skip("the phantom module has no make_mr_case yet")
    from cardiacmotion.cli.main import build_parser
    from cardiacmotion.models.weights import read_manifest
    from cardiacmotion.propagation.memory import load_network
    from cardiacmotion.training import datasets

    original = datasets.phantom_studies
    case = phantom.make_mr_case(1000, phases=4, slices=4, grid=64)
    study = datasets.phantom_study(case, "tiny")
    datasets.phantom_studies = lambda *a, **k: [study]  # the tiny case instead of full-size ones
    try:
        args = build_parser().parse_args([
            "train", "propagation", "--out", str(tmp_path / "w.pt"), "--model-id", "cstm-v9.9.9", "--arch", "tiny",
            "--size", "48", "--iterations", "6", "--batch", "2", "--mr-phantoms", "1", "--echo-phantoms", "0",
            "--sunnybrook", "", "--no-porcine", "--data-root", str(tmp_path), "--eval-mr", "0", "--eval-echo", "0",
            "--work-dir", str(tmp_path / "work"), "--device", "cpu"])
        assert args.func(args) == 0
    finally:
        datasets.phantom_studies = original
    entry = read_manifest(tmp_path)["models"][0]
    assert entry["id"] == "cstm-v9.9.9" and entry["command"].startswith("cardiacmotion train propagation")
    net, info = load_network(tmp_path / "w.pt")
    assert info["input_size"] == (48, 48) and info["id"] == "cstm-v9.9.9"
    log = (tmp_path / "work" / "train.log.jsonl").read_text().splitlines()
    assert any('"event": "iter"' in line for line in log)
