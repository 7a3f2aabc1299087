"""Patch-level memory matching (PLMM, CSTM section 3.1-3.2) at two scales.

A query key map is cut into overlapping ``P x P`` patches (stride and padding ``P/2``, so every
pixel sits at the centre of one patch). Each query patch is compared with every memory patch by
the L2 distance of the flattened patches; the ``K`` nearest memory patches are kept, and inside
them each query pixel attends to the ``K * P * P`` memory pixels by a softmax over the negative
squared L2 distance (STCN's affinity). The read-out patches are folded back into a map,
averaging the overlaps. At the fine scale (twice the resolution) the patch size and stride
double, so the patch grid is the same and the coarse top-K indices are reused there directly.

Shapes: query key ``[B, Ck, H, W]``, memory keys ``[B, T, Ck, H, W]``, memory values
``[B, T, Cv, H, W]``; the read-out is ``[B, Cv, H, W]``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _unfold(x: torch.Tensor, patch: int) -> torch.Tensor:
    """``[N', C, H, W] -> [N', L, P*P, C]`` overlapping patches (stride and padding ``P/2``)."""
    n, c = x.shape[:2]
    step = patch // 2
    cols = F.unfold(x, kernel_size=patch, padding=step, stride=step)  # [N', C*P*P, L]
    return cols.view(n, c, patch * patch, -1).permute(0, 3, 2, 1)


def _fold(patches: torch.Tensor, size: tuple[int, int], patch: int) -> torch.Tensor:
    """Inverse of :func:`_unfold`, averaging overlapping pixels: ``[B, L, P*P, C] -> [B, C, H, W]``."""
    b, n_patches, pp, c = patches.shape
    step = patch // 2
    cols = patches.permute(0, 3, 2, 1).reshape(b, c * pp, n_patches)
    summed = F.fold(cols, output_size=size, kernel_size=patch, padding=step, stride=step)
    ones = torch.ones(1, pp, n_patches, dtype=patches.dtype, device=patches.device)
    count = F.fold(ones, output_size=size, kernel_size=patch, padding=step, stride=step)
    return summed / count.clamp_min(1.0)


def _valid(size: tuple[int, int], patch: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``[L, P*P]`` 1 where a patch pixel lies inside the map, 0 on the zero padding."""
    ones = torch.ones(1, 1, size[0], size[1], device=device, dtype=dtype)
    return _unfold(ones, patch)[0, :, :, 0]


def patch_grid(size: tuple[int, int], patch: int) -> tuple[int, int]:
    """Number of patches along each axis for a map of ``size`` (the same at both scales)."""
    step = patch // 2
    return ((size[0] + 2 * step - patch) // step + 1, (size[1] + 2 * step - patch) // step + 1)


def topk_patches(q_key: torch.Tensor, m_key: torch.Tensor, patch: int, top_k: int) -> torch.Tensor:
    """Indices ``[B, L, K]`` (into the ``T*L`` memory patches, memory-major) of the nearest patches.

    The distance is the squared L2 distance between flattened ``Ck*P*P`` patches; the query norm
    is constant per query patch and therefore left out.
    """
    b, t = m_key.shape[:2]
    q = _unfold(q_key, patch).flatten(2)  # [B, L, D]
    k = _unfold(m_key.flatten(0, 1), patch).flatten(2)  # [B*T, L, D]
    k = k.view(b, t * k.shape[1], -1)  # [B, T*L, D]
    score = 2.0 * torch.bmm(q, k.transpose(1, 2)) - (k * k).sum(-1).unsqueeze(1)  # -(dist) + const
    return score.topk(min(top_k, score.shape[-1]), dim=-1).indices


def read_patches(
    q_key: torch.Tensor, m_key: torch.Tensor, m_val: torch.Tensor, patch: int, index: torch.Tensor
) -> torch.Tensor:
    """Pixel-level softmax read-out inside the selected memory patches, folded back to a map.

    Args:
        q_key: ``[B, Ck, H, W]``; m_key: ``[B, T, Ck, H, W]``; m_val: ``[B, T, Cv, H, W]``.
        patch: patch size at this scale (even).
        index: ``[B, L, K]`` memory patch indices from :func:`topk_patches` (any scale).
    Returns:
        ``[B, Cv, H, W]`` read-out values.
    """
    b, t, ck, h, w = m_key.shape
    cv = m_val.shape[2]
    q = _unfold(q_key, patch)  # [B, L, PP, Ck]
    n_patches, pp = q.shape[1], q.shape[2]
    k = _unfold(m_key.reshape(b * t, ck, h, w), patch).reshape(b, t * n_patches, pp, ck)
    v = _unfold(m_val.reshape(b * t, cv, h, w), patch).reshape(b, t * n_patches, pp, cv)
    valid = _valid((h, w), patch, q.device, q.dtype).repeat(t, 1)  # [T*L, PP]
    top_k = index.shape[-1]
    flat = index.reshape(b, -1)  # [B, L*K]
    k_sel = torch.gather(k, 1, flat[:, :, None, None].expand(-1, -1, pp, ck))
    v_sel = torch.gather(v, 1, flat[:, :, None, None].expand(-1, -1, pp, cv))
    valid_sel = valid[flat]  # [B, L*K, PP]
    k_sel = k_sel.view(b, n_patches, top_k * pp, ck)
    v_sel = v_sel.view(b, n_patches, top_k * pp, cv)
    valid_sel = valid_sel.view(b, n_patches, 1, top_k * pp)
    # softmax over -||q - k||^2 / sqrt(Ck); ||q||^2 cancels in the softmax
    logits = (2.0 * torch.matmul(q, k_sel.transpose(-1, -2)) - (k_sel * k_sel).sum(-1).unsqueeze(-2)) / math.sqrt(ck)
    logits = logits.masked_fill(valid_sel <= 0, float("-inf"))
    weights = torch.softmax(logits, dim=-1)  # [B, L, PP, K*PP]
    out = torch.matmul(weights, v_sel)  # [B, L, PP, Cv]
    return _fold(out, (h, w), patch)


def two_scale_readout(
    q_coarse: torch.Tensor,
    m_key_coarse: torch.Tensor,
    m_val_coarse: torch.Tensor,
    q_fine: torch.Tensor,
    m_key_fine: torch.Tensor,
    m_val_fine: torch.Tensor,
    patch: int,
    top_k: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """PLMM at the coarse scale (patch ``P``) and the fine scale (patch ``2P``, same top-K indices)."""
    index = topk_patches(q_coarse, m_key_coarse, patch, top_k)
    coarse = read_patches(q_coarse, m_key_coarse, m_val_coarse, patch, index)
    fine = read_patches(q_fine, m_key_fine, m_val_fine, 2 * patch, index)
    return coarse, fine
