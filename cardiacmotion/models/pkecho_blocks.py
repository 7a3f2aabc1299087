"""PKEcho-Net building blocks: a from-scratch ResNet encoder, region-proxy affinities and upsampling,
and the attention pieces of the kernel head.

Guide: ``../shared/specs/PKEcho-Net.md`` §2. The ResNet follows torchvision's layout (stem 7x7/2 +
max-pool, four stages of basic or bottleneck blocks, output strides 4/8/16/32) with a one-channel
stem and an optional base width (64 = the paper's R18/R34/R50; narrower for CPU speed).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

#: blocks per stage and block type of the paper's backbones
BACKBONES = {"r18": ((2, 2, 2, 2), "basic"), "r34": ((3, 4, 6, 3), "basic"), "r50": ((3, 4, 6, 3), "bottleneck")}


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, width: int, stride: int = 1):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)), inplace=True)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, width: int, stride: int = 1):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)  # stride on the 3x3 (torchvision v1.5)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = F.relu(self.bn2(self.conv2(y)), inplace=True)
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.down is None else self.down(x)), inplace=True)


class ResNetEncoder(nn.Module):
    """Stem + layer1..layer4; ``forward`` returns the four stage outputs (strides 4, 8, 16, 32)."""

    def __init__(self, backbone: str = "r18", base: int = 64, in_channels: int = 1):
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {backbone!r} (expected one of {', '.join(BACKBONES)})")
        depths, kind = BACKBONES[backbone]
        block = BasicBlock if kind == "basic" else Bottleneck
        self.stem = nn.Sequential(nn.Conv2d(in_channels, base, 7, 2, 3, bias=False), nn.BatchNorm2d(base),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        layers, cin = [], base
        for i, n in enumerate(depths):
            width = base * 2**i
            blocks = []
            for j in range(n):
                blocks.append(block(cin, width, 2 if (j == 0 and i > 0) else 1))
                cin = width * block.expansion
            layers.append(nn.Sequential(*blocks))
        self.layers = nn.ModuleList(layers)
        self.channels = tuple(base * 2**i * block.expansion for i in range(4))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        out = []
        for layer in self.layers:
            x = layer(x)
            out.append(x)
        return out


# 3x3 neighbour offsets in unfold order (row-major): k = (dy + 1) * 3 + (dx + 1)
_OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


def outside_mask(h: int, w: int, device=None) -> torch.Tensor:
    """``[h, w, 9]`` bool: neighbour k of cell (y, x) falls outside the ``h x w`` grid."""
    ys = torch.arange(h, device=device)[:, None, None]
    xs = torch.arange(w, device=device)[None, :, None]
    dy = torch.tensor([o[0] for o in _OFFSETS], device=device)[None, None]
    dx = torch.tensor([o[1] for o in _OFFSETS], device=device)[None, None]
    return (ys + dy < 0) | (ys + dy >= h) | (xs + dx < 0) | (xs + dx >= w)


class AffinityEstimator(nn.Module):
    """Convex 3x3 affinities of the ``rate**2`` children of each coarse cell (guide §2.2).

    Depth-wise 3x3 conv, BN, ReLU, then a 3x3 conv to ``9 * rate**2`` logits; neighbours outside the
    grid get -inf; softmax over the 9 neighbours. Output ``[N, rate**2, 9, h, w]`` (the guide's
    ``[N, h, w, r*r, 9]`` with the grid axes last, so the softmax and the upsampling run on contiguous memory).
    """

    def __init__(self, channels: int, rate: int):
        super().__init__()
        self.rate = int(rate)
        self.dw = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.head = nn.Conv2d(channels, 9 * self.rate**2, 3, padding=1)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        n, _, h, w = f.shape
        z = self.head(F.relu(self.bn(self.dw(f)), inplace=True)).reshape(n, self.rate**2, 9, h, w)
        # softmax over the 9 neighbours on a contiguous axis (a permuted last-axis softmax is ~10x slower on CPU)
        off = torch.zeros(9, h, w, device=f.device, dtype=z.dtype).masked_fill(outside_mask(h, w, f.device).permute(2, 0, 1), float("-inf"))
        return torch.softmax(z + off, dim=2)


def proxy_upsample(p: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """U(P, a) (paper Eq. 5): every fine pixel is the convex combination of its coarse cell's 3x3 proxies.

    Args:
        p: ``[N, c, h, w]`` coarse logits; a: ``[N, r*r, 9, h, w]`` affinities (child ``q = qy * r + qx``).
    Returns:
        ``[N, c, h*r, w*r]``: fine pixel ``(y*r + qy, x*r + qx)`` of coarse cell ``(y, x)``.
    """
    n, c, h, w = p.shape
    q = a.shape[1]
    r = int(round(q ** 0.5))
    nb = F.unfold(p, 3, padding=1).reshape(n, c, 9, h, w)  # zero padding: those neighbours weigh 0 anyway
    out = nb[:, :, None, 0] * a[:, None, :, 0]
    for k in range(1, 9):
        out = out + nb[:, :, None, k] * a[:, None, :, k]
    return F.pixel_shuffle(out.reshape(n, c * q, h, w), r)


class Attention(nn.Module):
    """Single-head scaled dot-product attention with separate Q, K, V and output maps (4 d x d linears)."""

    def __init__(self, d: int):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.scale = d ** -0.5

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        w = torch.softmax(self.q(query) @ self.k(key).transpose(-1, -2) * self.scale, dim=-1)
        return self.o(w @ self.v(value))


class HybridAttention(nn.Module):
    """The code form of guide §2.3 step 2: u = k + A1(k, g); v = u + A2(g, k); k_e = ReLU(LN(Lin(LN1 u + LN2 v)))."""

    def __init__(self, d: int):
        super().__init__()
        self.a1, self.a2 = Attention(d), Attention(d)
        self.n1, self.n2, self.n3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.lin = nn.Linear(d, d)

    def forward(self, k: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        u = k + self.a1(k, g, g)
        v = u + self.a2(g, k, k)
        return F.relu(self.n3(self.lin(self.n1(u) + self.n2(v))))


class SelfAttentionBlock(nn.Module):
    """x' = LN(x + Dropout(A(x, x, x))) over the second-to-last axis (frames or videos)."""

    def __init__(self, d: int, dropout: float = 0.1):
        super().__init__()
        self.att = Attention(d)
        self.norm = nn.LayerNorm(d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.drop(self.att(x, x, x)))


class FFN(nn.Module):
    """x' = LN(x + Dropout(W2 ReLU(W1 x))) with hidden width ``hidden``."""

    def __init__(self, d: int, hidden: int, dropout: float = 0.1):
        super().__init__()
        self.w1, self.w2 = nn.Linear(d, hidden), nn.Linear(hidden, d)
        self.norm = nn.LayerNorm(d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.drop(self.w2(F.relu(self.w1(x)))))


def kaiming_init(modules: Sequence[nn.Module]) -> None:
    """Guide §2.4: convs and linears Kaiming-normal (ReLU gain), zero bias; BN/LN weight 1, bias 0."""
    for root in modules:
        for m in root.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
