"""Choosing the torch device: ``auto`` takes CUDA when there is one, else the CPU."""
from __future__ import annotations

from cardiacmotion.errors import InputError


def resolve_device(name: str = "auto"):
    """Return a ``torch.device`` for ``auto``, ``cpu``, ``cuda`` or ``cuda:N``."""
    import torch

    name = (name or "auto").lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError("--device cuda was asked for but no CUDA GPU is available (use --device cpu or auto)")
        return torch.device(name)
    raise InputError(f"unknown device {name!r} (expected auto, cpu or cuda)")
