"""PKEcho-Net (Wu, Lin, Xie, Qin, AAAI 2023): decoder-free echo video segmentation with multi-scale
region proxies (MRP) and kernel-based semi-supervised segmentation (KSS).

Guide: ``../shared/specs/PKEcho-Net.md`` §2. Every frame of a clip ``[B, T, 1, H, W]`` goes through a
ResNet encoder (no decoder). A predictor makes reduced features ``F_r`` and a first mask ``P0`` at
stride 32; S iterations refine one dynamic 1x1 kernel per class and frame (grouping over the soft
mask, hybrid attention, temporal self-attention across the clip's frames, optional cross-video
attention across the batch, FFN). Each ``P^i`` is lifted to full resolution by convex 3x3 affinities
predicted at each encoder stage. ``num_classes=1`` is the paper's LV mode; 3 is the product's LV /
myocardium / LA (one sigmoid channel each).

Ablation switches: ``upsample='bilinear'`` (MRP off), ``iterations=0`` (KSS off: the predictor only),
``temporal=False`` (per-frame model), ``cross_video`` (off by default; with B = 1 it is a linear map).
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from cardiacmotion.models.pkecho_blocks import (FFN, AffinityEstimator, HybridAttention, ResNetEncoder, SelfAttentionBlock,
                                                kaiming_init, proxy_upsample)

RATES = (4, 2, 2, 2)  # upsampling rate of the affinities predicted from layer1..layer4


class KernelIteration(nn.Module):
    """One KSS iteration: hybrid attention, temporal (and cross-video) self-attention, FFN, a bias."""

    def __init__(self, d: int, classes: int, ffn: int, dropout: float, cross_video: bool):
        super().__init__()
        self.hybrid = HybridAttention(d)
        self.temporal = SelfAttentionBlock(d, dropout)
        self.cross = SelfAttentionBlock(d, dropout) if cross_video else None
        self.ffn = FFN(d, ffn, dropout)
        self.bias = nn.Parameter(torch.zeros(classes))


class PKEchoNet(nn.Module):
    """PKEcho-Net (module doc). ``base`` narrows the ResNet (64 = the paper's widths)."""

    def __init__(self, backbone: str = "r18", base: int = 64, num_classes: int = 1, d: int = 32, iterations: int = 3,
                 frames: int = 10, ffn: int = 128, dropout: float = 0.1, cross_video: bool = False,
                 upsample: str = "mrp", temporal: bool = True):
        super().__init__()
        if upsample not in ("mrp", "bilinear"):
            raise ValueError(f"upsample must be 'mrp' or 'bilinear', not {upsample!r}")
        self.backbone, self.base, self.num_classes, self.d = backbone, int(base), int(num_classes), int(d)
        self.iterations, self.frames, self.ffn_width = int(iterations), int(frames), int(ffn)
        self.cross_video, self.upsample_mode, self.use_temporal = bool(cross_video), upsample, bool(temporal)
        self.encoder = ResNetEncoder(backbone, self.base)
        chans = self.encoder.channels
        self.affinity = nn.ModuleList(AffinityEstimator(c, r) for c, r in zip(chans, RATES)) if upsample == "mrp" else None
        self.reduce = nn.Sequential(nn.Conv2d(chans[3], d, 3, padding=1), nn.BatchNorm2d(d), nn.ReLU(inplace=True))
        self.predict0 = nn.Conv2d(d, self.num_classes, 1)
        self.steps = nn.ModuleList(KernelIteration(d, self.num_classes, ffn, dropout, cross_video) for _ in range(self.iterations))
        self.pos = nn.Parameter(torch.zeros(1, self.frames, d))
        self.encoder.apply(_kaiming_conv)
        kaiming_init([m for m in (self.affinity, self.reduce, self.predict0, self.steps) if m is not None])
        nn.init.normal_(self.pos)

    # -- per-frame part (encoder, affinities, reduced features) --------------------------------------
    def frame_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list]:
        """``[N, 1, H, W]`` -> ``(F_r [N, d, H/32, W/32], affinities per stage or [])``; H, W multiples of 32."""
        if x.shape[-1] % 32 or x.shape[-2] % 32:
            raise ValueError(f"PKEcho-Net input must be a multiple of 32 pixels, got {tuple(x.shape[-2:])}")
        feats = self.encoder(x)
        affs = [est(f) for est, f in zip(self.affinity, feats)] if self.affinity is not None else []
        return self.reduce(feats[3]), affs

    def upsample(self, p: torch.Tensor, affs: Sequence[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        """Stride-32 logits ``[N, c, h, w]`` -> ``[N, c, H, W]``: the a4 -> a1 proxy chain, or bilinear (MRP off)."""
        if not affs:
            return F.interpolate(p, size=size, mode="bilinear", align_corners=False)
        for a in reversed(affs):
            p = proxy_upsample(p, a)
        return p

    # -- clip part (the kernel head) -----------------------------------------------------------------
    def positional(self, t: int) -> torch.Tensor:
        """The learned ``[1, t, d]`` frame embedding; resampled linearly when a clip is not ``frames`` long."""
        if t == self.frames:
            return self.pos
        return F.interpolate(self.pos.transpose(1, 2), size=t, mode="linear", align_corners=True).transpose(1, 2)

    def kernel_logits(self, fr: torch.Tensor, batch: int) -> list[torch.Tensor]:
        """Stride-32 logits ``[P0, ..., P^S]`` (each ``[B*T, c, h, w]``) of ``batch`` clips' features ``fr [B*T, d, h, w]``."""
        n = fr.shape[0]
        t, c, d = n // batch, self.num_classes, self.d
        p = self.predict0(fr)
        out = [p]
        k = self.predict0.weight.reshape(c, d)[None].expand(n, c, d)
        for i, step in enumerate(self.steps):
            g = torch.einsum("nchw,ndhw->ncd", torch.sigmoid(p), fr)  # Eq. 1: plain sum, no area normalisation
            k = step.hybrid(k, g)
            if self.use_temporal:
                kt = k.reshape(batch, t, c, d).transpose(1, 2).reshape(batch * c, t, d)
                if i == 0:
                    kt = kt + self.positional(t)
                kt = step.temporal(kt)
                k = kt.reshape(batch, c, t, d).transpose(1, 2).reshape(n, c, d)
            if step.cross is not None:
                kb = k.reshape(batch, t * c, d).transpose(0, 1)  # [T*c, B, d]: attention across videos
                k = step.cross(kb).transpose(0, 1).reshape(n, c, d)
            k = step.ffn(k)
            p = torch.einsum("ncd,ndhw->nchw", k, fr) + step.bias[None, :, None, None]
            out.append(p)
        return out

    def forward(self, clip: torch.Tensor, frames_out: Optional[Sequence[int]] = None, deep: bool = True) -> list[torch.Tensor]:
        """``clip [B, T, 1, H, W]`` -> full-resolution logits ``[B, T', c, H, W]`` for ``frames_out`` (default all).

        ``deep``: every iteration's output (P0..P^S, deep supervision); otherwise only the last one.
        """
        b, t = clip.shape[:2]
        size = clip.shape[-2:]
        fr, affs = self.frame_features(clip.reshape(b * t, *clip.shape[2:]))
        ps = self.kernel_logits(fr, b)
        if not deep:
            ps = ps[-1:]
        sel = list(range(t)) if frames_out is None else [int(i) % t for i in frames_out]
        idx = (torch.arange(b)[:, None] * t + torch.as_tensor(sel)[None]).reshape(-1)
        affs = [a[idx] for a in affs]
        return [self.upsample(p[idx], affs, size).reshape(b, len(sel), self.num_classes, *size) for p in ps]

    @torch.no_grad()
    def probabilities(self, clip: torch.Tensor) -> torch.Tensor:
        """Sigmoid of the last iteration, ``[B, T, c, H, W]`` (eval mode is the caller's business)."""
        return torch.sigmoid(self.forward(clip, deep=False)[0])

    def config(self) -> dict:
        """The constructor arguments (what a checkpoint records)."""
        return {"backbone": self.backbone, "base": self.base, "num_classes": self.num_classes, "d": self.d,
                "iterations": self.iterations, "frames": self.frames, "ffn": self.ffn_width,
                "cross_video": self.cross_video, "upsample": self.upsample_mode, "temporal": self.use_temporal}


def _kaiming_conv(m: nn.Module) -> None:
    """From-scratch encoder init (torchvision's: Kaiming fan-out for convs, BN 1/0)."""
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


def arch_id(cfg: dict) -> str:
    """``pkecho/r18-b16/c3/s3`` (+ flags for the ablation switches)."""
    tag = f"pkecho/{cfg['backbone']}-b{cfg['base']}/c{cfg['num_classes']}/s{cfg['iterations']}"
    if cfg.get("upsample", "mrp") != "mrp":
        tag += "/bilinear"
    if not cfg.get("temporal", True):
        tag += "/no-temporal"
    if cfg.get("cross_video"):
        tag += "/cross-video"
    return tag


def parameter_count(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))
