"""The top-down branch of MMSA: unsupervised multi-scale optical flow on the patient sequence.

Xue et al., "Regional cardiac motion scoring with multi-scale motion-based spatial attention"
(section III-B, eqs. 4-9). The patient sequence ``P_pat`` is the 16 polar segment sequences
laid side by side along the angle axis, ``[T, R, 16*A]``. For every frame ``t`` the network sees
the pair (``P_t``, ``P_{t+d}``) and predicts a flow ``u_t`` such that warping frame ``t+d`` by
``u_t`` reconstructs frame ``t`` (circular time shift, ``d = 3`` by default). An encoder-decoder
with skip connections predicts the flow at three scales (1, 1/2, 1/4); each decoder block takes
the previous block's features, the skip features and the upsampled coarser flow (eq. 4).
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

LEAK = 0.2


def conv_block(cin: int, cout: int) -> nn.Sequential:
    """Two 3x3 convolutions, each followed by leaky ReLU (the block shape of both branches)."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1),
        nn.LeakyReLU(LEAK, inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.LeakyReLU(LEAK, inplace=True),
    )


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``image`` [N, C, H, W] at ``x + flow`` (flow [N, 2, H, W] in pixels, (dy, dx)).

    Border values are repeated outside the image, so a flow pointing out of the sequence
    does not invent dark pixels.
    """
    n, _, h, w = image.shape
    ys = torch.arange(h, device=image.device, dtype=image.dtype)
    xs = torch.arange(w, device=image.device, dtype=image.dtype)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    y = gy.unsqueeze(0) + flow[:, 0]
    x = gx.unsqueeze(0) + flow[:, 1]
    # grid_sample's normalised coordinates with align_corners=True: -1 and 1 are pixel centres 0 and size-1
    grid = torch.stack((2.0 * x / max(w - 1, 1) - 1.0, 2.0 * y / max(h - 1, 1) - 1.0), dim=-1)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


_SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8.0


def sobel_smoothness(flow: torch.Tensor) -> torch.Tensor:
    """Mean squared Sobel gradient of both flow components (eq. 7)."""
    kx = _SOBEL_X.to(flow.device, flow.dtype)
    kernels = torch.stack((kx, kx.t())).unsqueeze(1)  # [2, 1, 3, 3]: d/dx, d/dy
    comps = flow.reshape(-1, 1, *flow.shape[-2:])
    grads = F.conv2d(F.pad(comps, (1, 1, 1, 1), mode="replicate"), kernels)
    return grads.pow(2).mean()


def time_shift(seq: torch.Tensor, d: int) -> torch.Tensor:
    """Circular shift along time (dim 1 of [B, T, ...]): ``out[:, t] = seq[:, (t + d) % T]``."""
    return torch.roll(seq, shifts=-d, dims=1)


class FlowNet(nn.Module):
    """Encoder-decoder estimating optical flow at scales 1, 1/2 and 1/4.

    Args:
        channels: feature widths of the four encoder levels (the last is the bottleneck at 1/8).
    """

    def __init__(self, channels: Sequence[int] = (12, 24, 32, 48)) -> None:
        super().__init__()
        c1, c2, c3, c4 = channels
        self.enc1 = conv_block(2, c1)
        self.enc2 = conv_block(c1, c2)
        self.enc3 = conv_block(c2, c3)
        self.enc4 = conv_block(c3, c4)
        # decoder blocks: [upsampled previous decoder features, skip features, upsampled flow]
        self.dec3 = conv_block(c4 + c3, c3)
        self.dec2 = conv_block(c3 + c2 + 2, c2)
        self.dec1 = conv_block(c2 + c1 + 2, c1)
        self.flow3 = nn.Conv2d(c3, 2, 3, padding=1)
        self.flow2 = nn.Conv2d(c2, 2, 3, padding=1)
        self.flow1 = nn.Conv2d(c1, 2, 3, padding=1)
        for head in (self.flow1, self.flow2, self.flow3):
            # start from zero motion: the photometric loss then pulls the flow where it helps
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def forward(self, fixed: torch.Tensor, moving: torch.Tensor) -> List[torch.Tensor]:
        """Flows [N, 2, H/s, W/s] for s = 1, 2, 4 (finest first), in pixels of their own scale.

        ``fixed`` and ``moving`` are [N, 1, H, W] with H, W divisible by 8.
        """
        e1 = self.enc1(torch.cat((fixed, moving), 1))
        e2 = self.enc2(F.max_pool2d(e1, 2))
        e3 = self.enc3(F.max_pool2d(e2, 2))
        e4 = self.enc4(F.max_pool2d(e3, 2))
        d3 = self.dec3(torch.cat((_up(e4), e3), 1))
        u3 = self.flow3(d3)
        d2 = self.dec2(torch.cat((_up(d3), e2, 2.0 * _up(u3)), 1))
        u2 = self.flow2(d2) + 2.0 * _up(u3)
        d1 = self.dec1(torch.cat((_up(d2), e1, 2.0 * _up(u2)), 1))
        u1 = self.flow1(d1) + 2.0 * _up(u2)
        return [u1, u2, u3]


def _up(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def sequence_flows(net: FlowNet, pat: torch.Tensor, d: int) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
    """Run ``net`` on every frame pair (t, t+d) and (t, t-d) of patient sequences ``pat`` [B, T, H, W].

    Returns ``(forward, backward)``: lists over the three scales of flows [B, T, 2, H/s, W/s].
    """
    b, t, h, w = pat.shape
    fixed = pat.reshape(b * t, 1, h, w)
    fwd_moving = time_shift(pat, d).reshape(b * t, 1, h, w)
    bwd_moving = time_shift(pat, -d).reshape(b * t, 1, h, w)
    flows = net(torch.cat((fixed, fixed)), torch.cat((fwd_moving, bwd_moving)))
    fwd, bwd = [], []
    for u in flows:
        u = u.reshape(2, b, t, 2, *u.shape[-2:])
        fwd.append(u[0])
        bwd.append(u[1])
    return fwd, bwd


def optical_flow_loss(
    pat: torch.Tensor,
    fwd: Sequence[torch.Tensor],
    bwd: Sequence[torch.Tensor],
    d: int,
    lambda_con: float = 1.0,
    lambda_smooth: float = 0.05,
) -> torch.Tensor:
    """Eqs. 6-9: photometric consistency against the +d and -d shifted sequence, plus smoothness, over 3 scales."""
    total = pat.new_zeros(())
    for i, (uf, ub) in enumerate(zip(fwd, bwd)):
        p = F.avg_pool2d(pat, 2 ** i) if i else pat  # P_pat at this scale
        b, t, h, w = p.shape
        flat = p.reshape(b * t, 1, h, w)
        rec_f = warp(time_shift(p, d).reshape(b * t, 1, h, w), uf.reshape(b * t, 2, h, w))
        rec_b = warp(time_shift(p, -d).reshape(b * t, 1, h, w), ub.reshape(b * t, 2, h, w))
        con = 0.5 * ((flat - rec_f).pow(2).mean() + (flat - rec_b).pow(2).mean())
        smooth = sobel_smoothness(uf) + sobel_smoothness(ub)
        total = total + lambda_con * con + lambda_smooth * smooth
    return total
