"""Echo clips: the ED/ES-only switch (nothing else reaches a loss), CAMUS and EchoNet-Dynamic folder loaders."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from cardiacmotion.echo.clips import camus_clips, echonet_clips, hide_except_ed_es, phantom_clip
from cardiacmotion.echo.tan_data import TANTrainingSet


@pytest.fixture(scope="module")
def clips():
    return [phantom_clip(9010, "A4C", frames=10), phantom_clip(9010, "A2C", frames=10)]


def test_ed_es_switch_keeps_only_ed_and_es(clips):
    hidden = [hide_except_ed_es(c) for c in clips]
    for c, h in zip(clips, hidden):
        assert set(np.nonzero(h.labelled)[0]) == {c.ed, c.es}
        others = [t for t in range(c.length) if t not in (c.ed, c.es)]
        assert not h.labels[others].any() and np.isnan(h.landmarks[others]).all()
        assert np.array_equal(h.labels[c.ed], c.labels[c.ed])


def test_no_other_label_reaches_a_loss(clips):
    hidden = [hide_except_ed_es(c) for c in clips]
    data = TANTrainingSet(hidden, 64)
    rng = np.random.default_rng(1)
    allowed = {(i, c.ed) for i, c in enumerate(clips)} | {(i, c.es) for i, c in enumerate(clips)}
    seen = set()
    for _ in range(6):
        b = data.sample(16, rng)
        seen |= set(b.frames)
        assert set(b.frames) <= allowed
        assert np.isfinite(b.drifts.numpy()).all()
    assert len(seen) >= 3  # the sampler does draw from several labelled frames
    full = TANTrainingSet(clips, 64, template=data.template)
    assert len({f for _ in range(4) for f in full.sample(16, rng).frames} - allowed) > 0  # without the switch it would


def _write_nifti(path, array_xyt, zooms):
    import nibabel as nib

    img = nib.Nifti1Image(array_xyt, np.diag([zooms[0], zooms[1], 1.0, 1.0]))
    img.header.set_zooms(tuple(zooms) + (1.0,) * (array_xyt.ndim - 2))
    nib.save(img, str(path))


def test_camus_layout(tmp_path, clips):
    c = clips[0]
    p1 = tmp_path / "patient0001"
    p1.mkdir()
    _write_nifti(p1 / "patient0001_4CH_half_sequence.nii.gz", np.transpose(c.frames * 255, (2, 1, 0)).astype(np.float32), c.spacing)
    _write_nifti(p1 / "patient0001_4CH_half_sequence_gt.nii.gz", np.transpose(c.labels, (2, 1, 0)).astype(np.uint8), c.spacing)
    p2 = tmp_path / "patient0002"
    p2.mkdir()
    for name, t in (("ED", c.ed), ("ES", c.es)):
        _write_nifti(p2 / f"patient0002_2CH_{name}.nii.gz", (c.frames[t].T * 255)[..., None].astype(np.float32), c.spacing)
        _write_nifti(p2 / f"patient0002_2CH_{name}_gt.nii.gz", c.labels[t].T[..., None].astype(np.uint8), c.spacing)
    got = camus_clips(tmp_path)
    assert [g.name for g in got] == ["camus-patient0001-4CH", "camus-patient0002-2CH"]
    seq, pair = got
    assert seq.length == c.length and seq.labelled.all() and np.array_equal(seq.labels, c.labels)
    assert np.allclose(seq.spacing, c.spacing, atol=1e-5) and seq.view == "A4C" and pair.view == "A2C"
    # landmarks read off the labels lie near the phantom's exact ones (a few mm)
    err = np.linalg.norm((seq.landmarks - c.landmarks) * np.asarray(c.spacing), axis=2)
    assert np.nanmax(err) < 6.0, err.max()
    assert pair.length == 2 and {pair.ed, pair.es} == {0, 1}
    data = TANTrainingSet(got, 64)  # the same trainer takes them
    assert data.sample(4, np.random.default_rng(0)).images.shape == (4, 1, 64, 64)


def test_echonet_layout(tmp_path):
    cv2 = pytest.importorskip("cv2")
    (tmp_path / "Videos").mkdir()
    w = cv2.VideoWriter(str(tmp_path / "Videos" / "0X1A.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 30, (112, 112), isColor=False)
    for i in range(6):
        w.write(np.full((112, 112), 40 + 20 * i, np.uint8))
    w.release()
    rows = []
    for frame, half in ((1, 22.0), (4, 15.0)):
        rows.append(["0X1A.avi", 56, 20, 56, 90, frame])  # long axis, apex first
        for v in np.linspace(22, 90, 21):
            hw = half * np.sqrt(max(0.0, 1 - ((v - 90) / 70) ** 2))
            rows.append(["0X1A.avi", 56 - hw, v, 56 + hw, v, frame])
    with open(tmp_path / "VolumeTracings.csv", "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["FileName", "X1", "Y1", "X2", "Y2", "Frame"])
        wr.writerows(rows)
    (clip,) = echonet_clips(tmp_path)
    assert clip.length == 6 and list(np.nonzero(clip.labelled)[0]) == [1, 4]
    assert (clip.ed, clip.es) == (1, 4)
    assert clip.labels[1].sum() > clip.labels[4].sum() > 0
    assert np.allclose(clip.landmarks[1][0], [56, 20]) and np.allclose(clip.landmarks[1][1:, 1], 90)
    assert clip.landmarks[1][1, 0] < clip.landmarks[1][2, 0]  # septal on the screen left
