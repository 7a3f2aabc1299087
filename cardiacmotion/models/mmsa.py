"""MMSA: regional cardiac motion scoring with multi-scale motion-based spatial attention.

Xue et al. (``shared/seeds/000_...``). Input: the 16 AHA segment sequences of one study in polar
space, ``[B, 16, T, R, A]`` (radius x angle per frame; apical segments already resampled along the
angle so all 16 share one size). The patient sequence is the 16 segments side by side along the
angle, ``[B, T, R, 16*A]``.

- Top-down branch (``FlowNet``): unsupervised optical flow between every frame and its ``d``-frame
  circular time shift, at scales 1, 1/2, 1/4 (photometric + Sobel smoothness loss).
- Bottom-up branch: four conv blocks (two 3x3 convs + leaky ReLU 0.2 each, then 2x down-sampling).
  The first layer takes the frames as channels with a kernel-interpolation convolution, so any
  number of frames works. After blocks 1-3 (scales 1, 1/2, 1/4) a motion-based spatial attention
  module weights the features with the segment's flow at that scale, and the motion features are
  concatenated to the next block's input.
- Temporal squeeze-excitation and a non-local block enhance the last features; two FC layers give
  the four classes (index 0..3 = score 1 normal, 2 hypokinetic, 3 akinetic, 4 dyskinetic).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from cardiacmotion.models.mmsa_blocks import (
    KernelInterpConv2d,
    resample_time,
    MotionSpatialAttention,
    NonLocalBlock,
    TemporalSqueezeExcitation,
)
from cardiacmotion.models.mmsa_flow import LEAK, FlowNet, optical_flow_loss, sequence_flows

ARCHITECTURE = "mmsa-polar16-v1"
N_SEGMENTS = 16
N_CLASSES = 4


@dataclass
class MMSAConfig:
    """Hyper-parameters that fix the architecture (stored with the weights).

    Attributes:
        radial: polar samples along the radius per segment (multiple of 16).
        angular: polar samples along the angle per segment (multiple of 16).
        ref_frames: frames the sequence is resampled to (one periodic cycle) before both branches,
            so the flow's d-frame shift spans the same part of the cycle for every acquisition; the
            first layer's kernel-interpolation convolution would accept any length.
        radial_oversample: the polar sampler takes this many radial samples per network sample and
            averages them (anti-aliasing the thin wall).
        time_shift: ``d`` of the photometric loss (frames).
        cnn_channels: widths of the four bottom-up blocks.
        flow_channels: widths of the four flow-encoder levels.
        hidden: width of the first FC layer.
    """

    radial: int = 16
    angular: int = 16
    ref_frames: int = 16
    radial_oversample: int = 2
    time_shift: int = 3
    cnn_channels: Tuple[int, ...] = (16, 24, 32, 48)
    flow_channels: Tuple[int, ...] = (8, 16, 24, 32)
    hidden: int = 64
    architecture: str = field(default=ARCHITECTURE)

    def to_dict(self) -> Dict:
        d = asdict(self)
        d["cnn_channels"] = list(self.cnn_channels)
        d["flow_channels"] = list(self.flow_channels)
        return d

    def pool_radial(self, segments):
        """Average the oversampled radial samples: [..., R*k, A] -> [..., R, A] (numpy or torch)."""
        k = self.radial_oversample
        if k == 1:
            return segments
        shape = segments.shape
        return segments.reshape(*shape[:-2], shape[-2] // k, k, shape[-1]).mean(-2)

    @classmethod
    def from_dict(cls, d: Dict) -> "MMSAConfig":
        d = dict(d)
        d["cnn_channels"] = tuple(d["cnn_channels"])
        d["flow_channels"] = tuple(d["flow_channels"])
        return cls(**d)


def patient_sequence(segments: torch.Tensor) -> torch.Tensor:
    """[B, 16, T, R, A] segment sequences -> [B, T, R, 16*A] patient sequence (eq. 3)."""
    b, s, t, r, a = segments.shape
    return segments.permute(0, 2, 3, 1, 4).reshape(b, t, r, s * a)


def split_segments(flow: torch.Tensor, n: int = N_SEGMENTS) -> torch.Tensor:
    """Patient flow [B, T, 2, h, n*a] -> segment flows [B*n, T, 2, h, a] (eq. 10)."""
    b, t, c, h, w = flow.shape
    a = w // n
    return flow.reshape(b, t, c, h, n, a).permute(0, 4, 1, 2, 3, 5).reshape(b * n, t, c, h, a)


class MMSANet(nn.Module):
    """The full MMSA scorer. ``forward`` returns logits [B, 16, 4] and the flows for the loss."""

    def __init__(self, config: MMSAConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or MMSAConfig()
        c1, c2, c3, c4 = cfg.cnn_channels
        self.flow = FlowNet(cfg.flow_channels)
        self.first = KernelInterpConv2d(cfg.ref_frames, c1)
        self.block1 = nn.Sequential(nn.Conv2d(c1, c1, 3, padding=1), nn.LeakyReLU(LEAK, inplace=True))
        self.block2 = _block(c1 + 3, c2)
        self.block3 = _block(c2 + 3, c3)
        self.block4 = _block(c3 + 3, c4)
        self.msa = nn.ModuleList(MotionSpatialAttention(c, cfg.ref_frames) for c in (c1, c2, c3))
        self.tse = TemporalSqueezeExcitation(c4)
        self.nonlocal_block = NonLocalBlock(c4)
        if cfg.radial % 16 or cfg.angular % 16:
            raise ValueError("MMSAConfig.radial and .angular must be multiples of 16")
        self.pool_shape = (cfg.radial // 16, cfg.angular // 16)  # after the fourth block's down-sampling
        self.fc1 = nn.Linear(c4 * self.pool_shape[0] * self.pool_shape[1], cfg.hidden)
        self.fc2 = nn.Linear(cfg.hidden, N_CLASSES)
        self.dropout = nn.Dropout(0.3)

    def forward(self, segments: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor], List[torch.Tensor]]:
        """``segments`` [B, 16, T, R, A] normalised intensities.

        Returns ``(logits [B, 16, 4], forward flows, backward flows)`` with the flows as lists over
        the three scales of [B, T, 2, R/s, 16*A/s] (pass them to ``flow_loss``).
        """
        b, s, t, r, a = segments.shape
        cfg = self.config
        if (r, a) != (cfg.radial, cfg.angular) or s != N_SEGMENTS:
            raise ValueError(f"expected [B, 16, T, {cfg.radial}, {cfg.angular}] segment sequences, got {tuple(segments.shape)}")
        segments = resample_time(segments, cfg.ref_frames, dim=2)
        t = cfg.ref_frames
        pat = patient_sequence(segments)
        fwd, bwd = sequence_flows(self.flow, pat, cfg.time_shift)
        m = [split_segments(u) for u in fwd]

        x = segments.reshape(b * s, t, r, a)
        x = F.leaky_relu(self.first(x), LEAK)
        x = self.block1(x)
        stages = (None, self.block2, self.block3)
        for i in range(3):
            if i:
                x = stages[i](x)
            z, _, motion = self.msa[i](x, m[i])
            x = F.max_pool2d(torch.cat((z, motion), 1), 2)
        x = self.block4(x)
        x = self.tse(self.nonlocal_block(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout(F.leaky_relu(self.fc1(x.flatten(1)), LEAK))
        logits = self.fc2(x).reshape(b, s, N_CLASSES)
        return logits, fwd, bwd

    def attention_maps(self, segments: torch.Tensor) -> List[torch.Tensor]:
        """The three MSA attention maps [B*16, 1, h, w] (for inspection and tests)."""
        segments = resample_time(segments, self.config.ref_frames, dim=2)
        b, s, t, r, a = segments.shape
        fwd, _ = sequence_flows(self.flow, patient_sequence(segments), self.config.time_shift)
        m = [split_segments(u) for u in fwd]
        x = self.block1(F.leaky_relu(self.first(segments.reshape(b * s, t, r, a)), LEAK))
        maps = []
        stages = (None, self.block2, self.block3)
        for i in range(3):
            if i:
                x = stages[i](x)
            z, att, motion = self.msa[i](x, m[i])
            maps.append(att)
            x = F.max_pool2d(torch.cat((z, motion), 1), 2)
        return maps

    def flow_loss(self, segments: torch.Tensor, fwd: List[torch.Tensor], bwd: List[torch.Tensor]) -> torch.Tensor:
        """The unsupervised optical-flow objective (eq. 9) for the flows returned by ``forward``."""
        segments = resample_time(segments, self.config.ref_frames, dim=2)
        return optical_flow_loss(patient_sequence(segments), fwd, bwd, self.config.time_shift)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1),
        nn.LeakyReLU(LEAK, inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.LeakyReLU(LEAK, inplace=True),
    )


def normalise_segments(segments: torch.Tensor) -> torch.Tensor:
    """Per-study intensity normalisation: 1st-99th percentile of the study mapped to [0, 1].

    ``segments`` [B, 16, T, R, A]; each study (batch item) is scaled on its own, as MR intensities
    carry no absolute meaning.
    """
    flat = segments.reshape(segments.shape[0], -1).float()
    lo = torch.quantile(flat, 0.01, dim=1)
    hi = torch.quantile(flat, 0.99, dim=1)
    scale = (hi - lo).clamp_min(1e-6)
    out = (segments - lo[:, None, None, None, None]) / scale[:, None, None, None, None]
    return out.clamp(-0.5, 1.5)
