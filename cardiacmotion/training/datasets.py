"""Training data for memory propagation: studies and three-frame samples through time and stack.

A :class:`Study` is a cine ``[T, K, H, W]`` with labels (255 = unknown) and two masks: ``full``
(frames whose labels are complete: they can be the first, memory frame of a sample) and
``target`` (frames with labels to learn from). Sources:

- the synthetic phantoms (:mod:`cardiacmotion.phantom`, MR and echo, labels on every frame);
- the porcine study (automatic contours on every frame; LV cavity and myocardium only);
- the Sunnybrook studies (expert endocardium at ED and ES, epicardium at ED: ED frames are
  full, ES frames are targets with the myocardium unknown around the cavity);
- optional user data in the ACDC and CAMUS folder layouts (:mod:`cardiacmotion.training.layouts`).

A sample is three frames of one study, either through time at one slice (ED-ES-ED style: any
three phases) or through the stack at one phase (neighbouring slices in one direction); the
network predicts the second from the first and the third from the first two (CSTM 3.4).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch.utils.data as _tud

from cardiacmotion.training.augment import IGNORE, AugmentConfig, crop_frames, heart_box, intensity


@dataclass
class Study:
    """One cine with labels for training (see the module docstring)."""

    name: str
    image: np.ndarray  # float32 [T, K, H, W]
    labels: np.ndarray  # uint8 [T, K, H, W], 255 unknown
    full: np.ndarray  # bool [T, K]
    target: np.ndarray  # bool [T, K]
    through_stack: bool = True
    weight: float = 1.0
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.image.shape != self.labels.shape or self.full.shape != self.image.shape[:2]:
            raise ValueError(f"{self.name}: image {self.image.shape}, labels {self.labels.shape}, full {self.full.shape} disagree")
        self.target = self.target | self.full


def _crop_to_heart(image: np.ndarray, labels: np.ndarray, margin: float = 1.6) -> tuple[np.ndarray, np.ndarray]:
    """Keep the in-plane region around every label (x ``margin`` side) to save memory and warping time."""
    cy, cx, side = heart_box(labels)
    half = side * margin
    h, w = image.shape[-2:]
    y0, y1 = max(0, int(cy - half)), min(h, int(cy + half) + 1)
    x0, x1 = max(0, int(cx - half)), min(w, int(cx + half) + 1)
    return np.ascontiguousarray(image[..., y0:y1, x0:x1]), np.ascontiguousarray(labels[..., y0:y1, x0:x1])


def phantom_study(case, name: str, weight: float = 1.0) -> Study:
    """A :class:`cardiacmotion.phantom.PhantomCase` (labels on every frame) as a study."""
    image = np.asarray(case.image.array, dtype=np.float32)
    labels = np.asarray(case.labels.array, dtype=np.uint8)
    image, labels = _crop_to_heart(image, labels)
    full = np.ones(image.shape[:2], dtype=bool)
    echo = str(case.image.modality).upper() == "US"
    return Study(name, image, labels, full, full.copy(), through_stack=not echo, weight=weight, meta={"echo": echo})


def randomized_mr_case(seed: int, options: Optional[dict] = None):
    """The MR phantom of ``seed`` widened by domain randomisation (:mod:`cardiacmotion.phantom.randomize`):
    random pixel size, slice spacing, noise and breath-hold in the phantom, then image-level
    contrast, non-linearity, bias, resolution, slice blur, flow, trabeculation, fat and noise."""
    from cardiacmotion import phantom
    from cardiacmotion.phantom.randomize import phantom_options, randomize_case

    return randomize_case(phantom.make_mr_case(int(seed), **phantom_options(int(seed), options)), int(seed))


def _one_phantom(job: tuple) -> Study:
    from cardiacmotion import phantom

    kind, seed, options = job
    options = dict(options)
    randomized = float(options.pop("randomize", 0.0))
    if kind == "mr":
        # which seeds are randomised is itself fixed by the seed (a reproducible share)
        if randomized > 0 and np.random.default_rng([int(seed), 2021]).random() < randomized:
            return phantom_study(randomized_mr_case(int(seed), options), f"mr-phantom-{seed}-randomized")
        return phantom_study(phantom.make_mr_case(int(seed), **options), f"mr-phantom-{seed}")
    return phantom_study(phantom.make_echo_case(int(seed)), f"echo-phantom-{seed}")


def phantom_studies(mr_seeds: Sequence[int], echo_seeds: Sequence[int], workers: int = 0, **options) -> list[Study]:
    """Generate phantom cases (deterministic per seed) as studies; ``workers`` > 1: in parallel
    processes (same result, in seed order). ``randomize=p`` (an option): a share ``p`` of the MR
    seeds is rendered through :func:`randomized_mr_case`."""
    jobs = [("mr", s, options) for s in mr_seeds] + [("echo", s, {}) for s in echo_seeds]
    if workers > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=int(workers)) as pool:
            return list(pool.map(_one_phantom, jobs))
    return [_one_phantom(j) for j in jobs]


def save_studies(studies: Sequence[Study], path: Path) -> None:
    """Write studies to one compressed ``.npz`` (e.g. the real studies, to train where the DICOM
    files are not: a GPU machine). :func:`load_studies` gives them back (images through float16)."""
    import json as _json

    from cardiacmotion.io.atomic import atomic_output

    arrays = {}
    index = []
    for n, st in enumerate(studies):
        arrays[f"image{n}"] = st.image.astype(np.float16)  # half the size; 0.05 % relative error
        arrays[f"labels{n}"] = st.labels
        arrays[f"full{n}"] = st.full
        arrays[f"target{n}"] = st.target
        index.append({"name": st.name, "through_stack": st.through_stack, "weight": st.weight, "meta": st.meta})
    arrays["index"] = np.frombuffer(_json.dumps(index).encode(), dtype=np.uint8)
    with atomic_output(Path(path)) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def load_studies(path: Path) -> list[Study]:
    """Studies written by :func:`save_studies`."""
    import json as _json

    with np.load(Path(path)) as z:
        index = _json.loads(bytes(z["index"]).decode())
        return [Study(d["name"], z[f"image{n}"].astype(np.float32), z[f"labels{n}"], z[f"full{n}"], z[f"target{n}"],
                      through_stack=d["through_stack"], weight=d["weight"], meta=d["meta"]) for n, d in enumerate(index)]


def porcine_study(root: Path, weight: float = 1.0) -> Study:
    """The porcine study: contours on every frame where both endo- and epicardium were drawn."""
    from cardiacmotion.io.sunnybrook import load_porcine

    cine, labels, endo, epi = load_porcine(root)
    full = endo & epi
    image, labels = _crop_to_heart(np.asarray(cine.array, dtype=np.float32), labels)
    return Study("porcine", image, labels, full, full.copy(), through_stack=True, weight=weight)


def sunnybrook_study(study_dir: Path, contours_dir: Path, weight: float = 1.0) -> Study:
    """A Sunnybrook study: ED frames (endo + epi) full; ES frames (endo only) targets.

    On ES frames the cavity is known; outside it, within the ED epicardium of that slice grown by a
    few pixels, the myocardium is unknown (255); farther out is background.
    """
    import cv2

    from cardiacmotion.io.sunnybrook import load_sunnybrook

    cine, labels, endo, epi = load_sunnybrook(study_dir, contours_dir)
    labels = labels.copy()
    full = endo & epi
    target = full.copy()
    T, K = endo.shape
    kernel = np.ones((9, 9), np.uint8)
    for k in range(K):
        ed = [t for t in range(T) if full[t, k]]
        for t in range(T):
            if endo[t, k] and not epi[t, k] and ed:
                heart = (labels[ed[0], k] > 0).astype(np.uint8)
                grown = cv2.dilate(heart, kernel) > 0
                lab = labels[t, k]
                unknown = grown & (lab != 3)
                lab[unknown] = IGNORE
                target[t, k] = True
    image, labels = _crop_to_heart(np.asarray(cine.array, dtype=np.float32), labels)
    return Study(Path(study_dir).name, image, labels, full, target, through_stack=True, weight=weight)


def real_studies(data_root: Path, sunnybrook: Sequence[str] = ("SCD0000101", "SCD0000201")) -> list[Study]:
    """The porcine study and the named Sunnybrook studies under ``data_root`` (missing ones skipped)."""
    from cardiacmotion.io.sunnybrook import sunnybrook_studies

    out: list[Study] = []
    pig = data_root / "ep-preclinical"
    if (pig / "E774S5-shortAxis").is_dir():
        out.append(porcine_study(pig))
    sb = data_root / "sunnybrook"
    if sb.is_dir() and sunnybrook:
        for study_dir, contours_dir in sunnybrook_studies(sb):
            if study_dir.name in sunnybrook:
                out.append(sunnybrook_study(study_dir, contours_dir))
    return out


class ThreeFrameSampler:
    """Random three-frame samples from weighted studies.

    Args:
        studies: the training studies.
        size: output crop side (pixels).
        augment: augmentation ranges.
        p_stack: probability of a through-stack sample (when the study allows it).
        max_slice_step: largest slice distance between consecutive frames of a stack sample.
        p_drop_label: probability of removing one label from all three frames (seeds with fewer
            labels must propagate only those).
    """

    def __init__(
        self,
        studies: Sequence[Study],
        size: int = 128,
        augment: Optional[AugmentConfig] = None,
        p_stack: float = 0.5,
        max_slice_step: int = 2,
        p_drop_label: float = 0.2,
    ) -> None:
        if not studies:
            raise ValueError("no training studies")
        self.studies = list(studies)
        self.size = int(size)
        self.augment = augment or AugmentConfig()
        self.p_stack = p_stack
        self.max_slice_step = max_slice_step
        self.p_drop_label = p_drop_label
        w = np.array([s.weight for s in self.studies], dtype=np.float64)
        self.p = w / w.sum()

    def _indices(self, rng: np.random.Generator, st: Study) -> Optional[list[tuple[int, int]]]:
        T, K = st.full.shape
        stack = st.through_stack and K > 1 and rng.random() < self.p_stack
        if stack:
            t = int(rng.choice(np.flatnonzero(st.full.any(1))))
            ks = np.flatnonzero(st.full[t])
            k0 = int(rng.choice(ks))
            d = 1 if rng.random() < 0.5 else -1
            k1 = k0 + d * int(rng.integers(1, self.max_slice_step + 1))
            k2 = k1 + d * int(rng.integers(1, self.max_slice_step + 1))
            if not (0 <= k2 < K and 0 <= k1 < K) or not (st.target[t, k1] and st.target[t, k2]):
                return None
            return [(t, k0), (t, k1), (t, k2)]
        if T < 2:
            return None
        k = int(rng.choice(np.flatnonzero(st.full.any(0))))
        firsts = np.flatnonzero(st.full[:, k])
        targets = np.flatnonzero(st.target[:, k])
        t0 = int(rng.choice(firsts))
        others = targets[targets != t0] if len(targets) > 1 else targets
        t1, t2 = int(rng.choice(others)), int(rng.choice(targets))
        return [(t0, k), (t1, k), (t2, k)]

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One sample: ``images float32 [3, S, S]`` (about 0..1), ``labels uint8 [3, S, S]`` (255 unknown)."""
        for _ in range(50):
            st = self.studies[int(rng.choice(len(self.studies), p=self.p))]
            idx = self._indices(rng, st)
            if idx is not None:
                break
        else:  # pragma: no cover - a study set with no usable frame triple
            raise RuntimeError("could not draw a three-frame sample")
        imgs = [st.image[t, k] for t, k in idx]
        labs = [st.labels[t, k] for t, k in idx]
        box = heart_box(labs[0])
        x, y = crop_frames(rng, imgs, labs, self.size, box, self.augment)
        x = intensity(rng, x, self.augment)
        if rng.random() < self.p_drop_label:
            present = [v for v in (1, 2, 3) if (y[0] == v).any()]
            if len(present) > 1:
                v = int(rng.choice(present))
                y[y == v] = 0
        return x, y

    def batch(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``images [n, 3, S, S]``, ``labels [n, 3, S, S]``."""
        xs, ys = zip(*(self.sample(rng) for _ in range(n)))
        return np.stack(xs), np.stack(ys)

    def batches(self, seed: int, n: int, workers: int = 0):
        """An endless iterator of batches; ``workers`` > 0 draws them in that many processes, each
        with its own stream ``(seed, worker)`` (reproducible for a given seed and worker count)."""
        if workers <= 0:
            rng = np.random.default_rng(seed)
            while True:
                yield self.batch(rng, n)
        import torch

        loader = torch.utils.data.DataLoader(_BatchStream(self, seed, n), batch_size=None, num_workers=int(workers),
                                             prefetch_factor=4, persistent_workers=True)
        yield from loader


class _BatchStream(_tud.IterableDataset):
    """Endless batches of a sampler, one random stream per DataLoader worker."""

    def __init__(self, sampler: ThreeFrameSampler, seed: int, n: int) -> None:
        self.sampler, self.seed, self.n = sampler, int(seed), int(n)

    def __iter__(self):
        import cv2
        import torch

        info = _tud.get_worker_info()
        wid = info.id if info is not None else 0
        cv2.setNumThreads(1)
        torch.set_num_threads(1)
        rng = np.random.default_rng([self.seed, wid])
        while True:
            x, y = self.sampler.batch(rng, self.n)
            yield torch.from_numpy(x), torch.from_numpy(y)
