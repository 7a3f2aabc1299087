"""Building blocks of the MMSA scorer: kernel-interpolation first layer, motion-based spatial
attention (MSA), temporal squeeze-excitation (TSE) and the non-local block.

Xue et al., "Regional cardiac motion scoring with multi-scale motion-based spatial attention",
sections III-B to III-D.
"""
from __future__ import annotations

import math
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from cardiacmotion.models.mmsa_flow import LEAK


def resample_time(x: torch.Tensor, frames: int, dim: int = 1) -> torch.Tensor:
    """Linearly resample axis ``dim`` of ``x`` to ``frames`` samples over one periodic cardiac cycle."""
    n = x.shape[dim]
    if n == frames:
        return x
    moved = x.movedim(dim, -1)
    shape = moved.shape
    flat = moved.reshape(-1, 1, n)
    # periodic: append the first frame so the cycle closes, then sample [0, n) at `frames` points
    flat = torch.cat((flat, flat[..., :1]), -1)
    pos = torch.arange(frames, device=x.device, dtype=x.dtype) * (n / frames)
    lo = pos.floor().long()
    frac = pos - lo.to(x.dtype)
    out = flat[..., lo] * (1 - frac) + flat[..., lo + 1] * frac
    return out.reshape(*shape[:-1], frames).movedim(-1, dim)


class KernelInterpConv2d(nn.Module):
    """First convolution of the bottom-up CNN with the frames of a segment sequence as channels.

    The kernel is learned on ``ref_frames`` temporal samples of one cardiac cycle; for a sequence
    of ``T`` frames it is linearly resampled (periodically) to ``T`` temporal taps and scaled by
    ``ref_frames / T``, so one set of weights serves any number of frames (the kernel-interpolation
    layer of Cardiac-MOS that the MMSA paper reuses).
    """

    def __init__(self, ref_frames: int, out_channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.ref_frames = ref_frames
        self.weight = nn.Parameter(torch.empty(out_channels, ref_frames, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` [N, T, H, W] -> [N, out_channels, H, W]."""
        t = x.shape[1]
        w = resample_time(self.weight, t, dim=1) * (self.ref_frames / t)
        return F.conv2d(x, w, self.bias, padding=self.weight.shape[-1] // 2)


class MotionSpatialAttention(nn.Module):
    """MSA (Fig. 3, eqs. 10-13) for one scale.

    Spatial-temporal encoding: ``c = [max_t |m|, mean_t m, x]``. Attention encoding: ``c`` and the
    flow of all frames (resampled to ``ref_frames``) each through a 1x1 convolution, concatenated,
    another 1x1 convolution to one map ``M``; ``A = softmax over positions (M)``; ``z = A*x + x``.
    The softmax sums to 1 over the ``h*w`` positions, so it is multiplied by ``h*w`` to give the
    attention term the same order as the skip term (mean weight 1).
    """

    def __init__(self, channels: int, ref_frames: int, hidden: int = 8) -> None:
        super().__init__()
        self.ref_frames = ref_frames
        self.encode_c = nn.Conv2d(channels + 3, hidden, 1)
        self.encode_u = nn.Conv2d(2 * ref_frames, hidden, 1)
        self.attend = nn.Conv2d(2 * hidden, 1, 1)

    def forward(self, x: torch.Tensor, m: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x`` [N, C, h, w] CNN features, ``m`` [N, T, 2, h, w] segment flow at the same scale.

        Returns ``(z, attention [N, 1, h, w], motion features [N, 3, h, w])``.
        """
        n, _, h, w = x.shape
        motion = torch.cat((m.norm(dim=2).amax(1).unsqueeze(1), m.mean(1)), 1)
        c = torch.cat((motion, x), 1)
        u_all = resample_time(m, self.ref_frames, dim=1).reshape(n, 2 * self.ref_frames, h, w)
        enc = torch.cat((self.encode_c(c), self.encode_u(u_all)), 1)
        logits = self.attend(F.leaky_relu(enc, LEAK)).reshape(n, h * w)
        attention = torch.softmax(logits, dim=1).reshape(n, 1, h, w) * (h * w)
        return attention * x + x, attention, motion


class TemporalSqueezeExcitation(nn.Module):
    """TSE (Fig. 4, eqs. 14-16): squeeze by global average pooling, excite by two FC layers
    (leaky ReLU 0.2, softmax), re-weight the channels.

    The bottom-up CNN carries time in its channels (the first layer's filters are temporal
    filters over the frames), so channel weights are temporal weights. The softmax sums to 1;
    it is multiplied by the channel count so an even weighting leaves the features unchanged.
    """

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, max(channels // reduction, 2))
        self.fc2 = nn.Linear(max(channels // reduction, 2), channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s1 = x.mean(dim=(2, 3))
        s2 = torch.softmax(self.fc2(F.leaky_relu(self.fc1(s1), LEAK)), dim=1) * x.shape[1]
        return x * s2[:, :, None, None]


class NonLocalBlock(nn.Module):
    """Embedded-Gaussian non-local block (Fig. 5, eqs. 17-19) with a residual connection."""

    def __init__(self, channels: int, inner: int | None = None) -> None:
        super().__init__()
        inner = inner or max(channels // 2, 1)
        self.phi = nn.Conv2d(channels, inner, 1)
        self.psi = nn.Conv2d(channels, inner, 1)
        self.g = nn.Conv2d(channels, inner, 1)
        self.theta = nn.Conv2d(inner, channels, 1)
        nn.init.zeros_(self.theta.weight)  # starts as identity: the residual keeps the input
        nn.init.zeros_(self.theta.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        q = self.phi(x).flatten(2).transpose(1, 2)  # [N, hw, inner]
        k = self.psi(x).flatten(2)  # [N, inner, hw]
        v = self.g(x).flatten(2).transpose(1, 2)  # [N, hw, inner]
        weights = torch.softmax(q @ k, dim=-1)  # h(x_i, x_j) / C(x)
        r = (weights @ v).transpose(1, 2).reshape(n, -1, h, w)
        return self.theta(r) + x
