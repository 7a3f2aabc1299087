"""Patch-level memory matching against a brute-force, loop-by-loop reference."""
from __future__ import annotations

import math

import pytest
import torch

from cardiacmotion.models.plmm import patch_grid, read_patches, topk_patches, two_scale_readout


def _patch_pixels(h: int, w: int, patch: int) -> list[list[tuple[int, int]]]:
    """For every patch (row-major over the grid) its pixel coordinates (may be outside the map)."""
    step = patch // 2
    gh, gw = patch_grid((h, w), patch)
    out = []
    for gy in range(gh):
        for gx in range(gw):
            y0, x0 = gy * step - step, gx * step - step
            out.append([(y0 + dy, x0 + dx) for dy in range(patch) for dx in range(patch)])
    return out


def _value(x: torch.Tensor, y: int, xx: int) -> torch.Tensor:
    """``x [C, H, W]`` at a pixel, zero outside (the unfold padding)."""
    if 0 <= y < x.shape[1] and 0 <= xx < x.shape[2]:
        return x[:, y, xx]
    return torch.zeros(x.shape[0], dtype=x.dtype)


def brute_force(q, mk, mv, patch, top_k, index=None):
    """Reference PLMM for one batch element: ``q [Ck,H,W]``, ``mk [T,Ck,H,W]``, ``mv [T,Cv,H,W]``."""
    t, ck, h, w = mk.shape
    cv = mv.shape[1]
    patches = _patch_pixels(h, w, patch)
    n = len(patches)
    mem = [(tt, p) for tt in range(t) for p in range(n)]  # memory-major order
    acc = torch.zeros(cv, h, w, dtype=torch.float64)
    cnt = torch.zeros(h, w, dtype=torch.float64)
    chosen_all = []
    for qi, qpix in enumerate(patches):
        qvec = torch.cat([_value(q, y, x) for y, x in qpix])
        if index is None:
            dists = []
            for tt, p in mem:
                kvec = torch.cat([_value(mk[tt], y, x) for y, x in patches[p]])
                dists.append(float(((qvec - kvec) ** 2).sum()))
            chosen = sorted(range(len(mem)), key=lambda j: dists[j])[:top_k]
        else:
            chosen = [int(j) for j in index[qi]]
        chosen_all.append(sorted(chosen))
        keys, vals = [], []
        for j in chosen:
            tt, p = mem[j]
            for y, x in patches[p]:
                if 0 <= y < h and 0 <= x < w:  # padded memory pixels take no part
                    keys.append(mk[tt, :, y, x])
                    vals.append(mv[tt, :, y, x])
        keys, vals = torch.stack(keys), torch.stack(vals)
        for y, x in qpix:
            if not (0 <= y < h and 0 <= x < w):
                continue
            d = ((q[:, y, x][None] - keys) ** 2).sum(1)
            wts = torch.softmax(-d / math.sqrt(ck), 0)
            acc[:, y, x] += (wts[:, None] * vals).sum(0)
            cnt[y, x] += 1
    return acc / cnt, chosen_all


@pytest.mark.parametrize("h,w,patch,t,top_k", [(6, 6, 4, 2, 3), (8, 6, 2, 3, 4), (5, 7, 4, 1, 2)])
def test_plmm_matches_brute_force(h, w, patch, t, top_k):
    g = torch.Generator().manual_seed(h * 100 + w * 10 + t)
    ck, cv = 3, 2
    q = torch.randn(1, ck, h, w, generator=g, dtype=torch.float64)
    mk = torch.randn(1, t, ck, h, w, generator=g, dtype=torch.float64)
    mv = torch.randn(1, t, cv, h, w, generator=g, dtype=torch.float64)
    index = topk_patches(q, mk, patch, top_k)
    out = read_patches(q, mk, mv, patch, index)
    ref, chosen = brute_force(q[0], mk[0], mv[0], patch, top_k)
    assert [sorted(r.tolist()) for r in index[0]] == chosen
    assert torch.allclose(out[0], ref, atol=1e-9)


def test_fine_scale_reuses_coarse_indices():
    g = torch.Generator().manual_seed(3)
    ck, cv, t = 2, 3, 2
    qc, mkc = torch.randn(2, ck, 4, 4, generator=g), torch.randn(2, t, ck, 4, 4, generator=g)
    mvc = torch.randn(2, t, cv, 4, 4, generator=g)
    qf, mkf = torch.randn(2, ck, 8, 8, generator=g), torch.randn(2, t, ck, 8, 8, generator=g)
    mvf = torch.randn(2, t, cv, 8, 8, generator=g)
    coarse, fine = two_scale_readout(qc, mkc, mvc, qf, mkf, mvf, patch=2, top_k=3)
    assert coarse.shape == (2, cv, 4, 4) and fine.shape == (2, cv, 8, 8)
    assert patch_grid((4, 4), 2) == patch_grid((8, 8), 4)
    index = topk_patches(qc, mkc, 2, 3)
    for b in range(2):
        ref, _ = brute_force(qf[b].double(), mkf[b].double(), mvf[b].double(), 4, 3, index=index[b])
        assert torch.allclose(fine[b].double(), ref, atol=1e-5)


def test_readout_of_identical_memory_reproduces_values():
    # when the query equals the single memory frame and keys are sharp, each pixel reads its own value
    h = w = 8
    q = torch.zeros(1, 2, h, w)
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    q[0, 0], q[0, 1] = yy * 10.0, xx * 10.0
    v = torch.randn(1, 1, 5, h, w)
    index = topk_patches(q, q[:, None], 4, 1)
    out = read_patches(q, q[:, None], v, 4, index)
    assert torch.allclose(out, v[:, 0], atol=1e-4)
