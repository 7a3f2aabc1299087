"""Self-check forward passes for checkpoints that carry no digest (``weights.verify_tensors``).

A user's ``--weights`` file written before tensor digests existed (or by another tool) cannot be
verified bit for bit; these checks catch what corrupts it in practice (flipped bits, NaN, a wrong
network with the right shapes) with one tiny forward pass before any patient data is touched.
"""
from __future__ import annotations

import numpy as np

from cardiacmotion.errors import WeightsError

#: the memory network must copy its memory frame's mask onto the same frame at least this well
CSTM_SELF_CHECK_DICE = 0.5


def _phantom_frame(size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A short-axis-like frame: bright LV cavity (3), grey myocardial ring (2), RV crescent (1)."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cy, cx = h / 2.0, w / 2.0
    r = np.hypot(yy - cy, xx - cx)
    labels = np.zeros(size, np.uint8)
    rv = np.hypot(yy - cy, xx - (cx - 0.28 * w))
    labels[(rv < 0.2 * w) & (r > 0.2 * w)] = 1
    labels[(r >= 0.12 * w) & (r < 0.2 * w)] = 2
    labels[r < 0.12 * w] = 3
    image = np.choose(labels, [0.15, 0.8, 0.35, 0.9]).astype(np.float32)
    image += np.random.default_rng(0).normal(0, 0.03, size).astype(np.float32)
    return image, labels


def cstm_self_check(net, input_size: tuple[int, int], name: str) -> float:
    """Memory propagation of a frame onto itself must give back its mask; returns the mean Dice.

    Raises:
        WeightsError: non-finite output or a mean Dice below :data:`CSTM_SELF_CHECK_DICE`.
    """
    import torch

    from cardiacmotion.propagation.memory import MemoryPropagator

    image, labels = _phantom_frame(tuple(int(v) for v in input_size))
    prop = MemoryPropagator(torch.device("cpu"), [1, 2, 3], net, input_size=input_size, capacity=1)
    images = torch.from_numpy(image)[None]
    with torch.no_grad():
        prop.init(images, torch.from_numpy(labels)[None])
        probs = prop.step(images)
    if not bool(torch.isfinite(probs).all()):
        raise WeightsError(f"model weights are corrupt: {name} gives NaN or infinite outputs in its self-check")
    pred = probs[0].argmax(0).numpy()
    dices = []
    for c in (1, 2, 3):
        a, b = pred == c, labels == c
        dices.append(2.0 * np.logical_and(a, b).sum() / max(a.sum() + b.sum(), 1))
    dice = float(np.mean(dices))
    if dice < CSTM_SELF_CHECK_DICE:
        raise WeightsError(f"model weights are corrupt or not trained: {name} fails its self-check "
                           f"(mean Dice {dice:.2f} copying a mask onto its own frame, needs {CSTM_SELF_CHECK_DICE})")
    return dice


def mmsa_self_check(model, name: str, frames: int = 12) -> None:
    """One forward pass of the scorer on a tiny input: finite probabilities summing to one.

    Raises:
        WeightsError: non-finite or invalid probabilities.
    """
    import torch

    cfg = getattr(model, "cfg", None) or getattr(model, "config", None)
    radial = int(getattr(cfg, "radial", 16))
    angular = int(getattr(cfg, "angular", 16))
    x = torch.from_numpy(np.random.default_rng(0).random((1, 16, frames, radial, angular), dtype=np.float32))
    with torch.no_grad():
        try:
            logits = model(x)[0]
        except RuntimeError as exc:
            raise WeightsError(f"{name}: the scoring network fails its self-check ({str(exc).splitlines()[0][:100]})") from None
        probs = torch.softmax(logits, dim=-1)
    if not bool(torch.isfinite(probs).all()):
        raise WeightsError(f"model weights are corrupt: {name} gives NaN or infinite outputs in its self-check")
