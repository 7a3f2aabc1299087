"""JSON outputs are valid JSON: NaN and Infinity (which ``json.dumps`` writes by default) become null."""
from __future__ import annotations

import math
from typing import Any


def finite_json(value: Any) -> Any:
    """A copy of ``value`` with every non-finite float (and numpy scalar) replaced by ``None``.

    Outputs that must not hold a missing value (a network's probabilities) are checked where they
    are computed and refused there; this only keeps the file parseable.
    """
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
