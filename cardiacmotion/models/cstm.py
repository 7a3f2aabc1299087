"""A small continuous spatio-temporal memory network (after CSTM, Ye et al., WACV 2024).

Three parts, as in the paper but sized for a CPU:

- a Siamese **key encoder** (shared by the query and the memory frames): a ResNet-like stem and
  three residual stages giving features at strides 4, 8 and 16, with key projections
  (``Ck`` channels) at strides 8 ("scale 3") and 16 ("scale 4");
- a **value encoder** taking the frame and the one-hot mask of the 4 classes, fused with the
  key encoder's features of the same frame, giving ``Cv`` channels at strides 8 and 16;
- **two-scale patch-level memory matching** (:mod:`cardiacmotion.models.plmm`) and a
  **decoder** (read-out + query features at stride 16, then 8, then the stride-4 skip) giving
  4-class logits at the input resolution. The value also carries the pooled one-hot mask, so
  the read-out includes an attention-warped label map that the decoder refines (fast to train).

All labels go through one pass with one shared affinity: the value carries the whole one-hot
mask. The architecture is fixed by :class:`CSTMConfig`; its :meth:`CSTMConfig.arch_id` string is
stored with the weights and checked when they are loaded.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from cardiacmotion.models.plmm import two_scale_readout

NUM_CLASSES = 4


@dataclass(frozen=True)
class CSTMConfig:
    """Architecture of the network (everything the weights depend on)."""

    widths: tuple[int, int, int, int] = (16, 24, 48, 64)  #: stem, stride 4, 8, 16 channels
    key_dim: int = 32  #: Ck at both scales
    value_dim: int = 64  #: Cv at both scales
    patch: int = 4  #: patch size at the coarse scale (2x at the fine scale)
    top_k: int = 4
    num_classes: int = NUM_CLASSES
    name: str = field(default="cstm-small")

    def arch_id(self) -> str:
        """A string naming the architecture exactly; weights carry it and loading compares it."""
        w = "-".join(str(c) for c in self.widths)
        return f"{self.name}/w{w}/k{self.key_dim}/v{self.value_dim}/p{self.patch}/c{self.num_classes}"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["widths"] = list(self.widths)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "CSTMConfig":
        d = dict(d)
        d["widths"] = tuple(int(c) for c in d["widths"])
        return cls(**d)


def _conv_bn(cin: int, cout: int, stride: int = 1, k: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class ResBlock(nn.Module):
    """Basic residual block (two 3x3 convolutions), optional stride and channel change."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip = None
        if stride != 1 or cin != cout:
            self.skip = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.skip is None else self.skip(x)), inplace=True)


