"""PKEcho-Net structure (guide §7.3 A): parameter counts, convex affinities, proxy upsampling, kernel head,
temporal coupling and where the ED/ES loss's gradient lands."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cardiacmotion.models.pkecho import PKEchoNet, parameter_count
from cardiacmotion.models.pkecho_blocks import AffinityEstimator, outside_mask, proxy_upsample
from cardiacmotion.models.pkecho_loss import one_hot_targets, pkecho_loss, signed_distance

torch.set_num_threads(1)


@pytest.mark.parametrize("backbone,millions", [("r18", 11.78), ("r34", 21.89), ("r50", 25.71)])
def test_parameter_counts_match_the_guide(backbone, millions):
    # the guide's configuration: full width, one class, d = 32, S = 3, cross-video attention on
    model = PKEchoNet(backbone, base=64, num_classes=1, cross_video=True)
    assert abs(parameter_count(model) / 1e6 - millions) < 0.006


def test_affinities_are_convex_and_zero_outside_the_grid():
    torch.manual_seed(0)
    est = AffinityEstimator(8, 2).eval()
    with torch.no_grad():
        a = est(torch.randn(3, 8, 5, 6))
    assert a.shape == (3, 4, 9, 5, 6)
    assert torch.allclose(a.sum(2), torch.ones(3, 4, 5, 6), atol=1e-6)
    assert bool((a >= 0).all())
    out = outside_mask(5, 6).permute(2, 0, 1)[None, None].expand_as(a)
    assert float(a[out].abs().max()) == 0.0
    assert float(a[~out].min()) > 0.0


def test_upsampling_a_constant_map_gives_the_constant():
    torch.manual_seed(1)
    est = AffinityEstimator(4, 4).eval()
    with torch.no_grad():
        a = est(torch.randn(2, 4, 6, 5))
    p = torch.full((2, 3, 6, 5), 2.5)
    up = proxy_upsample(p, a)
    assert up.shape == (2, 3, 24, 20)
    assert torch.allclose(up, torch.full_like(up, 2.5), atol=1e-5)


def test_centre_only_affinity_is_nearest_neighbour_upsampling():
    p = torch.randn(2, 2, 4, 3)
    a = torch.zeros(2, 4, 9, 4, 3)
    a[:, :, 4] = 1.0  # neighbour 4 = the cell itself
    assert torch.allclose(proxy_upsample(p, a), F.interpolate(p, scale_factor=2, mode="nearest"))


def test_proxy_upsampling_places_each_child_at_its_position():
    # one coarse cell (1, 2); child q = 1 (row 0, column 1) takes its right neighbour (k = 5)
    p = torch.arange(12.0).reshape(1, 1, 3, 4)
    a = torch.zeros(1, 4, 9, 3, 4)
    a[:, :, 4] = 1.0
    a[0, 1, 4, 1, 2], a[0, 1, 5, 1, 2] = 0.0, 1.0
    up = proxy_upsample(p, a)
    assert float(up[0, 0, 2, 5]) == float(p[0, 0, 1, 3])
    assert float(up[0, 0, 2, 4]) == float(p[0, 0, 1, 2])


def _small(**kw) -> PKEchoNet:
    torch.manual_seed(0)
    return PKEchoNet("r18", base=8, num_classes=kw.pop("num_classes", 1), **kw)


def test_shapes_and_deep_supervision_outputs():
    model = _small(num_classes=3).eval()
    outs = model(torch.rand(2, 10, 1, 64, 64))
    assert len(outs) == 4 and all(o.shape == (2, 10, 3, 64, 64) for o in outs)
    ends = model(torch.rand(2, 10, 1, 64, 64), frames_out=[0, -1])
    assert all(o.shape == (2, 2, 3, 64, 64) for o in ends)
    with pytest.raises(ValueError):
        model(torch.rand(1, 10, 1, 48, 64))


def test_without_iterations_the_output_is_the_predictor():
    model = _small(iterations=0).eval()
    x = torch.rand(1, 10, 1, 64, 64)
    (out,) = model(x)
    fr, affs = model.frame_features(x[0])
    assert torch.allclose(out[0], model.upsample(model.predict0(fr), affs, (64, 64)), atol=1e-6)


def test_frames_exchange_kernels_only_through_temporal_attention():
    x = torch.rand(1, 10, 1, 64, 64)
    y = x.clone()
    y[0, 7] = torch.rand(1, 64, 64)
    for temporal, changes in ((True, True), (False, False)):
        model = _small(temporal=temporal).eval()
        with torch.no_grad():
            a, b = model(x, deep=False)[0], model(y, deep=False)[0]
        moved = float((a[0, 2] - b[0, 2]).abs().max())
        assert (moved > 1e-4) == changes, (temporal, moved)
        assert float((a[0, 7] - b[0, 7]).abs().max()) > 1e-4


def test_cross_video_switch_couples_the_videos_of_a_batch():
    x = torch.rand(2, 10, 1, 64, 64)
    y = x.clone()
    y[1] = torch.rand(10, 1, 64, 64)
    for cross in (True, False):
        model = _small(cross_video=cross).eval()
        with torch.no_grad():
            a, b = model(x, deep=False)[0], model(y, deep=False)[0]
        assert (float((a[0] - b[0]).abs().max()) > 1e-4) == cross


def test_the_loss_gradient_reaches_only_the_ed_and_es_outputs():
    model = _small(num_classes=1).train()
    x = torch.rand(1, 10, 1, 64, 64)
    fr, affs = model.frame_features(x[0])
    logits = [model.upsample(p, affs, (64, 64)).reshape(1, 10, 1, 64, 64) for p in model.kernel_logits(fr, 1)]
    for lg in logits:
        lg.retain_grad()
    g = torch.zeros(1, 2, 1, 64, 64)
    g[..., 20:40, 24:44] = 1.0
    loss, _ = pkecho_loss([lg[:, [0, 9]] for lg in logits], g, signed_distance(g))
    loss.backward()
    for lg in logits:
        per_frame = lg.grad.abs().flatten(2).sum(-1)[0]
        assert float(per_frame[0]) > 0 and float(per_frame[9]) > 0
        assert float(per_frame[1:9].max()) == 0.0
    # the encoder still learns from the unlabelled frames' features through the temporal attention
    assert model.encoder.stem[0].weight.grad is not None


def test_signed_distance_is_negative_inside_and_scaled():
    m = torch.zeros(1, 32, 32)
    m[0, 8:24, 8:24] = 1
    phi = signed_distance(one_hot_targets(m.long(), 1))[0, 0]
    assert float(phi[16, 16]) < 0 < float(phi[0, 0])
    assert abs(float(phi[0, 0]) - (8 * 2**0.5) / 32) < 1e-5
