"""Small utilities shared by the training loops: seeding, losses, logging, scoring."""
from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

IGNORE = 255


def seed_everything(seed: int, threads: Optional[int] = None) -> np.random.Generator:
    """Seed Python, numpy and torch (and fix the thread count, which changes float reductions)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(int(threads))
        try:  # OpenCV's own pool would oversubscribe the same cores (results do not depend on it)
            import cv2

            cv2.setNumThreads(1)
        except ImportError:  # pragma: no cover
            pass
    return np.random.default_rng(seed)


def bootstrapped_ce(logits: torch.Tensor, target: torch.Tensor, top_p: float) -> torch.Tensor:
    """Cross-entropy over the hardest ``top_p`` fraction of the labelled pixels (STCN / CSTM).

    Args:
        logits: ``[B, C, H, W]``; target: ``[B, H, W]`` int64 with ``IGNORE`` for unknown pixels.
        top_p: fraction (0, 1] of the pixels kept, the ones with the largest loss.
    """
    loss = F.cross_entropy(logits, target, ignore_index=IGNORE, reduction="none").flatten()
    valid = (target != IGNORE).flatten()
    loss = loss[valid]
    if loss.numel() == 0:
        return logits.sum() * 0.0
    if top_p >= 1.0:
        return loss.mean()
    k = max(1, int(loss.numel() * top_p))
    return loss.topk(k, sorted=False).values.mean()


def top_p_schedule(it: int, total: int, start: float = 0.1, end: float = 0.4, final: float = 0.15) -> float:
    """1.0 until ``start * total``, then linearly down to ``final`` at ``end * total``."""
    a, b = start * total, end * total
    if it <= a:
        return 1.0
    if it >= b:
        return final
    return 1.0 + (final - 1.0) * (it - a) / (b - a)


def dice(pred: np.ndarray, truth: np.ndarray, label: int) -> float:
    """Dice of one label (NaN when absent from both)."""
    p, t = pred == label, truth == label
    s = int(p.sum()) + int(t.sum())
    return float("nan") if s == 0 else 2.0 * float((p & t).sum()) / s


class JsonLog:
    """Append-only JSON-lines log (one object per line) with elapsed seconds."""

    def __init__(self, path: Optional[Path]) -> None:
        self.path = Path(path) if path else None
        self.t0 = time.time()
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, **record) -> None:
        record = {"elapsed_s": round(time.time() - self.t0, 1), **record}
        line = json.dumps(record)
        if self.path:
            with open(self.path, "a") as f:
                f.write(line + "\n")
        if os.environ.get("CARDIACMOTION_TRAIN_QUIET") != "1":
            print(line, flush=True)
