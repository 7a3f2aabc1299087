"""TAN's multi-task network: a light encoder shared by a segmentation decoder, a landmark-drift
head and an A2C/A4C plane head (paper Table 1, sized for a CPU).

Input ``[B, 1, s, s]`` (the affine window, ``s`` a multiple of 32). Outputs: segmentation logits
``[B, C, s, s]`` (C = 4: background + CAMUS labels; the paper segments the LV cavity only, the
extra classes cost little here), landmark drifts ``[B, 6]`` from the template in window pixels
(apex, septal, lateral; x then y), plane logits ``[B, 2]`` (A2C, A4C).

Departures from the paper, for a 2-core CPU trained from scratch: plain 3x3 conv blocks instead of
MobileNetV2 (depthwise convolutions are slow on one CPU thread), U-Net skips in the decoder (the
spec's optional variant; without pretraining the skip-less decoder is blurry at stride 32), and the
landmark head reads the flattened stride-32 map instead of a global average (keeps where things are).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

ARCH_PREFIX = "tan"
VIEWS = ("A2C", "A4C")


def _block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class TANNet(nn.Module):
    """The multi-task network.

    Args:
        size: window size (pixels, multiple of 32).
        widths: encoder widths at strides 2, 4, 8, 16, 32.
        num_classes: segmentation classes (background included).
    """

    def __init__(self, size: int = 96, widths: tuple[int, ...] = (16, 32, 48, 64, 96), num_classes: int = 4) -> None:
        super().__init__()
        if size % 32:
            raise ValueError("the window size must be a multiple of 32")
        self.size, self.widths, self.num_classes = size, tuple(widths), num_classes
        w = self.widths
        self.enc = nn.ModuleList()
        cin = 1
        for i, c in enumerate(w):
            layers = [_block(cin, c, 2)]
            if i < len(w) - 1:
                layers.append(_block(c, c))
            self.enc.append(nn.Sequential(*layers))
            cin = c
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for i in range(len(w) - 1, 0, -1):
            self.up.append(nn.ConvTranspose2d(w[i] if i == len(w) - 1 else w[i], w[i - 1], 2, 2))
            self.dec.append(_block(2 * w[i - 1], w[i - 1]))
        self.final = nn.Sequential(_block(w[0], w[0]), nn.Conv2d(w[0], num_classes, 1))
        cells = (size // 32) ** 2
        self.landmarks = nn.Sequential(nn.Flatten(), nn.Linear(w[-1] * cells, 128), nn.ReLU(inplace=True), nn.Linear(128, 6))
        self.plane = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(w[-1], 64), nn.ReLU(inplace=True), nn.Linear(64, 2))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        feats = []
        for stage in self.enc:
            x = stage(x)
            feats.append(x)
        deep = feats[-1]
        y = deep
        for k, (up, dec) in enumerate(zip(self.up, self.dec)):
            y = up(y)
            y = dec(torch.cat([y, feats[-2 - k]], 1))
        seg = self.final(F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False))
        return seg, self.landmarks(deep), self.plane(deep)


def arch_id(size: int, widths: tuple[int, ...], num_classes: int) -> str:
    """Architecture id stored with the weights (``tan/s96/w16-32-48-64-96/c4``)."""
    return f"{ARCH_PREFIX}/s{size}/w{'-'.join(str(w) for w in widths)}/c{num_classes}"
