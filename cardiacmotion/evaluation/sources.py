"""The evaluation data of ``cardiacmotion evaluate table``: three kinds of evidence as one case type.

1. held-out seeds of the training phantom (:mod:`cardiacmotion.phantom`, seeds below 100; training
   uses 1000+ for CSTM and 0-299 / 5000+ for MMSA, so the evaluation seeds start at 9100);
2. the independent test generator (:mod:`cardiacmotion.independent`), never used for training;
3. the real studies of ``../shared/data``: Sunnybrook SCD0000101 (held out of all training),
   SCD0000201 and the porcine study (both trained on, reported as such).

Every case is seeded the way a user seeds a study: one mid slice at ED (the phantoms' own seed;
on the real studies the mid contoured ED slice, LV cavity and myocardium).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.propagation.order import SeedSet

#: real studies and whether any training used them
REAL_STUDIES = {"SCD0000101": True, "SCD0000201": False, "porcine": False}
PHANTOM_FIRST_SEED = 9100  # MMSA trains on 0-299 and validates on 5000+, CSTM on 1000+ / 2000+
INDEPENDENT_FIRST_SEED = 0


@dataclass
class EvalCase:
    """One study with what is known about it.

    ``truth`` holds labels (255 where unknown); ``known`` says per frame ``[T, K]`` which labels are
    known there (a set of label values). ``scores``: 16 AHA truth scores when known. ``ef_truth``:
    the LV EF the truth gives (phantoms: their analytic volumes; real: disc summation of the
    expert contours on the contoured slices).
    """

    source: str
    name: str
    held_out: bool
    image: Cine
    truth: np.ndarray
    seeds: SeedSet
    landmarks: Optional[dict] = None
    scores: Optional[list] = None
    ef_truth: Optional[float] = None
    labels: tuple = (1, 2, 3)
    frames: dict = field(default_factory=dict)  #: label name -> bool [T, K] frames where its Dice is taken


def _truth_scores(truth: dict) -> Optional[list]:
    segs = truth.get("segments") if isinstance(truth, dict) else None
    if not segs:
        for key in ("wall_motion", "aha_scores", "scores", "wall_motion_scores"):
            v = truth.get(key) if isinstance(truth, dict) else None
            if isinstance(v, dict):  # {"1": score, ..., "16": score}
                return [int(v[k]) for k in sorted(v, key=int)][:16]
            if v is not None:
                return [int(x) for x in list(v)[:16]]
        return None
    return [int(s["score"]) for s in sorted(segs, key=lambda s: s["id"])[:16]]


def _truth_ef(truth: dict) -> Optional[float]:
    for key in ("lv_ef_pct", "ef_pct", "lv_ef", "ef"):
        if isinstance(truth, dict) and truth.get(key) is not None:
            return float(truth[key])
    return None


def synthetic_case(source: str, name: str, pc) -> EvalCase:
    """A phantom-like case (``image``, ``labels``, ``seed``, ``landmarks``, ``truth``, optional ``seed_phase``)."""
    image = pc.image
    labels = np.asarray(pc.labels.array if hasattr(pc.labels, "array") else pc.labels, np.uint8)
    seed_arr = np.asarray(pc.seed.array if hasattr(pc.seed, "array") else pc.seed, np.uint8)
    phase = int(getattr(pc, "seed_phase", 0) or 0)
    seed_labels = np.zeros(labels.shape, np.uint8)
    if seed_arr.shape == labels.shape:
        seed_labels[:] = seed_arr
    else:
        seed_labels[phase] = seed_arr.reshape(labels.shape[1:]) if seed_arr.ndim == 3 else seed_arr[0]
    seeded = seed_labels.reshape(labels.shape[0], labels.shape[1], -1).any(axis=2)
    all_frames = np.ones(labels.shape[:2], bool)
    truth = getattr(pc, "truth", {}) or {}
    return EvalCase(source, name, True, image, labels, SeedSet(labels=seed_labels, seeded=seeded),
                    landmarks=getattr(pc, "landmarks", None), scores=_truth_scores(truth), ef_truth=_truth_ef(truth),
                    frames={"LV": all_frames, "Myo": all_frames, "RV": all_frames})


def phantom_cases(n: int, first: int = PHANTOM_FIRST_SEED, options: Optional[dict] = None) -> Iterator[tuple]:
    """Jobs for held-out training-phantom MR cases (seeds ``first..``; balanced wall motion on even seeds)."""
    for seed in range(first, first + n):
        yield ("phantom", seed, dict(options or {}))


def independent_cases(n: int, first: int = INDEPENDENT_FIRST_SEED, options: Optional[dict] = None) -> Iterator[tuple]:
    """Jobs for independently generated MR hearts."""
    for seed in range(first, first + n):
        yield ("independent", seed, dict(options or {}))


def build(job: tuple) -> EvalCase:
    """The case of one job (in a worker process)."""
    kind, key, options = job
    if kind == "phantom":
        from cardiacmotion.phantom import make_mr_case
        from cardiacmotion.training.scoring_data import case_options

        opts = {**case_options(int(key)), **options}
        return synthetic_case("training phantom (held-out seeds)", f"phantom-{key}", make_mr_case(int(key), **opts))
    if kind == "independent":
        from cardiacmotion import independent

        pc = independent.generate_mr(int(key), **options) if options else independent.generate_mr(int(key))
        return synthetic_case("independent generator", f"independent-{key}", pc)
    if kind == "real":
        return real_case(str(key), Path(options["path"]))
    raise ValueError(f"unknown evaluation source {kind!r}")


# ---- real studies ----------------------------------------------------------------------------


def real_jobs(data_root: Optional[Path], cache: Optional[Path], names: list[str]) -> list[tuple]:
    """Jobs for the named real studies, read from ``cache`` (an npz from :func:`save_real_cache`) when
    it exists, else from ``data_root``; missing studies are left out."""
    jobs = []
    for name in names:
        if cache is not None and (Path(cache) / f"{name}.npz").is_file():
            jobs.append(("real", name, {"path": str(Path(cache) / f"{name}.npz")}))
        elif data_root is not None:
            path = _study_path(Path(data_root), name)
            if path is not None:
                jobs.append(("real", name, {"path": str(path)}))
    return jobs


def _study_path(root: Path, name: str) -> Optional[Path]:
    if name == "porcine":
        pig = root / "ep-preclinical"
        return pig if (pig / "E774S5-shortAxis").is_dir() else None
    d = root / "sunnybrook" / name
    return d if d.is_dir() else None


def _load_real(name: str, path: Path) -> tuple[Cine, np.ndarray, np.ndarray, np.ndarray]:
    if path.suffix == ".npz":
        with np.load(path) as z:
            cine = Cine(z["image"].astype(np.float32), z["ijk_to_ras"], frame_times_ms=z["frame_times_ms"], modality="MR")
            return cine, z["labels"], z["endo"], z["epi"]
    from cardiacmotion.io.sunnybrook import load_porcine, load_sunnybrook, sunnybrook_studies

    if name == "porcine":
        return load_porcine(path)
    for study_dir, contours_dir in sunnybrook_studies(path.parent):
        if study_dir.name == name:
            return load_sunnybrook(study_dir, contours_dir)
    raise FileNotFoundError(f"{name}: no contours in {path.parent}")


def save_real_cache(data_root: Path, out_dir: Path, names: list[str], margin: int = 40) -> list[Path]:
    """Write each real study as a compact npz (uint16 image cropped to the contours plus ``margin``
    pixels, geometry kept), so the evaluation can run where the DICOM files are not (a GPU machine)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        path = _study_path(Path(data_root), name)
        if path is None:
            continue
        cine, labels, endo, epi = _load_real(name, path)
        fg = (labels > 0).any(axis=(0, 1))
        ys, xs = np.nonzero(fg)
        h, w = fg.shape
        y0, y1 = max(0, ys.min() - margin), min(h, ys.max() + margin + 1)
        x0, x1 = max(0, xs.min() - margin), min(w, xs.max() + margin + 1)
        shift = np.eye(4)
        shift[:3, 3] = [x0, y0, 0]  # (i, j, k): i columns, j rows
        arr = np.asarray(cine.array)[..., y0:y1, x0:x1]
        target = out_dir / f"{name}.npz"
        np.savez_compressed(target, image=np.clip(np.rint(arr), 0, 65535).astype(np.uint16),
                            ijk_to_ras=cine.ijk_to_ras @ shift, frame_times_ms=np.asarray(cine.frame_times_ms),
                            labels=np.asarray(labels)[..., y0:y1, x0:x1], endo=endo, epi=epi)
        written.append(target)
    return written


