"""The MMSA network on random and synthetic tensors: shapes, frame-count adaptation, attention,
and the unsupervised flow branch learning a known motion."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cardiacmotion.models.mmsa import MMSAConfig, MMSANet, normalise_segments, patient_sequence, split_segments
from cardiacmotion.models.mmsa_blocks import (
    KernelInterpConv2d,
    MotionSpatialAttention,
    NonLocalBlock,
    TemporalSqueezeExcitation,
    resample_time,
)
from cardiacmotion.models.mmsa_flow import FlowNet, optical_flow_loss, sequence_flows, time_shift, warp


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)
    torch.manual_seed(0)


def test_forward_shapes_and_any_frame_count():
    net = MMSANet().eval()
    for frames in (12, 20, 25, 30):
        x = torch.rand(2, 16, frames, 16, 16)
        logits, fwd, bwd = net(x)
        assert logits.shape == (2, 16, 4)
        # the cycle is resampled to ref_frames (16) before both branches
        assert [tuple(u.shape) for u in fwd] == [(2, 16, 2, 16, 256), (2, 16, 2, 8, 128), (2, 16, 2, 4, 64)]
        assert len(bwd) == 3 and torch.isfinite(logits).all()
        assert torch.isfinite(net.flow_loss(x, fwd, bwd))


def test_wrong_grid_is_refused():
    with pytest.raises(ValueError, match="segment sequences"):
        MMSANet()(torch.rand(1, 16, 20, 24, 16))
    with pytest.raises(ValueError, match="multiples of 16"):
        MMSANet(MMSAConfig(radial=24))


def test_patient_sequence_and_split_are_inverse():
    seg = torch.rand(2, 16, 5, 8, 4)
    pat = patient_sequence(seg)
    assert pat.shape == (2, 5, 8, 64)
    # segment 3 occupies angle columns 12..15 of the patient sequence
    assert torch.equal(pat[:, :, :, 12:16], seg[:, 3])
    flow = torch.stack((pat, -pat), 2)  # [B, T, 2, R, 16A]
    back = split_segments(flow).reshape(2, 16, 5, 2, 8, 4)
    assert torch.equal(back[:, :, :, 0], seg)


def test_kernel_interpolation_is_exact_at_reference_length_and_consistent_when_resampled():
    conv = KernelInterpConv2d(ref_frames=20, out_channels=3)
    x = torch.rand(1, 20, 8, 8)
    ref = torch.nn.functional.conv2d(x, conv.weight, conv.bias, padding=1)
    assert torch.allclose(conv(x), ref, atol=1e-6)
    # a smooth periodic sequence sampled at 40 frames gives about the same response as at 20 frames
    t20 = torch.arange(20) / 20.0
    t40 = torch.arange(40) / 40.0
    base = torch.rand(1, 1, 8, 8)
    x20 = base * torch.cos(2 * math.pi * t20)[None, :, None, None]
    x40 = base * torch.cos(2 * math.pi * t40)[None, :, None, None]
    assert torch.allclose(conv(x20), conv(x40), atol=0.05 * conv(x20).abs().max().item())


def test_resample_time_is_periodic_linear():
    x = torch.arange(4.0).reshape(1, 4)
    assert torch.allclose(resample_time(x, 8), torch.tensor([[0, 0.5, 1, 1.5, 2, 2.5, 3, 1.5]]))


def test_attention_shapes_and_normalisation():
    msa = MotionSpatialAttention(channels=6, ref_frames=20)
    x = torch.rand(4, 6, 8, 4)
    m = torch.randn(4, 13, 2, 8, 4)
    z, att, motion = msa(x, m)
    assert z.shape == x.shape and att.shape == (4, 1, 8, 4) and motion.shape == (4, 3, 8, 4)
    assert torch.allclose(att.sum(dim=(1, 2, 3)), torch.full((4,), 32.0), atol=1e-4)  # softmax x h*w
    assert torch.allclose(motion[:, 0], m.norm(dim=2).amax(1))
    net = MMSANet()
    maps = net.attention_maps(torch.rand(1, 16, 20, 16, 16))
    assert [tuple(a.shape) for a in maps] == [(16, 1, 16, 16), (16, 1, 8, 8), (16, 1, 4, 4)]


def test_tse_and_nonlocal_start_neutral():
    x = torch.rand(3, 8, 4, 2)
    nl = NonLocalBlock(8)
    assert torch.allclose(nl(x), x)  # zero-initialised output projection: residual only
    tse = TemporalSqueezeExcitation(8)
    y = tse(x)
    w = y / x
    assert y.shape == x.shape
    assert torch.allclose(w.mean(dim=(2, 3)).sum(1), torch.full((3,), 8.0), atol=1e-3)  # softmax x C


def test_warp_moves_content_by_the_flow():
    img = torch.zeros(1, 1, 8, 16)
    img[0, 0, 4, 6] = 1.0
    flow = torch.zeros(1, 2, 8, 16)
    flow[:, 1] = 2.0  # sample two columns to the right
    out = warp(img, flow)
    assert out[0, 0, 4, 4] == pytest.approx(1.0) and out[0, 0, 4, 6] == pytest.approx(0.0)


def _moving_sequence(frames: int = 12, h: int = 16, w: int = 64) -> torch.Tensor:
    """A blurred band pattern that moves radially (rows) and back over one periodic cycle."""
    rows = torch.arange(h, dtype=torch.float32)[:, None]
    cols = torch.arange(w, dtype=torch.float32)[None, :]
    seq = []
    for t in range(frames):
        shift = 2.5 * math.sin(2 * math.pi * t / frames)
        band = torch.exp(-((rows - 8 - shift) ** 2) / 6.0) * (0.6 + 0.4 * torch.cos(cols / 5.0))
        seq.append(band)
    return torch.stack(seq)[None]


def test_flow_branch_learns_a_shifted_sequence():
    """The photometric + smoothness loss falls well below the zero-flow loss, and the flow points the right way."""
    pat = _moving_sequence()
    net = FlowNet((8, 16, 16, 16))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    zero = [torch.zeros(1, pat.shape[1], 2, pat.shape[2] // 2 ** i, pat.shape[3] // 2 ** i) for i in range(3)]
    baseline = optical_flow_loss(pat, zero, zero, d=3).item()
    for _ in range(80):
        fwd, bwd = sequence_flows(net, pat, 3)
        loss = optical_flow_loss(pat, fwd, bwd, d=3)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.4 * baseline
    fwd, _ = sequence_flows(net, pat, 3)
    # frame 0 -> frame 3: the band moved down (positive rows) by 2.5 px, so the flow samples downward
    dy = fwd[0][0, 0, 0, 6:11, 8:56].mean().item()
    assert dy > 1.0


def test_time_shift_is_circular():
    x = torch.arange(5.0).reshape(1, 5)
    assert time_shift(x, 3).tolist() == [[3, 4, 0, 1, 2]]
    assert time_shift(x, -3).tolist() == [[2, 3, 4, 0, 1]]


def test_normalise_segments_per_study():
    x = torch.cat((torch.rand(1, 16, 4, 32, 16) * 1000, torch.rand(1, 16, 4, 32, 16) * 3))
    y = normalise_segments(x)
    for b in range(2):
        assert y[b].quantile(0.5).item() == pytest.approx(0.5, abs=0.05)


def test_config_round_trip_and_radial_pooling():
    cfg = MMSAConfig(radial=32, angular=16, cnn_channels=(8, 8, 8, 8))
    assert MMSAConfig.from_dict(cfg.to_dict()) == cfg
    assert MMSANet(cfg)(torch.rand(1, 16, 10, 32, 16))[0].shape == (1, 16, 4)
    raw = np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
    pooled = MMSAConfig(radial_oversample=2).pool_radial(raw)
    assert pooled.shape == (2, 2, 3) and pooled[0, 0, 0] == (raw[0, 0, 0] + raw[0, 1, 0]) / 2
