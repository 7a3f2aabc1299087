"""Readers for public data set folder layouts a user may train on (ACDC, M&Ms, CAMUS).

Nothing here is bundled or downloaded: the user points ``cardiacmotion train propagation`` at
their own copy (``--acdc``, ``--camus``). Labels are mapped to the project's conventions (MR:
ACDC; echo: CAMUS). Frames without ground truth are kept as images (``full``/``target`` false)
so through-time samples can only start and end on labelled frames.

- **ACDC** (``patientNNN/``): ``patientNNN_4d.nii.gz`` and ``patientNNN_frameFF_gt.nii.gz``
  (1-based frame index) for ED and ES; labels already ACDC.
- **M&Ms** (``<code>/``): ``<code>_sa.nii.gz`` and ``<code>_sa_gt.nii.gz`` (4D, labelled at ED
  and ES only; 1 LV, 2 myocardium, 3 RV, mapped to ACDC).
- **CAMUS** (``patientNNNN/``): ``patientNNNN_{2CH,4CH}_half_sequence.nii.gz`` with
  ``..._half_sequence_gt.nii.gz`` (every frame), else the ``_ED``/``_ES`` pairs.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from cardiacmotion.errors import InputError
from cardiacmotion.training.datasets import Study, _crop_to_heart


def _load(path: Path) -> np.ndarray:
    import nibabel as nib

    return np.asarray(nib.load(str(path)).dataobj)


def _study(name: str, image: np.ndarray, labels: np.ndarray, labelled: np.ndarray, stack: bool) -> Study:
    image, labels = _crop_to_heart(image.astype(np.float32), labels.astype(np.uint8))
    return Study(name, image, labels, labelled.copy(), labelled.copy(), through_stack=stack)


def acdc_studies(root: Path) -> list[Study]:
    """Every ``patientNNN`` folder under ``root`` (ACDC ``training/`` or ``testing/``)."""
    out = []
    for pdir in sorted(p for p in Path(root).glob("patient*") if p.is_dir()):
        four_d = pdir / f"{pdir.name}_4d.nii.gz"
        gts = sorted(pdir.glob(f"{pdir.name}_frame*_gt.nii.gz"))
        if not four_d.is_file() or not gts:
            continue
        vol = _load(four_d)  # x, y, z, t
        image = np.transpose(vol, (3, 2, 1, 0))
        labels = np.zeros(image.shape, np.uint8)
        labelled = np.zeros(image.shape[:2], bool)
        for gt in gts:
            t = int(re.search(r"frame(\d+)_gt", gt.name).group(1)) - 1
            labels[t] = np.transpose(_load(gt), (2, 1, 0))
            labelled[t] = True
        out.append(_study(f"acdc-{pdir.name}", image, labels, labelled, stack=True))
    if not out:
        raise InputError(f"{root}: no ACDC patient folders (patientNNN/patientNNN_4d.nii.gz + _frameFF_gt.nii.gz)")
    return out


def mnms_studies(root: Path) -> list[Study]:
    """Every ``<code>/<code>_sa.nii.gz`` + ``_sa_gt.nii.gz`` under ``root`` (labels remapped to ACDC)."""
    out = []
    remap = np.array([0, 3, 2, 1], np.uint8)  # M&Ms 1 LV, 3 RV -> ACDC 3 LV cavity, 1 RV
    for img_path in sorted(Path(root).rglob("*_sa.nii.gz")):
        gt_path = img_path.with_name(img_path.name.replace("_sa.nii.gz", "_sa_gt.nii.gz"))
        if not gt_path.is_file():
            continue
        image = np.transpose(_load(img_path), (3, 2, 1, 0))
        gt = np.transpose(_load(gt_path), (3, 2, 1, 0)).astype(np.uint8)
        labels = remap[np.clip(gt, 0, 3)]
        labelled = labels.reshape(labels.shape[0], labels.shape[1], -1).any(-1)
        labelled[:] = labelled.any(1, keepdims=True)  # a labelled phase covers every slice
        out.append(_study(f"mnms-{img_path.parent.name}", image, labels, labelled, stack=True))
    if not out:
        raise InputError(f"{root}: no M&Ms cases (<code>_sa.nii.gz + <code>_sa_gt.nii.gz)")
    return out


def camus_studies(root: Path) -> list[Study]:
    """Every view of every ``patientNNNN`` folder under ``root`` (echo: through time only)."""
    out = []
    for pdir in sorted(p for p in Path(root).glob("patient*") if p.is_dir()):
        for view in ("2CH", "4CH"):
            seq = pdir / f"{pdir.name}_{view}_half_sequence.nii.gz"
            seq_gt = pdir / f"{pdir.name}_{view}_half_sequence_gt.nii.gz"
            if seq.is_file() and seq_gt.is_file():
                image = np.transpose(_load(seq), (2, 1, 0))[:, None]  # x, y, t -> t, 1, y, x
                labels = np.transpose(_load(seq_gt), (2, 1, 0))[:, None]
                labelled = np.ones(image.shape[:2], bool)
            else:
                frames, gts = [], []
                for phase in ("ED", "ES"):
                    f = pdir / f"{pdir.name}_{view}_{phase}.nii.gz"
                    g = pdir / f"{pdir.name}_{view}_{phase}_gt.nii.gz"
                    if f.is_file() and g.is_file():
                        frames.append(np.squeeze(_load(f)).T)
                        gts.append(np.squeeze(_load(g)).T)
                if len(frames) < 2:
                    continue
                image, labels = np.stack(frames)[:, None], np.stack(gts)[:, None]
                labelled = np.ones(image.shape[:2], bool)
            out.append(_study(f"camus-{pdir.name}-{view}", image, labels, labelled, stack=False))
    if not out:
        raise InputError(f"{root}: no CAMUS patient folders (patientNNNN/patientNNNN_4CH_half_sequence[_gt].nii.gz or _ED/_ES)")
    return out
