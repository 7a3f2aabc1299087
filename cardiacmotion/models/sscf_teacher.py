"""Mean teacher for SSCF (spec §3): EMA teacher, the paper's losses and their schedules."""
from __future__ import annotations

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

EPS = 1e-6


def make_teacher(student: nn.Module) -> nn.Module:
    """A frozen copy of the student (updated only by :func:`ema_update`)."""
    t = copy.deepcopy(student)
    for p in t.parameters():
        p.requires_grad_(False)
    return t


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, eta: float = 0.99) -> None:
    """``theta' <- eta theta' + (1 - eta) theta`` for parameters and floating BN buffers (counters copied)."""
    for pt, ps in zip(teacher.parameters(), student.parameters()):
        pt.mul_(eta).add_(ps.detach(), alpha=1.0 - eta)
    for bt, bs in zip(teacher.buffers(), student.buffers()):
        if bt.dtype.is_floating_point:
            bt.mul_(eta).add_(bs, alpha=1.0 - eta)
        else:
            bt.copy_(bs)


def consistency_weight(iteration: float, total: float) -> float:
    """The ramp ``lambda_c(t) = (t / t_max)^2`` (clamped to [0, 1])."""
    return float(min(max(iteration / max(total, 1e-9), 0.0), 1.0) ** 2)


def poly_lr(base: float, iteration: float, total: float, power: float = 0.9) -> float:
    """``base (1 - t/t_max)^power`` (the paper's recursive form is a typo, spec §3)."""
    return float(base * max(1.0 - iteration / max(total, 1e-9), 0.0) ** power)


def probabilities(logits: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(logits) if logits.shape[1] == 1 else torch.softmax(logits, 1)


def supervised_loss(logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, float]:
    """``0.5 Dice + 0.5 (B)CE``; Dice with squared denominators per sample (multi-class: mean over the
    foreground classes). ``target`` ``[B, H, W]`` long. Returns ``(loss, mean foreground Dice)``."""
    p = probabilities(logits)
    if logits.shape[1] == 1:
        g = (target == 1).float()[:, None]
        ce = F.binary_cross_entropy_with_logits(logits, g)
        p_fg, g_fg = p, g
    else:
        ce = F.cross_entropy(logits, target)
        g_fg = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).float()[:, 1:]
        p_fg = p[:, 1:]
    inter = (p_fg * g_fg).flatten(2).sum(2)
    den = (p_fg ** 2).flatten(2).sum(2) + (g_fg ** 2).flatten(2).sum(2)
    dice = (2 * inter + EPS) / (den + EPS)
    return 0.5 * (1 - dice.mean()) + 0.5 * ce, float(dice.mean().detach())


def consistency_loss(student_logits: torch.Tensor, teacher_prob: torch.Tensor) -> torch.Tensor:
    """``0.5 MSE(p_s, p_t) + 0.5 KL(P_s || P_t)`` (two-class Bernoulli KL in binary mode; categorical otherwise)."""
    s = probabilities(student_logits).clamp(EPS, 1 - EPS)
    t = teacher_prob.clamp(EPS, 1 - EPS)
    mse = F.mse_loss(s, t)
    if s.shape[1] == 1:
        kl = s * torch.log(s / t) + (1 - s) * torch.log((1 - s) / (1 - t))
        kl = kl.mean()
    else:
        kl = (s * torch.log(s / t)).sum(1).mean()
    return 0.5 * mse + 0.5 * kl
