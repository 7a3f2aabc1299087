"""A cohort manifest for the shared real studies (two Sunnybrook, one porcine), built outside the repo.

Seeds: the mid contoured slice at ED of each study's contours (LV myocardium + cavity), as
``cardiacmotion.propagation.evaluate`` seeds Sunnybrook. Reference EF: the Sunnybrook experts'
endocardial polygons (shoelace area x pixel area x slice spacing over the contoured slices,
as in ``Testing/function/test_function_sunnybrook.py``); the porcine contours are automatic and
not a reference for EF, so its reference is left empty.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from cardiacmotion.io import write_image
from cardiacmotion.io.contours import read_contour
from cardiacmotion.io.sunnybrook import load_porcine, load_sunnybrook, sunnybrook_studies

_NAME = re.compile(r"IM-\d+-(\d+)-icontour", re.IGNORECASE)


def _shoelace(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def expert_ef(cine, contours_dir: Path) -> float:
    """EF (%) from the expert endocardial polygons of the two contoured phases."""
    where = {int(n): t for per_slice in cine.meta["instance_numbers"] for t, n in enumerate(per_slice)}
    pixel_area = float(np.linalg.norm(np.cross(cine.ijk_to_ras[:3, 0], cine.ijk_to_ras[:3, 1])))
    spacing = float(np.linalg.norm(cine.ijk_to_ras[:3, 2]))
    vol: dict[int, float] = {}
    for f in sorted(contours_dir.rglob("*icontour*.txt")):
        t = where[int(_NAME.search(f.name).group(1))]
        vol[t] = vol.get(t, 0.0) + _shoelace(read_contour(f)) * pixel_area * spacing / 1000.0
    ed, es = max(vol, key=vol.get), min(vol, key=vol.get)
    return (vol[ed] - vol[es]) / vol[ed] * 100.0


def _seed(cine, labels, endo, epi, folder: Path, name: str) -> tuple[str, int]:
    """The mid contoured slice at ED (the phase with the largest drawn cavity) as a one-phase seed."""
    drawn = epi & endo
    areas = [(labels[t] == 3).sum() if drawn[t].any() else -1 for t in range(cine.phases)]
    ed = int(np.argmax(areas))
    ks = np.where(drawn[ed])[0]
    k0 = int(ks[len(ks) // 2])
    seed = np.zeros((1,) + cine.array.shape[1:], np.uint8)
    seed[0, k0] = labels[ed, k0]
    path = folder / f"{name}.seed.nii.gz"
    write_image(cine.with_array(seed, frame_times_ms=cine.frame_times_ms[ed:ed + 1]), path)
    return str(path), ed


def write_shared_manifest(data: Path, folder: Path) -> Path:
    """Seeds and ``manifest.csv`` (id, path, seed, seed_phase, reference_ef) for the shared studies."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    sb = data / "sunnybrook"
    if sb.is_dir():
        for study, contours in sunnybrook_studies(sb):
            cine, labels, endo, epi = load_sunnybrook(study, contours)
            seed, ed = _seed(cine, labels, endo, epi, folder, study.name)
            rows.append({"id": study.name, "path": str(study), "seed": seed, "seed_phase": ed,
                         "reference_ef": round(expert_ef(cine, contours), 2)})
    pig = data / "ep-preclinical"
    if (pig / "E774S5-shortAxis").is_dir():
        cine, labels, endo, epi = load_porcine(pig)
        seed, ed = _seed(cine, labels, endo, epi, folder, "porcine")
        rows.append({"id": "porcine-E774S5", "path": str(pig / "E774S5-shortAxis"), "seed": seed,
                     "seed_phase": ed, "reference_ef": ""})
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "path", "seed", "seed_phase", "reference_ef"])
        writer.writeheader()
        writer.writerows(rows)
    return manifest
