"""SSCF correctness (guide §7): shapes, the grouped dynamic kernel, calibration with A = 1, gradients,
EMA closed form, schedules, window order, position-specific encoders."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cardiacmotion.echo.sscf_data import window_indices
from cardiacmotion.models.sscf import ASSC, Encoder, SSCFNet, dynamic_conv, region_summary
from cardiacmotion.models.sscf_teacher import (consistency_loss, consistency_weight, ema_update, make_teacher, poly_lr,
                                               supervised_loss)

torch.set_num_threads(1)


def test_encoder_level_shapes():
    feats = Encoder((4, 8, 16))(torch.rand(2, 1, 32, 32))
    assert [tuple(f.shape) for f in feats] == [(2, 4, 32, 32), (2, 8, 16, 16), (2, 16, 8, 8)]
    assert region_summary(feats[0]).shape == (2, 4, 84)


@pytest.mark.parametrize("dilation", [1, 2, 3])
def test_grouped_dynamic_kernel_equals_per_sample_loop(dilation):
    g = torch.Generator().manual_seed(dilation)
    x = torch.randn(3, 5, 11, 13, generator=g)
    w = torch.randn(3, 6, 5, 3, 3, generator=g)
    grouped = dynamic_conv(x, w, dilation)
    loop = torch.cat([F.conv2d(x[b:b + 1], w[b], padding=dilation, dilation=dilation) for b in range(3)])
    assert grouped.shape == (3, 6, 11, 13)
    assert float((grouped - loop).abs().max()) < 1e-5


def test_calibration_with_unit_gates_is_a_box_filter_scaled_by_G():
    m = ASSC(4, dilations=(1,))
    with torch.no_grad():
        m.G.copy_(torch.rand(4, 4, 1, 1).expand(4, 4, 3, 3))
    n = torch.randn(2, 4, 9, 9)
    w = m.kernel(torch.ones(2, 4, 4))
    y = dynamic_conv(n, w, 1)
    box = F.conv2d(n, torch.ones(1, 1, 3, 3).expand(4, 1, 3, 3), padding=1, groups=4)  # per-channel 3x3 sums
    expect = torch.einsum("oc,bchw->bohw", m.G.detach()[:, :, 0, 0], box) / 36.0
    assert float((y - expect).abs().max()) < 1e-5


def test_gradients_reach_G_T_and_temperature():
    m = ASSC(4)
    n, x = torch.randn(2, 4, 16, 16), torch.randn(2, 4, 16, 16)
    m(n, x).square().mean().backward()
    for p in (m.G, m.tq, m.tk, m.temperature):
        assert p.grad is not None and float(p.grad.abs().sum()) > 0


def test_ema_matches_closed_form():
    torch.manual_seed(0)
    s = SSCFNet((4, 8), num_classes=1)
    t = make_teacher(s)
    p0 = [p.detach().clone() for p in t.parameters()]
    eta, steps = 0.9, 5
    for _ in range(steps):  # constant student: theta'_n = eta^n theta'_0 + (1 - eta^n) theta
        ema_update(t, s, eta)
    for pt, ps, q0 in zip(t.parameters(), s.parameters(), p0):
        torch.testing.assert_close(pt, eta ** steps * q0 + (1 - eta ** steps) * ps, rtol=1e-5, atol=1e-6)


def test_ramp_and_learning_rate_curves():
    assert consistency_weight(0, 100) == 0.0 and consistency_weight(50, 100) == pytest.approx(0.25)
    assert consistency_weight(100, 100) == 1.0 and consistency_weight(150, 100) == 1.0
    assert poly_lr(1e-4, 0, 10) == pytest.approx(1e-4)
    assert poly_lr(1e-4, 5, 10) == pytest.approx(1e-4 * 0.5 ** 0.9)
    assert poly_lr(1e-4, 10, 10) == 0.0


def test_windows_are_previous_current_next_with_edges_replicated():
    idx = window_indices(range(5), 5)
    np.testing.assert_array_equal(idx, [[0, 0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 4]])


def test_swapping_window_positions_changes_the_output_only_with_three_encoders():
    torch.manual_seed(0)
    w = torch.rand(2, 3, 32, 32)
    swapped = w[:, [2, 1, 0]]
    k3 = SSCFNet((4, 8, 16), num_classes=4, encoders=3).eval()
    assert float((k3(w) - k3(swapped)).abs().max()) > 1e-4
    k1 = SSCFNet((4, 8, 16), num_classes=4, encoders=1).eval()
    assert len(k1.encoders) == 1 and len(k3.encoders) == 3


def test_losses_are_zero_for_perfect_agreement_and_positive_otherwise():
    target = torch.zeros(2, 8, 8, dtype=torch.long)
    target[:, 2:6, 2:6] = 1
    perfect = torch.where(target[:, None] == 1, 30.0, -30.0)
    loss, dice = supervised_loss(perfect, target)
    assert float(loss) < 1e-3 and dice > 0.999
    logits = torch.randn(2, 4, 8, 8)
    assert float(consistency_loss(logits, torch.softmax(logits, 1))) < 1e-6
    assert float(consistency_loss(logits, torch.softmax(-logits, 1))) > 1e-3
