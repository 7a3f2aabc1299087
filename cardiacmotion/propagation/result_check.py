"""A propagation that labelled only the seeded frames failed, whatever the method says.

A seed copied back is not a segmentation: NaN inputs, corrupt weights or a method that diverged
end this way, and reporting it as "segmented 30 phases x 10 slices" would pass a wrong result
as a success. ``segment`` and ``analyze`` refuse it with exit 3 (:class:`MethodFailedError`).
"""
from __future__ import annotations

import numpy as np

from cardiacmotion.errors import MethodFailedError


def check_propagated(seg: np.ndarray, seeded: np.ndarray, method: str) -> None:
    """Raise when no unseeded frame of ``seg`` [T, K, J, I] carries a label.

    Args:
        seg: the propagated label map.
        seeded: ``bool [T, K]``, the frames the user seeded.
        method: the method's name, for the message.
    """
    seeded = np.asarray(seeded, bool)
    others = ~seeded
    if not others.any():
        return  # every frame was seeded: nothing to propagate
    labelled = np.asarray(seg).reshape(seg.shape[0], seg.shape[1], -1).any(axis=2)
    if not (labelled & others).any():
        raise MethodFailedError(
            f"the {method} method labelled nothing outside the {int(seeded.sum())} seeded frame(s) "
            f"({int(others.sum())} frames empty): no segmentation was produced (check the image and the seed)"
        )
