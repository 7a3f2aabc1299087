"""SSCF (Wu et al., MedIA 2022): three-frame echo segmentation with semantic calibration and fusion.

Guide: ``../shared/specs/SSCF.md`` §2. A window ``(t-1, t, t+1)`` goes through position-specific
encoders (``k=3``: separate weights per position; ``k=1``: one shared encoder, the ablation). At every
level the neighbours' features are calibrated toward the centre frame's by ASSC (region-pooled
channel correlation -> per-sample 3x3 kernels applied at several dilations) and fused with it by a
1x1 convolution (BSSF); a U-Net decoder gives the centre frame's segmentation. ``num_classes=1`` is
the paper's binary LV mode (one logit), ``num_classes=4`` the product's LV / myocardium / LA mode.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

POOLS = (1, 3, 5, 7)  # region summaries: 1 + 9 + 25 + 49 = 84 values per channel


def conv_block(cin: int, cout: int) -> nn.Sequential:
    """Two conv3x3-BN-ReLU (the U-Net level)."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


class Encoder(nn.Module):
    """U-Net contracting path; returns the feature of every level (full resolution first)."""

    def __init__(self, widths: Sequence[int], in_channels: int = 1):
        super().__init__()
        chans = [in_channels] + list(widths)
        self.blocks = nn.ModuleList(conv_block(chans[i], chans[i + 1]) for i in range(len(widths)))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for i, b in enumerate(self.blocks):
            x = b(x if i == 0 else F.max_pool2d(x, 2))
            feats.append(x)
        return feats


def dynamic_conv(x: torch.Tensor, weight: torch.Tensor, dilation: int = 1) -> torch.Tensor:
    """Per-sample 3x3 convolution in one grouped call.

    Args:
        x: ``[B, C, H, W]``; weight: ``[B, O, C, 3, 3]`` (one kernel per sample).
    Returns:
        ``[B, O, H, W]``, padding = dilation (same size).
    """
    b, c, h, w = x.shape
    o = weight.shape[1]
    y = F.conv2d(x.reshape(1, b * c, h, w), weight.reshape(b * o, c, 3, 3), padding=dilation, dilation=dilation, groups=b)
    return y.reshape(b, o, h, w)


def region_summary(x: torch.Tensor, pools: Sequence[int] = POOLS) -> torch.Tensor:
    """``[B, C, H, W]`` -> ``[B, C, sum(p*p)]``: adaptive max-pools of each channel, flattened and joined."""
    return torch.cat([F.adaptive_max_pool2d(x, p).flatten(2) for p in pools], dim=2)


