"""``--method memory``: learned memory propagation with the CSTM network.

The network runs at :attr:`MemoryPropagator.input_size` (the 4D order resizes heart-region crops
to it; other sizes are resized here and the probabilities resized back). Each frame's key is
computed once: the key of the frame just stepped is reused when that frame is added to memory.
Memory is a bounded :class:`~cardiacmotion.propagation.base.MemoryBank`: the seed frames (and
any user correction) are permanent, the predicted frames a FIFO of ``capacity`` entries.

Weights come from ``Resources/Models/`` (manifest ``models.json``, newest ``cstm-*`` entry) or
from a user checkpoint; the sha256 and the architecture id are checked, and any problem raises
:class:`~cardiacmotion.errors.WeightsError` with a one-line reason.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import torch
import torch.nn.functional as F

from cardiacmotion.errors import InputError, WeightsError
from cardiacmotion.models.cstm import CSTM, CSTMConfig
from cardiacmotion.models.weights import load_checkpoint, manifest_entry, models_dir, read_manifest
from cardiacmotion.propagation.base import NUM_CLASSES, MemoryBank, Propagator

MODEL_PREFIX = "cstm-"
DEFAULT_INPUT_SIZE = (128, 128)


def normalise_frames(images: torch.Tensor) -> torch.Tensor:
    """Per-frame zero mean / unit variance ``[B, H, W]`` (idempotent, so callers may pre-normalise)."""
    flat = images.reshape(images.shape[0], -1).float()
    mean = flat.mean(1).view(-1, 1, 1)
    std = flat.std(1).clamp_min(1e-6).view(-1, 1, 1)
    return (images.float() - mean) / std


class MemoryPropagator(Propagator):
    """Streaming CSTM propagation over ``B`` independent sequences.

    Args:
        device: where the network runs.
        labels: label values present in the seed (only those are propagated).
        net: a :class:`CSTM` (its weights already loaded); moved to ``device`` and put in eval mode.
        input_size: ``(H, W)`` the network runs at (multiples of 16).
        capacity: number of recent (non-permanent) memory frames kept.
    """

    method = "memory"

    def __init__(
        self,
        device: torch.device,
        labels: Sequence[int],
        net: CSTM,
        input_size: tuple[int, int] = DEFAULT_INPUT_SIZE,
        capacity: int = 2,
    ) -> None:
        super().__init__(device, labels)
        self.net = net.to(device).eval()
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.memory = MemoryBank(capacity)
        self._last: Optional[tuple[torch.Tensor, dict]] = None  # (images, key features) of the last step

    # -- helpers ---------------------------------------------------------------------------
    def _prepare(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() != 3:
            raise InputError(f"memory propagation expects images [B, H, W], got shape {tuple(images.shape)}")
        x = normalise_frames(images.to(self.device)).unsqueeze(1)
        if tuple(x.shape[-2:]) != self.input_size:
            x = F.interpolate(x, size=self.input_size, mode="bilinear", align_corners=False)
        return x

    def _onehot(self, masks: torch.Tensor) -> torch.Tensor:
        m = masks.to(self.device).long().clamp(0, NUM_CLASSES - 1)
        onehot = F.one_hot(m, NUM_CLASSES).permute(0, 3, 1, 2).float()
        if tuple(onehot.shape[-2:]) != self.input_size:
            onehot = F.interpolate(onehot, size=self.input_size, mode="bilinear", align_corners=False)
        return onehot

    def _keys(self, images: torch.Tensor) -> tuple[torch.Tensor, dict]:
        if self._last is not None and self._last[0] is images:
            return self._last[1]["x"], self._last[1]
        x = self._prepare(images)
        feats = self.net.encode_key(x)
        feats["x"] = x
        return x, feats

    # -- Propagator API --------------------------------------------------------------------
    @torch.no_grad()
    def init(self, images: torch.Tensor, masks: torch.Tensor) -> None:
        self.memory.clear()
        self._last = None
        self.add_memory(images, masks, permanent=True)

    @torch.no_grad()
    def add_memory(self, images: torch.Tensor, masks: torch.Tensor, permanent: bool = False) -> None:
        if images.shape[0] != masks.shape[0] or images.shape[-2:] != masks.shape[-2:]:
            raise InputError(f"memory images {tuple(images.shape)} and masks {tuple(masks.shape)} do not match")
        x, feats = self._keys(images)
        v8, v16 = self.net.encode_value(x, self._onehot(masks), feats)
        key = (feats["k8"], feats["k16"])
        self.memory.add(key, (v8, v16), permanent=permanent)

    @torch.no_grad()
    def step(self, images: torch.Tensor) -> torch.Tensor:
        if len(self.memory) == 0:
            raise InputError("memory propagation needs init() with seed frames before step()")
        x, feats = self._keys(images)
        entries = self.memory.entries()
        if entries[0][0][0].shape[0] != x.shape[0]:
            raise InputError(f"batch of {x.shape[0]} frames but the memory holds batches of {entries[0][0][0].shape[0]}")
        mk8 = torch.stack([k[0] for k, _ in entries], dim=1)
        mk16 = torch.stack([k[1] for k, _ in entries], dim=1)
        mv8 = torch.stack([v[0] for _, v in entries], dim=1)
        mv16 = torch.stack([v[1] for _, v in entries], dim=1)
        logits = self.net.segment(feats, mk8, mk16, mv8, mv16, size=self.input_size)
        probs = torch.softmax(logits, dim=1)
        if not bool(torch.isfinite(probs).all()):
            raise WeightsError("the memory network produced NaN or infinite outputs (corrupt weights?)")
        if tuple(images.shape[-2:]) != self.input_size:
            probs = F.interpolate(probs, size=tuple(images.shape[-2:]), mode="bilinear", align_corners=False)
        self._last = (images, feats)
        return self.restrict(probs)


# -- weights -------------------------------------------------------------------------------------
def load_network(weights_path: Optional[Union[str, os.PathLike]] = None) -> tuple[CSTM, dict]:
    """Build the network from bundled weights (newest ``cstm-*`` manifest entry) or a user file.

    Returns:
        ``(net, info)`` where ``info`` has ``id``, ``input_size``, ``capacity`` and the file path.
    Raises:
        WeightsError: no bundled weights, file missing, hash mismatch, or wrong architecture.
    """
    if weights_path is None:
        entry = manifest_entry(MODEL_PREFIX)
        if entry is None:
            raise WeightsError(f"no bundled memory-propagation weights (no '{MODEL_PREFIX}*' entry in {models_dir() / 'models.json'})")
        path = models_dir() / entry["file"]
        payload = load_checkpoint(path, expected_arch=entry.get("architecture"), expected_sha256=entry.get("sha256"))
        model_id = entry["id"]
    else:
        path = Path(weights_path)
        entry = None
        for m in read_manifest(path.parent)["models"] if path.parent.is_dir() else []:
            if m.get("file") == path.name:
                entry = m
        payload = load_checkpoint(
            path,
            expected_arch=entry.get("architecture") if entry else None,
            expected_sha256=entry.get("sha256") if entry else None,
        )
        model_id = entry["id"] if entry else path.stem
    if not str(payload["arch_id"]).startswith("cstm"):
        raise WeightsError(f"model weights are for another architecture: {path.name} is {payload['arch_id']!r}, not a CSTM network")
    try:
        cfg = CSTMConfig.from_dict(payload["config"])
    except (TypeError, KeyError, ValueError) as exc:
        raise WeightsError(f"{path.name}: unreadable CSTM configuration ({exc})") from None
    if cfg.arch_id() != payload["arch_id"]:
        raise WeightsError(f"model weights are for another architecture: {path.name} says {payload['arch_id']!r} but its configuration is {cfg.arch_id()!r}")
    net = CSTM(cfg)
    try:
        net.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise WeightsError(f"model weights do not fit the {cfg.arch_id()} architecture: {first}") from None
    meta = payload.get("meta", {}) or {}
    info = {
        "id": model_id,
        "path": str(path),
        "input_size": tuple(meta.get("input_size", DEFAULT_INPUT_SIZE)),
        "capacity": int(meta.get("capacity", 2)),
        "verification": payload.get("verification", "unverified"),
    }
    if info["verification"] == "unverified":  # no digest: a tiny forward pass must copy a mask (issue 19)
        from cardiacmotion.models.selfcheck import cstm_self_check
        from cardiacmotion.models.weights import unverified_note

        cstm_self_check(net.eval(), info["input_size"], path.name)
        info["note"] = unverified_note(path.name, "a self-check forward pass")
    return net.eval(), info


def load_memory_propagator_factory(
    weights_path: Optional[Union[str, os.PathLike]] = None, device: Union[str, torch.device] = "cpu"
) -> Callable[..., MemoryPropagator]:
    """Load the weights once; return ``factory(labels, capacity=None) -> MemoryPropagator``.

    The factory carries ``input_size`` and ``model_id`` attributes so the 4D order can size its
    crops before building a propagator. Raises :class:`WeightsError` when the weights do not load.
    """
    device = torch.device(device)
    net, info = load_network(weights_path)
    net = net.to(device).eval()

    def factory(labels: Sequence[int], capacity: Optional[int] = None) -> MemoryPropagator:
        return MemoryPropagator(device, labels, net, input_size=info["input_size"], capacity=capacity or info["capacity"])

    factory.input_size = info["input_size"]  # type: ignore[attr-defined]
    factory.model_id = info["id"]  # type: ignore[attr-defined]
    factory.method = MemoryPropagator.method  # type: ignore[attr-defined]
    factory.note = info.get("note")  # type: ignore[attr-defined]
    return factory


def _method_factory(device, modality: str = "MR", weights: Optional[str] = None, **options):
    """Registry entry for ``--method memory``: ``make(labels, memory_frames=2) -> MemoryPropagator``.

    ``memory_frames`` counts the seed and the recent frames (CSTM's ``T_max``), so the FIFO keeps
    ``memory_frames - 1`` predicted frames beside the permanent seed.
    """
    factory = load_memory_propagator_factory(weights, device=device)

    def make(labels: Sequence[int], memory_frames: int = 2) -> MemoryPropagator:
        return factory(labels, capacity=max(1, int(memory_frames) - 1))

    make.input_size = factory.input_size  # type: ignore[attr-defined]
    make.model_id = factory.model_id  # type: ignore[attr-defined]
    make.note = factory.note  # type: ignore[attr-defined]
    return make


try:  # the propagation engineer's registry (cardiacmotion.propagation.methods), when present
    from cardiacmotion.propagation.methods import register_method as _register
except ImportError:  # pragma: no cover - registry not there: callers use load_memory_propagator_factory
    _register = None
if _register is not None:
    _register("memory", _method_factory)
