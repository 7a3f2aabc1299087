"""The streaming propagation API every method implements (registration, learned memory).

A *propagator* segments a batch of independent 2D sequences one frame at a time, SAM2/Cutie
style: ``init`` with the seed frames (permanent memory), ``step`` to predict the next frame,
``add_memory`` to remember a frame (with its predicted or corrected mask). The 4D order
(seed slice through time, then every phase through the stack, batched over phases) lives in
:mod:`cardiacmotion.propagation.order` and only talks to this interface.

Shapes: images ``[B, H, W]`` float32 (already cropped / normalised by the caller), masks
``[B, H, W]`` int64 label maps, probabilities ``[B, C, H, W]`` with ``C = 4`` (background + the
three labels of the modality). All tensors live on the propagator's device.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

import torch

NUM_CLASSES = 4


class Propagator(ABC):
    """One streaming propagation session over ``B`` independent sequences.

    Args:
        device: where tensors live and compute happens.
        labels: the label values present in the seed; only these are propagated.
    """

    #: short method id reported in outputs ('registration', 'memory', ...)
    method: str = "abstract"

    def __init__(self, device: torch.device, labels: Sequence[int]) -> None:
        self.device = device
        self.labels = sorted(int(v) for v in labels if int(v) != 0)

    @abstractmethod
    def init(self, images: torch.Tensor, masks: torch.Tensor) -> None:
        """Start the session with the seed frames; they become permanent memory."""

    @abstractmethod
    def add_memory(self, images: torch.Tensor, masks: torch.Tensor, permanent: bool = False) -> None:
        """Remember frames with their masks (``permanent``: user seed or correction, never evicted)."""

    @abstractmethod
    def step(self, images: torch.Tensor) -> torch.Tensor:
        """Predict class probabilities ``[B, C, H, W]`` for the next frames from the memory."""

    def restrict(self, probs: torch.Tensor) -> torch.Tensor:
        """Zero the classes absent from the seed and renormalise (only seeded labels propagate)."""
        keep = torch.zeros(probs.shape[1], dtype=torch.bool, device=probs.device)
        keep[0] = True
        for v in self.labels:
            if v < probs.shape[1]:
                keep[v] = True
        probs = probs * keep.view(1, -1, 1, 1).to(probs.dtype)
        return probs / probs.sum(dim=1, keepdim=True).clamp_min(1e-8)


class MemoryBank:
    """Bounded memory of (key, value) entries: permanent ones are kept, the others FIFO.

    Entries are whatever a method stores (encoded keys/values for a network, images/masks for
    registration), each a tensor with the batch as its first dimension.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("memory capacity must be >= 1")
        self.capacity = int(capacity)
        self.permanent: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.recent: list[tuple[torch.Tensor, torch.Tensor]] = []

    def add(self, key: torch.Tensor, value: torch.Tensor, permanent: bool = False) -> None:
        if permanent:
            self.permanent.append((key, value))
        else:
            self.recent.append((key, value))
            del self.recent[: max(0, len(self.recent) - self.capacity)]

    def entries(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Permanent entries first, then the recent ones, oldest first."""
        return self.permanent + self.recent

    def __len__(self) -> int:
        return len(self.permanent) + len(self.recent)

    def clear(self) -> None:
        self.permanent.clear()
        self.recent.clear()
