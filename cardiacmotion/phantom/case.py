"""A phantom case: image, labels, seed, landmarks and ground truth, and how it is written."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError

#: The files :meth:`PhantomCase.save` writes.
CASE_FILES = ("image.nii.gz", "labels.nii.gz", "seed.nii.gz", "landmarks.mrk.json", "truth.json")


@dataclass
class PhantomCase:
    """One synthetic case with exact ground truth.

    Attributes:
        image: float32 cine (MR short-axis stack or a one-slice echo video).
        labels: uint8 labels on every phase (MR: ACDC, echo: CAMUS conventions).
        seed: one-phase uint8 label cine; only the seeded slice carries labels
            (MR: the mid slice at ED; echo: frame 0).
        seed_phase: the phase the seed belongs to.
        landmarks: ``{name: RAS (3,)}`` (MR names on the seed slice at ED; echo names at frame 0).
        truth: JSON-ready dictionary (volumes, ED/ES, EF, mass, segments, ...).
    """

    image: Cine
    labels: Cine
    seed: Cine
    seed_phase: int
    landmarks: dict[str, np.ndarray]
    truth: dict = field(default_factory=dict)

    def save(self, directory: Union[str, Path]) -> dict[str, Path]:
        """Write the five case files into ``directory`` (created if missing), each atomically.

        Returns:
            ``{file name: path}`` of what was written.
        """
        from cardiacmotion.io import atomic_output, write_image
        from cardiacmotion.io.markups import write_markups

        d = Path(directory)
        if d.exists() and not d.is_dir():
            raise InputError(f"output {d} exists and is not a folder")
        d.mkdir(parents=True, exist_ok=True)
        out = {name: d / name for name in CASE_FILES}
        for cine, name in ((self.image, "image.nii.gz"), (self.labels, "labels.nii.gz"), (self.seed, "seed.nii.gz")):
            write_image(cine, out[name])  # atomic itself
        write_markups(self.landmarks, out["landmarks.mrk.json"])
        with atomic_output(out["truth.json"]) as tmp:
            Path(tmp).write_text(json.dumps(jsonable(self.truth), indent=2) + "\n")
        return out


def jsonable(obj):
    """Numpy scalars / arrays -> plain Python, recursively."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
