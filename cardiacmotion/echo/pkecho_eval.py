"""Clip-level PKEcho-Net scores (the paper's protocol, guide §7.1): ED->ES clips at network size, the model run
once per clip (B = 1), LV Dice at ED and ES (the labelled frames) and on the frames in between (never
labelled in training; scored against the phantom's exact truth), and HD95 in network pixels. Used by
the ablations (same held-out seeds for every variant)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from scipy import ndimage


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    s = int(a.sum()) + int(b.sum())
    return 1.0 if s == 0 else 2.0 * float((a & b).sum()) / s


def _hd95_px(a: np.ndarray, b: np.ndarray) -> float:
    if not a.any() or not b.any():
        return float("nan")
    ea, eb = a & ~ndimage.binary_erosion(a), b & ~ndimage.binary_erosion(b)
    da, db = ndimage.distance_transform_edt(~ea), ndimage.distance_transform_edt(~eb)
    return float(np.percentile(np.concatenate([db[ea], da[eb]]), 95))


@torch.no_grad()
def clip_scores(model, clips: Sequence) -> dict:
    """Mean LV Dice at ED/ES (``dice_ed_es``), on the unlabelled frames (``dice_unlabelled``), LV HD95 (px)
    over all frames, and the number of clips. ``clips``: :class:`~cardiacmotion.echo.pkecho_data.PKClip`
    with ``truth``."""
    model.eval()
    ed_es, mid, hd = [], [], []
    for c in clips:
        p = model.probabilities(c.frames[None, :, None])[0]  # [T, c, S, S]
        best, arg = p.max(1)
        lv = ((best >= 0.5) & (arg == 0)).numpy()
        truth = (c.truth == 1).numpy()
        t = lv.shape[0]
        for k in range(t):
            d = _dice(lv[k], truth[k])
            (ed_es if k in (0, t - 1) else mid).append(d)
            hd.append(_hd95_px(lv[k], truth[k]))
    return {"dice_ed_es": float(np.mean(ed_es)), "dice_unlabelled": float(np.mean(mid)),
            "hd95_px": float(np.nanmean(hd)), "clips": len(clips)}