class _Backbone(nn.Module):
    """Stem (stride 2) + three residual stages: features at strides 4, 8, 16."""

    def __init__(self, cin: int, widths: tuple[int, int, int, int]) -> None:
        super().__init__()
        c0, c1, c2, c3 = widths
        self.stem = _conv_bn(cin, c0, stride=2)
        self.layer2 = ResBlock(c0, c1, stride=2)
        self.layer3 = ResBlock(c1, c2, stride=2)
        self.layer4 = ResBlock(c2, c3, stride=2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        f4 = self.layer2(self.stem(x))
        f8 = self.layer3(f4)
        f16 = self.layer4(f8)
        return f4, f8, f16


class KeyEncoder(nn.Module):
    """Siamese key encoder: ``image [B,1,H,W]`` -> keys at strides 8/16 and decoder features."""

    def __init__(self, cfg: CSTMConfig) -> None:
        super().__init__()
        self.backbone = _Backbone(1, cfg.widths)
        self.key8 = nn.Conv2d(cfg.widths[2], cfg.key_dim, 3, padding=1)
        self.key16 = nn.Conv2d(cfg.widths[3], cfg.key_dim, 3, padding=1)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        f4, f8, f16 = self.backbone(image)
        return {"f4": f4, "f8": f8, "f16": f16, "k8": self.key8(f8), "k16": self.key16(f16)}


class ValueEncoder(nn.Module):
    """Value encoder: ``image + one-hot mask [B,1+C,H,W]`` fused with the frame's key features."""

    def __init__(self, cfg: CSTMConfig) -> None:
        super().__init__()
        self.backbone = _Backbone(1 + cfg.num_classes, cfg.widths)
        self.fuse8 = _conv_bn(2 * cfg.widths[2], cfg.value_dim)
        self.fuse16 = _conv_bn(2 * cfg.widths[3], cfg.value_dim)

    def forward(self, image: torch.Tensor, mask: torch.Tensor, key_feats: dict[str, torch.Tensor]):
        _, v8, v16 = self.backbone(torch.cat([image, mask], dim=1))
        v8 = self.fuse8(torch.cat([v8, key_feats["f8"]], dim=1))
        v16 = self.fuse16(torch.cat([v16, key_feats["f16"]], dim=1))
        # the mask itself, pooled, rides along: its read-out is an attention-warped label map
        m8 = F.adaptive_avg_pool2d(mask, v8.shape[-2:])
        m16 = F.adaptive_avg_pool2d(mask, v16.shape[-2:])
        return torch.cat([v8, m8], dim=1), torch.cat([v16, m16], dim=1)


class Decoder(nn.Module):
    """Read-outs + query features, stride 16 -> 8 -> 4, then 4-class logits upsampled to the input."""

    def __init__(self, cfg: CSTMConfig) -> None:
        super().__init__()
        c0, c1, c2, c3 = cfg.widths
        v = cfg.value_dim + cfg.num_classes  # value features + the pooled mask
        self.block16 = _conv_bn(v + c3, c3)
        self.block8 = nn.Sequential(_conv_bn(c3 + v + c2, c2), ResBlock(c2, c2))
        self.block4 = _conv_bn(c2 + c1 + cfg.num_classes, c1)
        self.head = nn.Conv2d(c1, cfg.num_classes, 3, padding=1)

    def forward(self, q: dict[str, torch.Tensor], ro8: torch.Tensor, ro16: torch.Tensor, size) -> torch.Tensor:
        x = self.block16(torch.cat([ro16, q["f16"]], dim=1))
        x = F.interpolate(x, size=q["f8"].shape[-2:], mode="bilinear", align_corners=False)
        x = self.block8(torch.cat([x, ro8, q["f8"]], dim=1))
        x = F.interpolate(x, size=q["f4"].shape[-2:], mode="bilinear", align_corners=False)
        prior = F.interpolate(ro8[:, -self.head.out_channels:], size=x.shape[-2:], mode="bilinear", align_corners=False)
        x = self.block4(torch.cat([x, q["f4"], prior], dim=1))
        return F.interpolate(self.head(x), size=size, mode="bilinear", align_corners=False)


class CSTM(nn.Module):
    """The memory network. Typical use (see :class:`cardiacmotion.propagation.memory.MemoryPropagator`)::

        q = net.encode_key(image)                   # every frame, once
        mk8, mk16 = q["k8"], q["k16"]                # a memory frame's keys are its query keys
        v8, v16 = net.encode_value(image, onehot, q) # when the frame is added to memory
        logits = net.segment(q, mem_k8, mem_k16, mem_v8, mem_v16)   # memory stacked on dim 1

    Input images are ``[B, 1, H, W]`` normalised (zero mean, unit variance per frame); ``H`` and
    ``W`` should be multiples of 16.
    """

    def __init__(self, cfg: CSTMConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or CSTMConfig()
        self.key_encoder = KeyEncoder(self.cfg)
        self.value_encoder = ValueEncoder(self.cfg)
        self.decoder = Decoder(self.cfg)

    def encode_key(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.key_encoder(image)

    def encode_value(self, image: torch.Tensor, mask: torch.Tensor, key_feats: dict[str, torch.Tensor]):
        """``mask``: one-hot or probabilities ``[B, C, H, W]``."""
        return self.value_encoder(image, mask, key_feats)

    def segment(
        self,
        q: dict[str, torch.Tensor],
        mem_k8: torch.Tensor,
        mem_k16: torch.Tensor,
        mem_v8: torch.Tensor,
        mem_v16: torch.Tensor,
        size: tuple[int, int] | None = None,
    ) -> torch.Tensor:
        """Logits ``[B, C, H, W]`` for query features ``q`` against memory ``[B, T, ...]``."""
        ro16, ro8 = two_scale_readout(
            q["k16"], mem_k16, mem_v16, q["k8"], mem_k8, mem_v8, self.cfg.patch, self.cfg.top_k
        )
        if size is None:
            size = (q["f4"].shape[-2] * 4, q["f4"].shape[-1] * 4)
        return self.decoder(q, ro8, ro16, size)