class ASSC(nn.Module):
    """Adaptive spatiotemporal semantic calibration of a neighbour's features ``N`` toward the current ``X``.

    ``T_q``/``T_k``: identity-initialised 2x3 affines (grid_sample) shaping only the correlation;
    ``A = sigmoid(temperature * <q_i, k_j>)`` of centred, L2-normalised region summaries
    (``corr='raw'``: the paper's plain dot product, the ablation); kernel
    ``W[b, o, c] = A[b, c, o] * G[o, c] / (9 C)`` applied to ``N`` at every dilation, averaged.
    """

    def __init__(self, channels: int, dilations: Sequence[int] = (1, 2, 3), corr: str = "norm"):
        super().__init__()
        eye = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        self.tq = nn.Parameter(eye.clone())
        self.tk = nn.Parameter(eye.clone())
        self.G = nn.Parameter(torch.ones(channels, channels, 3, 3))
        self.temperature = nn.Parameter(torch.tensor(4.0))
        self.dilations = tuple(int(d) for d in dilations)
        self.corr = corr

    @staticmethod
    def _affine(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        grid = F.affine_grid(theta[None].expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def gates(self, n: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The channel correlation ``A`` ``[B, C_neighbour, C_current]`` in (0, 1)."""
        q = region_summary(self._affine(n, self.tq))
        k = region_summary(self._affine(x, self.tk))
        if self.corr == "norm":
            q = F.normalize(q - q.mean(2, keepdim=True), dim=2)
            k = F.normalize(k - k.mean(2, keepdim=True), dim=2)
            return torch.sigmoid(self.temperature * torch.bmm(q, k.transpose(1, 2)))
        return torch.sigmoid(torch.bmm(q, k.transpose(1, 2)))

    def kernel(self, a: torch.Tensor) -> torch.Tensor:
        """Per-sample kernels ``[B, C_out, C_in, 3, 3]`` from the gates ``a``."""
        c = self.G.shape[0]
        return a.transpose(1, 2)[..., None, None] * self.G[None] / (9.0 * c)

    def forward(self, n: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        w = self.kernel(self.gates(n, x))
        return sum(dynamic_conv(n, w, d) for d in self.dilations) / len(self.dilations)


class BSSF(nn.Module):
    """Bi-directional fusion ``Conv1x1([N~_-, F_0, N~_+]) -> BN -> ReLU`` with one ASSC per direction."""

    def __init__(self, channels: int, dilations: Sequence[int] = (1, 2, 3), corr: str = "norm"):
        super().__init__()
        self.back = ASSC(channels, dilations, corr)
        self.fwd = ASSC(channels, dilations, corr)
        self.fuse = nn.Sequential(nn.Conv2d(3 * channels, channels, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(inplace=True))

    def forward(self, fm: torch.Tensor, f0: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
        return self.fuse(torch.cat([self.back(fm, f0), f0, self.fwd(fp, f0)], 1))


class SSCFNet(nn.Module):
    """The SSCF segmentation network (one window -> the centre frame's logits).

    Args:
        widths: channels per level (level count = len(widths); input size must be a multiple of 2**(levels-1)).
        num_classes: 1 (binary LV, sigmoid) or 4 (background + LV, myocardium, LA; softmax).
        encoders: 3 (position-specific) or 1 (shared; ablation).
        fuse_levels: levels with BSSF (others pass the centre feature); default all; ``()`` with
            ``encoders=1`` is the plain U-Net of the ablation (centre frame only).
    """

    def __init__(self, widths: Sequence[int] = (16, 32, 64, 128), num_classes: int = 4, encoders: int = 3,
                 dilations: Sequence[int] = (1, 2, 3), corr: str = "norm", fuse_levels: Sequence[int] | None = None):
        super().__init__()
        if encoders not in (1, 3):
            raise ValueError("encoders must be 3 (position-specific) or 1 (shared)")
        self.widths, self.num_classes, self.k = tuple(int(w) for w in widths), int(num_classes), int(encoders)
        self.fuse_levels = tuple(range(len(widths))) if fuse_levels is None else tuple(fuse_levels)
        self.encoders = nn.ModuleList(Encoder(self.widths) for _ in range(self.k))
        self.fusion = nn.ModuleDict({str(i): BSSF(self.widths[i], dilations, corr) for i in self.fuse_levels})
        self.ups = nn.ModuleList(nn.ConvTranspose2d(self.widths[i + 1], self.widths[i], 2, stride=2) for i in range(len(widths) - 1))
        self.decs = nn.ModuleList(conv_block(2 * self.widths[i], self.widths[i]) for i in range(len(widths) - 1))
        self.head = nn.Conv2d(self.widths[0], self.num_classes, 1)

    def encode(self, frames: torch.Tensor, position: int) -> list[torch.Tensor]:
        """Features of ``frames`` ``[B, 1, H, W]`` seen at window position -1, 0 or +1."""
        return self.encoders[(position + 1) if self.k == 3 else 0](frames)

    def decode(self, fm: list, f0: list, fp: list) -> torch.Tensor:
        """Fusion at every level and the U-Net expanding path -> logits ``[B, num_classes, H, W]``."""
        fused = [self.fusion[str(i)](fm[i], f0[i], fp[i]) if str(i) in self.fusion else f0[i] for i in range(len(f0))]
        y = fused[-1]
        for i in range(len(fused) - 2, -1, -1):
            y = self.decs[i](torch.cat([self.ups[i](y), fused[i]], 1))
        return self.head(y)

    def forward(self, window: torch.Tensor) -> torch.Tensor:
        """``window`` ``[B, 3, H, W]`` (frames t-1, t, t+1) -> logits of frame t ``[B, num_classes, H, W]``."""
        if not self.fusion:  # no fusion level: a plain U-Net on the centre frame (the neighbours are never used)
            f0 = self.encode(window[:, 1:2], 0)
            return self.decode(f0, f0, f0)
        return self.decode(self.encode(window[:, 0:1], -1), self.encode(window[:, 1:2], 0), self.encode(window[:, 2:3], 1))

    def probabilities(self, window: torch.Tensor) -> torch.Tensor:
        """Sigmoid (binary) or softmax (multi-class) of :meth:`forward`."""
        z = self.forward(window)
        return torch.sigmoid(z) if self.num_classes == 1 else torch.softmax(z, 1)


def arch_id(widths: Sequence[int], num_classes: int, encoders: int) -> str:
    """Architecture id stored in checkpoints."""
    return f"sscf/w{'-'.join(str(w) for w in widths)}/c{num_classes}/k{encoders}"


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
