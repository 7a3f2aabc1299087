"""One independently generated case and how it is written to disk."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import numpy as np

from cardiacmotion.cine import Cine

GENERATOR = "cardiacmotion.independent"
VERSION = "1.0.0"


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


@dataclass
class IndependentCase:
    """An evaluation case from the independent generator (never to be trained on).

    Attributes:
        image: the cine (float32): MR short-axis stack ``[t, k, j, i]`` or echo ``[t, 1, j, i]``.
        labels: truth labels on every phase and slice (uint8; ACDC for MR, CAMUS for echo).
        seed: one phase of labels with only the seed slice (MR: mid ED slice) or frame labelled.
        seed_phase: the phase the seed belongs to.
        landmarks: named RAS points (MR: on the seed slice at ED; echo: at the seed frame).
        truth: volumes, EF, mass, phases, wall motion and the acquisition parameters (JSON-able).
    """

    image: Cine
    labels: Cine
    seed: Cine
    seed_phase: int
    landmarks: dict[str, np.ndarray]
    truth: dict = field(default_factory=dict)

    def save(self, directory: Union[str, Path]) -> Path:
        """Write image.nii.gz, labels.nii.gz, seed.nii.gz, landmarks.mrk.json and truth.json."""
        from cardiacmotion.io.markups import write_markups
        from cardiacmotion.io.nifti import write_nifti

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        write_nifti(self.image, out / "image.nii.gz")
        write_nifti(self.labels, out / "labels.nii.gz")
        write_nifti(self.seed, out / "seed.nii.gz")
        write_markups(self.landmarks, out / "landmarks.mrk.json")
        (out / "truth.json").write_text(json.dumps(_jsonable(self.truth), indent=1) + "\n")
        return out