def real_case(name: str, path: Path) -> EvalCase:
    """A real study seeded on its mid contoured ED slice (LV cavity + myocardium).

    Dice frames: Sunnybrook LV at ES, myocardium at ED (the expert contours; the seed slice left
    out), as the issue reports them; porcine LV and myocardium on every frame with both contours.
    """
    cine, truth, endo, epi = _load_real(name, path)
    truth = np.asarray(truth, np.uint8).copy()
    full = endo & epi
    from cardiacmotion.propagation.evaluate import expert_mid_seed

    ed, k0, seeds = expert_mid_seed(truth, epi)
    lv_frames = endo.copy()
    myo_frames = full.copy()
    if name != "porcine":
        es_candidates = [t for t in np.where(endo.any(axis=1))[0] if t != ed]
        es = int(es_candidates[0])
        lv_frames = np.zeros_like(endo)
        lv_frames[es] = endo[es]
        myo_frames = np.zeros_like(epi)
        myo_frames[ed] = epi[ed]
    lv_frames[ed, k0] = myo_frames[ed, k0] = False
    # unknown pixels: no contour drawn on that frame
    unknown = ~endo
    truth[unknown] = 255
    cont = np.where(endo[ed])[0] if name == "porcine" else np.where(endo.any(axis=0))[0]
    ef_truth = _contour_ef(truth, endo, cont)
    return EvalCase(f"real: {name}", name, REAL_STUDIES.get(name, False), cine, truth,
                    seeds, ef_truth=ef_truth, labels=(2, 3),
                    frames={"LV": lv_frames, "Myo": myo_frames})


def _contour_ef(truth: np.ndarray, endo: np.ndarray, slices: np.ndarray) -> Optional[float]:
    """EF from the expert cavity by disc summation over ``slices`` at the phases where every one is contoured."""
    phases = [t for t in range(truth.shape[0]) if endo[t, slices].all()]
    if len(phases) < 2:
        return None
    vols = [float((truth[t][slices] == 3).sum()) for t in phases]
    edv, esv = max(vols), min(vols)
    return 100.0 * (edv - esv) / max(edv, 1.0)
