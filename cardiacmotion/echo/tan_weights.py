"""TAN weights: the checkpoint (network, template, window size) and the bundled ``tan-`` manifest entry."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from cardiacmotion.errors import WeightsError
from cardiacmotion.models import weights as W
from cardiacmotion.models.tan import TANNet, arch_id

MODEL_PREFIX = "tan-"


def save_tan(path, model: TANNet, template: np.ndarray, meta: dict, space: str = "affine", crop_scale: float = 1.0) -> str:
    """Write a TAN checkpoint (``space``: 'affine', or 'crop' for the ablation); returns its sha256."""
    cfg = {"size": model.size, "widths": list(model.widths), "num_classes": model.num_classes,
           "template": np.asarray(template, float).round(6).tolist(), "views": ["A2C", "A4C"],
           "space": space, "crop_scale": float(crop_scale)}
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return W.save_checkpoint(path, arch_id(model.size, model.widths, model.num_classes), cfg, state, meta)


def bundled_tan() -> tuple[Path, Optional[str]]:
    """Path and sha256 of the newest ``tan-`` model in the manifest."""
    entry = W.manifest_entry(MODEL_PREFIX)
    if entry is None:
        raise WeightsError("no bundled TAN weights (no 'tan-' entry in Resources/Models/models.json); train them with "
                           "'cardiacmotion train tan' and pass --weights")
    return W.models_dir() / entry["file"], entry.get("sha256")


def load_tan(weights: Optional[str] = None, device: str = "cpu") -> tuple[TANNet, np.ndarray, dict]:
    """``(model in eval mode, template (3, 2), config)`` from ``weights`` or the bundled checkpoint.

    Raises:
        WeightsError: missing, corrupt or not a TAN checkpoint.
    """
    path, sha = (Path(weights), None) if weights else bundled_tan()
    payload = W.load_checkpoint(path, expected_sha256=sha)
    if not str(payload["arch_id"]).startswith("tan/"):
        raise WeightsError(f"{Path(path).name} is not a TAN checkpoint (architecture {payload['arch_id']!r})")
    cfg = payload["config"]
    model = TANNet(int(cfg["size"]), tuple(cfg["widths"]), int(cfg["num_classes"]))
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise WeightsError(f"{Path(path).name}: weights do not fit the TAN architecture ({str(exc).splitlines()[0]})") from None
    model.to(device).eval()
    return model, np.asarray(cfg["template"], np.float64), cfg
