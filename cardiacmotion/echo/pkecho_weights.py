"""PKEcho-Net weights: the checkpoint (network config + input size) and the bundled ``pkecho-`` manifest entry."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from cardiacmotion.errors import WeightsError
from cardiacmotion.models import weights as W
from cardiacmotion.models.pkecho import PKEchoNet, arch_id

MODEL_PREFIX = "pkecho-"


def save_pkecho(path, model: PKEchoNet, size: int, meta: dict, mm_per_px: Optional[float] = None) -> str:
    """Write a PKEcho-Net checkpoint (``mm_per_px``: the training frames' physical pixel size); returns its sha256."""
    cfg = dict(model.config(), size=int(size), mm_per_px=None if mm_per_px is None else round(float(mm_per_px), 4))
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return W.save_checkpoint(path, arch_id(cfg), cfg, state, meta)


def bundled_pkecho() -> tuple[Path, Optional[str]]:
    """Path and sha256 of the newest ``pkecho-`` model in the manifest."""
    entry = W.manifest_entry(MODEL_PREFIX)
    if entry is None:
        raise WeightsError("no bundled PKEcho-Net weights (no 'pkecho-' entry in Resources/Models/models.json); train them "
                           "with 'cardiacmotion train pkecho' and pass --weights")
    return W.models_dir() / entry["file"], entry.get("sha256")


def load_pkecho(weights: Optional[str] = None, device: str = "cpu") -> tuple[PKEchoNet, dict]:
    """``(model in eval mode, config)`` from ``weights`` or the bundled checkpoint.

    Raises:
        WeightsError: missing, corrupt or not a PKEcho-Net checkpoint.
    """
    path, sha = (Path(weights), None) if weights else bundled_pkecho()
    payload = W.load_checkpoint(path, expected_sha256=sha)
    if not str(payload["arch_id"]).startswith("pkecho/"):
        raise WeightsError(f"{Path(path).name} is not a PKEcho-Net checkpoint (architecture {payload['arch_id']!r})")
    cfg = payload["config"]
    keys = ("backbone", "base", "num_classes", "d", "iterations", "frames", "ffn", "cross_video", "upsample", "temporal")
    try:
        model = PKEchoNet(**{k: cfg[k] for k in keys})
        model.load_state_dict(payload["state_dict"])
    except (KeyError, ValueError, RuntimeError) as exc:
        raise WeightsError(f"{Path(path).name}: weights do not fit the PKEcho-Net architecture ({str(exc).splitlines()[0]})") from None
    model.to(device).eval()
    return model, cfg
