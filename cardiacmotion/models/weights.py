"""Bundled model weights: the ``Resources/Models/models.json`` manifest, sha256 and architecture checks.

A weights file is a ``torch.save`` dictionary ``{"arch_id", "config", "state_dict", "meta"}``
holding only tensors and plain Python values (it loads with ``weights_only=True``). Files written
since 0.3 also carry ``"tensor_sha256"``, a digest of the state dict's own tensors
(:func:`tensor_digest`), so any checkpoint ``train`` writes is verified at load like a bundled
one; an older or foreign file without it is checked for structure and finite values only and is
reported as *unverified* (the model loaders add a self-check forward pass). The manifest
lists, per model id (``name-vX.Y.Z``), the file, its sha256, its architecture id, and what was
measured. Every failure raises :class:`~cardiacmotion.errors.WeightsError` with a one-line reason.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Optional, Union

from cardiacmotion.errors import WeightsError

PathLike = Union[str, os.PathLike]
MANIFEST = "models.json"


def models_dir() -> Path:
    """``$CARDIACMOTION_MODELS`` when set, else ``Resources/Models`` of the checkout / install."""
    env = os.environ.get("CARDIACMOTION_MODELS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "Resources" / "Models"


def sha256_of(path: PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(directory: Optional[PathLike] = None) -> dict:
    """The manifest as ``{"models": [...]}``; an empty one when the file does not exist.

    Raises:
        WeightsError: not JSON, or not the manifest's structure (one line, with where).
    """
    from cardiacmotion.io.schema import MODELS_MANIFEST, load_json

    path = Path(directory or models_dir()) / MANIFEST
    if not path.is_file():
        return {"models": []}
    return load_json(path, "the model manifest", MODELS_MANIFEST, error=WeightsError)


def manifest_entry(model_id_prefix: str, directory: Optional[PathLike] = None) -> Optional[dict]:
    """The newest manifest entry whose id starts with ``model_id_prefix`` (e.g. ``'cstm-'``)."""
    entries = [m for m in read_manifest(directory)["models"] if str(m.get("id", "")).startswith(model_id_prefix)]
    if not entries:
        return None

    def version(m: dict) -> tuple:
        tail = str(m["id"]).rsplit("-v", 1)[-1]
        return tuple(int(p) if p.isdigit() else 0 for p in tail.split("."))

    return max(entries, key=version)


def write_manifest_entry(entry: dict, directory: Optional[PathLike] = None) -> Path:
    """Insert or replace (by ``id``) one manifest entry, writing the file atomically."""
    from cardiacmotion.io.atomic import atomic_output

    directory = Path(directory or models_dir())
    directory.mkdir(parents=True, exist_ok=True)
    data = read_manifest(directory)
    data["models"] = [m for m in data["models"] if m.get("id") != entry["id"]] + [entry]
    data["models"].sort(key=lambda m: str(m.get("id")))
    path = directory / MANIFEST
    with atomic_output(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=2) + "\n")
    return path


def save_checkpoint(path: PathLike, arch_id: str, config: dict, state_dict: dict, meta: dict) -> str:
    """Write a weights file atomically; returns its sha256.

    The bytes depend only on the payload (saved through a buffer: ``torch.save`` to a path names
    the archive after the file, and the atomic temporary name is random), so a reproduced
    training run gives the same sha256.
    """
    import io

    import torch

    from cardiacmotion.io.atomic import atomic_output

    payload = {"arch_id": arch_id, "config": config, "state_dict": state_dict, "meta": meta,
               "tensor_sha256": tensor_digest(state_dict)}
    buf = io.BytesIO()
    torch.save(payload, buf)
    with atomic_output(path) as tmp:
        Path(tmp).write_bytes(buf.getvalue())
    return sha256_of(path)


def load_checkpoint(
    path: PathLike, expected_arch: Optional[str] = None, expected_sha256: Optional[str] = None
) -> dict[str, Any]:
    """Load and check a weights file.

    Args:
        path: the weights file.
        expected_arch: architecture id it must carry (``None``: any).
        expected_sha256: hex digest it must have (``None``: not checked).
    Raises:
        WeightsError: missing, corrupt (hash mismatch or unreadable), or another architecture.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"model weights not found: {path}")
    if expected_sha256:
        got = sha256_of(path)
        if got != expected_sha256:
            raise WeightsError(
                f"model weights are corrupt: {path.name} has sha256 {got[:12]}... but the manifest says {expected_sha256[:12]}..."
            )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unpickling / zip error means the file is not usable
        raise WeightsError(f"model weights are corrupt or not a CardiacMotion checkpoint: {path.name} ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or "state_dict" not in payload or "arch_id" not in payload:
        raise WeightsError(f"{path.name} is not a CardiacMotion checkpoint (no arch_id / state_dict)")
    if expected_arch is not None and payload["arch_id"] != expected_arch:
        raise WeightsError(
            f"model weights are for another architecture: {path.name} is {payload['arch_id']!r}, expected {expected_arch!r}"
        )
    payload["verification"] = verify_tensors(payload, path.name, file_checked=bool(expected_sha256))
    return payload


def tensor_digest(state_dict: dict) -> str:
    """sha256 over the state dict's names, dtypes, shapes and bytes (independent of the file format)."""
    import torch

    h = hashlib.sha256()
    for name in sorted(state_dict):
        value = state_dict[name]
        h.update(name.encode("utf-8") + b"\0")
        if isinstance(value, torch.Tensor):
            t = value.detach().cpu().contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode("ascii"))
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        else:
            h.update(repr(value).encode("utf-8"))
    return h.hexdigest()


def verify_tensors(payload: dict, name: str, file_checked: bool = False) -> str:
    """Check a loaded checkpoint's tensors; return how it was verified.

    Returns:
        ``'sha256'`` (the file matched the manifest), ``'digest'`` (its own tensor digest
        matched) or ``'unverified'`` (no digest: structure and finite values only).
    Raises:
        WeightsError: not a dict of tensors, a non-finite weight, or a digest mismatch.
    """
    import torch

    state = payload.get("state_dict")
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{name} is not a CardiacMotion checkpoint (its state_dict is not a set of tensors)")
    for key, t in state.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise WeightsError(f"model weights are corrupt: {name} holds NaN or infinite values in {key}")
    digest = payload.get("tensor_sha256")
    if digest is not None:
        if not isinstance(digest, str) or tensor_digest(state) != digest:
            raise WeightsError(f"model weights are corrupt: the tensors of {name} do not match the digest stored in it")
        return "digest"
    return "sha256" if file_checked else "unverified"


def unverified_note(name: str, check: str) -> str:
    """The one-line note a loader reports for a checkpoint without a digest that passed its self-check."""
    return f"note: {name} carries no digest (unverified: structure, finite weights and {check} checked)"
