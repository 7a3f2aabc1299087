"""PKEcho-Net loss (paper Eq. 6): soft Dice + boundary loss on every iteration's output, ED and ES only.

Guide §3/§6: V-Net soft Dice per image and class with smoothing 1; Kervadec's boundary loss
``mean(phi * p)`` with ``phi`` the signed distance to the truth contour (negative inside) divided by
the image side, so it stays on the Dice term's scale at weight 1. Nothing is computed on the
unlabelled frames: the frames the loss sees are the ones the caller upsampled (the first and last).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from scipy import ndimage


def one_hot_targets(labels: torch.Tensor, classes: int) -> torch.Tensor:
    """``[..., H, W]`` labels (0 background, 1..classes) -> ``[..., classes, H, W]`` float masks (class j+1 in channel j)."""
    return torch.stack([(labels == j + 1) for j in range(classes)], dim=-3).float()


def signed_distance(masks: torch.Tensor) -> torch.Tensor:
    """Per 2D mask ``[..., H, W]``: distance to the contour (px), negative inside, divided by the image side.

    An empty mask gets +1 everywhere (every predicted pixel there is wrong)."""
    m = masks.detach().cpu().numpy().astype(bool)
    flat = m.reshape(-1, *m.shape[-2:])
    out = np.ones(flat.shape, np.float32)
    side = float(max(m.shape[-2:]))
    for i, f in enumerate(flat):
        if f.any() and not f.all():
            out[i] = (ndimage.distance_transform_edt(~f) - (ndimage.distance_transform_edt(f) - 1.0) * f) / side
    return torch.as_tensor(out.reshape(m.shape))


def dice_loss(prob: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """V-Net soft Dice ``1 - (2 sum(pg) + 1) / (sum(p^2) + sum(g^2) + 1)`` per image and class, averaged."""
    inter = (prob * target).flatten(-2).sum(-1)
    den = (prob * prob).flatten(-2).sum(-1) + (target * target).flatten(-2).sum(-1)
    return (1.0 - (2.0 * inter + 1.0) / (den + 1.0)).mean()


def boundary_loss(prob: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
    """Kervadec's boundary loss: mean over pixels of ``phi * p``."""
    return (phi * prob).mean()


def pkecho_loss(outputs: Sequence[torch.Tensor], target: torch.Tensor, phi: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Sum over the deep-supervision outputs of Dice + boundary (all weights 1).

    Args:
        outputs: logits ``[B, F, c, H, W]`` per iteration (F = the labelled frames, ED and ES).
        target / phi: ``[B, F, c, H, W]`` masks and signed distances of the same frames.
    Returns:
        ``(loss, hard Dice of the last output)``.
    """
    loss = torch.zeros((), device=target.device)
    for logits in outputs:
        p = torch.sigmoid(logits)
        loss = loss + dice_loss(p, target) + boundary_loss(p, phi)
    with torch.no_grad():
        hard = (outputs[-1] > 0).float()
        inter = (hard * target).flatten(-2).sum(-1)
        den = hard.flatten(-2).sum(-1) + target.flatten(-2).sum(-1)
        dice = float(((2 * inter + 1e-6) / (den + 1e-6)).mean())
    return loss, dice
