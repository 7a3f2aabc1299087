"""Loaders for the Sunnybrook cine MR studies and their contours (training and tests share them).

Both data sets name a contour file ``IM-0001-NNNN-{i,o}contour-*.txt`` after the image number
NNNN (the DICOM InstanceNumber) of the image it was drawn on; ``i`` is the endocardium (LV
cavity, papillary muscles included), ``o`` the epicardium. Contours are mapped to ``(phase,
slice)`` through the InstanceNumbers the DICOM reader recorded, so they land on the image the
expert saw whatever order the reader sorts slices in (it sorts along the slice normal).

Label maps follow ACDC: 3 = LV cavity (inside ``i``), 2 = LV myocardium (inside ``o``, outside
``i``); see :mod:`cardiacmotion.io.contours` for the rasterisation rule.
"""
from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Union

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError
from cardiacmotion.io.contours import fill_polygon, read_contour

PathLike = Union[str, os.PathLike]

_NAME = re.compile(r"IM-\d+-(\d+)-([io])contour", re.IGNORECASE)
MYO, CAVITY = 2, 3


def _instance_index(cine: Cine) -> dict[int, tuple[int, int]]:
    numbers = cine.meta.get("instance_numbers")
    if not numbers:
        raise InputError("the image has no DICOM instance numbers to match contours to")
    index = {}
    for k, per_slice in enumerate(numbers):
        for t, n in enumerate(per_slice):
            index[int(n)] = (t, k)
    return index


def rasterise_contours(cine: Cine, contours_dir: PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rasterise every ``IM-*-NNNN-{i,o}contour*.txt`` under ``contours_dir`` onto ``cine``.

    Returns:
        ``labels uint8 [T,K,J,I]`` (3 cavity, 2 myocardium), ``endo_drawn bool [T,K]``,
        ``epi_drawn bool [T,K]``.
    Raises:
        InputError: no contour files, or a contour naming an image the study does not have.
    """
    root = Path(contours_dir)
    files = sorted(root.rglob("*contour*.txt"))
    if not files:
        raise InputError(f"no contour files (IM-*-NNNN-[io]contour*.txt) under {contours_dir}")
    index = _instance_index(cine)
    t_, k_, rows, cols = cine.array.shape
    endo = np.zeros((t_, k_, rows, cols), dtype=bool)
    epi = np.zeros_like(endo)
    endo_drawn = np.zeros((t_, k_), dtype=bool)
    epi_drawn = np.zeros((t_, k_), dtype=bool)
    for f in files:
        m = _NAME.search(f.name)
        if not m:
            continue
        number, kind = int(m.group(1)), m.group(2).lower()
        if number not in index:
            raise InputError(f"{f.name}: the study has no image number {number}")
        t, k = index[number]
        mask = fill_polygon(read_contour(f), (rows, cols))
        if kind == "i":
            endo[t, k] |= mask
            endo_drawn[t, k] = True
        else:
            epi[t, k] |= mask
            epi_drawn[t, k] = True
    labels = np.zeros(endo.shape, dtype=np.uint8)
    labels[epi] = MYO
    labels[endo] = CAVITY
    return labels, endo_drawn, epi_drawn


def load_sunnybrook(study_dir: PathLike, contours_dir: PathLike) -> tuple[Cine, np.ndarray, np.ndarray, np.ndarray]:
    """Load a Sunnybrook Cardiac Data study with its expert contours.

    Args:
        study_dir: the study's DICOM folder (e.g. ``sunnybrook/SCD0000101``).
        contours_dir: its contour folder (e.g. ``sunnybrook/contours/SC-HF-I-1``).
    Returns:
        ``(cine, labels uint8 [T,K,J,I], endo_drawn bool [T,K], epi_drawn bool [T,K])``. The
        myocardium (2) exists only where an epicardium was drawn (ED); the cavity (3) where an
        endocardium was (ED and ES).
    """
    from cardiacmotion.io.dicom import read_dicom

    cine = read_dicom(study_dir)
    labels, endo_drawn, epi_drawn = rasterise_contours(cine, contours_dir)
    return cine, labels, endo_drawn, epi_drawn


def sunnybrook_studies(root: PathLike) -> list[tuple[Path, Path]]:
    """``[(study_dir, contours_dir)]`` of a Sunnybrook folder, paired through ``link.csv``."""
    root = Path(root)
    link = root / "link.csv"
    if not link.is_file():
        link = root / "contours" / "link.csv"
    if not link.is_file():
        raise InputError(f"{root}: no link.csv pairing studies with contour folders")
    pairs = []
    with open(link, newline="") as f:
        for row in csv.DictReader(f):
            study, contours = root / row["patient_id"], root / "contours" / row["original_id"]
            if study.is_dir() and contours.is_dir():
                pairs.append((study, contours))
    return pairs


def load_porcine(root: PathLike) -> tuple[Cine, np.ndarray, np.ndarray, np.ndarray]:
    """Load the porcine study (Sunnybrook preclinical EP set) with its automatic contours.

    Args:
        root: the ``ep-preclinical`` folder (``E774S5-shortAxis/`` and ``lvContours/``).
    Returns:
        like :func:`load_sunnybrook`; contours exist on every image (20 phases x 20 slices) but
        are automatic and unreliable at the base.
    """
    from cardiacmotion.io.dicom import read_dicom

    root = Path(root)
    cine = read_dicom(root / "E774S5-shortAxis")
    labels, endo_drawn, epi_drawn = rasterise_contours(cine, root / "lvContours")
    return cine, labels, endo_drawn, epi_drawn
