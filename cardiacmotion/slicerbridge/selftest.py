"""Test bodies shared by the pytest suites (slicer-core) and the modules' self-tests (inside Slicer).

Each ``check_*`` function builds what it checks from a :class:`BridgeCase`, raises ``AssertionError`` with a
telling message on failure and returns what it measured. ``make_case`` uses the phantom of
``cardiacmotion.phantom`` when it is available and a small built-in two-ventricle cine otherwise.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.slicerbridge import headless


@dataclass
class BridgeCase:
    """What an analysis produces: image, labels, landmarks, FUNCTION and SCORES dicts."""

    image: Cine
    labels: Cine
    landmarks: dict
    function: dict
    scores: dict


def _function_from_labels(labels: Cine) -> dict:
    lv = (labels.array == 3).sum(axis=(1, 2, 3)) * labels.voxel_volume_ml
    rv = (labels.array == 1).sum(axis=(1, 2, 3)) * labels.voxel_volume_ml
    ed, es = int(np.argmax(lv)), int(np.argmin(lv))
    edv, esv = float(lv[ed]), float(lv[es])
    return {
        "ed_phase": ed, "es_phase": es, "frame_times_ms": labels.frame_times_ms.tolist(),
        "lv_volume_ml": lv.tolist(), "rv_volume_ml": rv.tolist(),
        "lv_edv_ml": edv, "lv_esv_ml": esv, "lv_sv_ml": edv - esv, "lv_ef_pct": 100 * (edv - esv) / edv,
        "rv_edv_ml": float(rv[ed]), "rv_esv_ml": float(rv[es]),
        "lv_mass_g": float((labels.array[ed] == 2).sum() * labels.voxel_volume_ml * 1.05),
        "method": "label count",
    }


def toy_mr_case(phases: int = 8, slices: int = 4, size: int = 64) -> BridgeCase:
    """A small contracting two-ventricle short-axis cine on an oblique grid (no phantom needed)."""
    jj, ii = np.mgrid[:size, :size].astype(np.float64)
    labels = np.zeros((phases, slices, size, size), np.uint8)
    c = size / 2.0
    for t in range(phases):
        squeeze = 0.5 * (1 - np.cos(2 * np.pi * t / phases))  # 0 at ED (t=0), 1 at ES (mid-cycle)
        r_cav = size * (0.17 - 0.06 * squeeze)
        r_epi = r_cav + size * (0.07 + 0.02 * squeeze)
        for k in range(slices):
            taper = 1.0 - 0.12 * k
            d_lv = np.hypot(jj - c, ii - c)
            d_rv = np.hypot((jj - c) / 1.3, ii - (c - r_epi * taper - size * 0.08))
            lab = labels[t, k]
            lab[(d_rv < size * (0.14 - 0.04 * squeeze) * taper) & (d_lv >= r_epi * taper)] = 1
            lab[d_lv < r_epi * taper] = 2
            lab[d_lv < r_cav * taper] = 3
    rng = np.random.default_rng(0)
    image = np.choose(labels, [40.0, 210.0, 90.0, 230.0]).astype(np.float32) + rng.normal(0, 4, labels.shape).astype(np.float32)
    theta = np.radians(20.0)
    rot = np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1.0]])
    tilt = np.array([[1, 0, 0], [0, np.cos(0.3), -np.sin(0.3)], [0, np.sin(0.3), np.cos(0.3)]])
    ijk_to_ras = np.eye(4)
    ijk_to_ras[:3, :3] = tilt @ rot @ np.diag([1.5, 1.5, 8.0])
    ijk_to_ras[:3, 3] = (-40.0, 25.0, 10.0)
    img = Cine(image, ijk_to_ras, np.arange(phases) * 45.0, modality="MR", view="SAX")
    lab = img.with_array(labels)
    centre_ijk = np.array([[c, c, slices // 2]])
    landmarks = {
        "LV center": img.ijk_to_ras_points(centre_ijk)[0],
        "RV anterior insertion": img.ijk_to_ras_points(centre_ijk + [-size * 0.2, -size * 0.18, 0])[0],
        "RV inferior insertion": img.ijk_to_ras_points(centre_ijk + [-size * 0.2, size * 0.18, 0])[0],
    }
    segments = [{"id": s, "name": f"segment {s}", "score": 1 + (s * 7 % 4) if s in (4, 5, 10, 11) else 1,
                 "thickening_pct": 40.0 - 5 * (s % 3), "endocardial_excursion_mm": 6.0 + 0.1 * s} for s in range(1, 17)]
    for seg in segments:
        seg["label"] = {1: "normal", 2: "hypokinetic", 3: "akinetic", 4: "dyskinetic"}[seg["score"]]
    scores = {"segments": segments, "motion_score_index": float(np.mean([s["score"] for s in segments])), "method": "toy"}
    return BridgeCase(img, lab, landmarks, _function_from_labels(lab), scores)


def toy_echo_case(phases: int = 6, size: int = 48) -> BridgeCase:
    """A small apical echo cine (one slice): LV cavity, myocardium and left atrium, with echo landmarks."""
    jj, ii = np.mgrid[:size, :size].astype(np.float64)
    labels = np.zeros((phases, 1, size, size), np.uint8)
    for t in range(phases):
        squeeze = 0.5 * (1 - np.cos(2 * np.pi * t / phases))
        a, b = size * (0.32 - 0.05 * squeeze), size * (0.16 - 0.04 * squeeze)
        d = ((jj - size * 0.42) / a) ** 2 + ((ii - size / 2) / b) ** 2
        lab = labels[t, 0]
        lab[((jj - size * 0.85) / (size * 0.1)) ** 2 + ((ii - size / 2) / (size * 0.14)) ** 2 < 1] = 3
        lab[d < 1.35] = 2
        lab[d < 1.0] = 1
    image = np.choose(labels, [20.0, 60.0, 180.0, 50.0]).astype(np.float32)
    ijk_to_ras = np.diag([0.4, 0.4, 1.0, 1.0])
    img = Cine(image, ijk_to_ras, np.arange(phases) * 33.0, modality="US", view="A4C")
    lab = img.with_array(labels)
    landmarks = {
        "Apex": img.ijk_to_ras_points([[size / 2, size * 0.08, 0]])[0],
        "Mitral annulus septal": img.ijk_to_ras_points([[size * 0.35, size * 0.75, 0]])[0],
        "Mitral annulus lateral": img.ijk_to_ras_points([[size * 0.65, size * 0.75, 0]])[0],
    }
    lv = (labels == 1).sum(axis=(1, 2, 3)) * img.voxel_volume_ml
    ed, es = int(np.argmax(lv)), int(np.argmin(lv))
    function = {"ed_phase": ed, "es_phase": es, "frame_times_ms": img.frame_times_ms.tolist(), "lv_volume_ml": lv.tolist(),
                "lv_edv_ml": float(lv[ed]), "lv_esv_ml": float(lv[es]), "lv_sv_ml": float(lv[ed] - lv[es]),
                "lv_ef_pct": float(100 * (lv[ed] - lv[es]) / lv[ed]), "method": "label count"}
    return BridgeCase(img, lab, landmarks, function, None)


def make_case(seed: int = 0, **options) -> BridgeCase:
    """The phantom MR case when ``cardiacmotion.phantom`` provides one, else :func:`toy_mr_case`.

    Args:
        seed: phantom seed.
        **options: phantom options (``phases``, ``slices``, ``grid``, ...) to keep a test small.
    """
    try:
        from cardiacmotion.phantom import make_mr_case  # lands with issue 3
    except ImportError:
        return toy_mr_case()
    case = make_mr_case(seed, **options)
    function = {k: v for k, v in case.truth.items() if k != "segments" and not isinstance(v, dict)}
    function.setdefault("frame_times_ms", case.image.frame_times_ms.tolist())
    function["method"] = "phantom truth"
    scores = {"segments": case.truth["segments"], "motion_score_index": case.truth.get("motion_score_index"), "method": "phantom truth"}
    return BridgeCase(case.image, case.labels, dict(case.landmarks), function, scores)


def check_sequences(case: BridgeCase) -> dict:
    """Image and labels go into one browser and come back unchanged, one item per phase."""
    from cardiacmotion.slicerbridge import sequences

    scene = headless.get_scene()
    browser, seq, proxy = sequences.volume_sequence_from_cine(case.image, scene=scene)
    seg_seq, seg_proxy = sequences.segmentation_sequence_from_cine(case.labels, browser, scene=scene)
    assert seq.GetNumberOfDataNodes() == case.image.phases, "one image item per phase"
    assert seg_seq.GetNumberOfDataNodes() == case.image.phases, "one segmentation item per phase"
    assert browser.IsSynchronizedSequenceNode(seg_seq.GetID()), "segmentation synchronised with the image"
    image_back = sequences.cine_from_volume_sequence(seq)
    assert np.allclose(image_back.ijk_to_ras, case.image.ijk_to_ras, atol=1e-6), "IJK->RAS kept"
    assert np.allclose(image_back.frame_times_ms, case.image.frame_times_ms), "frame times kept as index values"
    assert np.array_equal(image_back.array, case.image.array), "image voxels kept"
    labels_back = sequences.labels_from_segmentation_sequence(seg_seq, case.image)
    assert np.array_equal(labels_back.array, case.labels.array), "labels kept through segments"
    names = [seg_proxy.GetSegmentation().GetNthSegment(n).GetName() for n in range(seg_proxy.GetSegmentation().GetNumberOfSegments())]
    return {"browser": browser, "seg_sequence": seg_seq, "segment_names": names}


def check_proxy_edit_saved(case: BridgeCase, phase: Optional[int] = None) -> int:
    """An edit of the segmentation proxy at one phase is written back to that item only."""
    from cardiacmotion.slicerbridge import sequences

    built = check_sequences(case)
    browser, seg_seq = built["browser"], built["seg_sequence"]
    phase = case.image.phases // 2 if phase is None else phase
    sequences.select_phase(browser, phase)
    proxy = browser.GetProxyNode(seg_seq)
    edited = case.labels.array[phase].copy()
    edited[edited == 3] = 2  # the user paints the cavity over as myocardium
    sequences.set_segmentation_labels(proxy, edited, case.image.ijk_to_ras, case.image.modality)
    written = sequences.store_segmentation_proxy(browser, seg_seq)
    assert written == phase
    sequences.select_phase(browser, (phase + 1) % case.image.phases)
    back = sequences.labels_from_segmentation_sequence(seg_seq, case.image).array
    assert np.array_equal(back[phase], edited), "the edited phase was saved into the sequence"
    others = [t for t in range(case.image.phases) if t != phase]
    assert np.array_equal(back[others], case.labels.array[others]), "other phases untouched"
    return int((back[phase] != case.labels.array[phase]).sum())


def check_scene_bundle(case: BridgeCase, folder: str | os.PathLike) -> dict:
    """``scene.mrb`` written with every result loads back whole into a fresh scene."""
    from cardiacmotion.slicerbridge import bullseye, landmarks as lm, results, scene as sc, sequences

    path = Path(folder) / "scene.mrb"
    if headless.in_slicer_application():  # the real application: its own scene, saved and reopened
        import slicer

        slicer.mrmlScene.Clear()
        sc.build_analysis_scene(case.image, case.labels, case.landmarks, case.function, case.scores, scene=slicer.mrmlScene)
        assert slicer.mrmlScene.WriteToMRB(str(path)), "Slicer could not write the bundle"
        slicer.mrmlScene.Clear()
        slicer.util.loadScene(str(path))
        nodes = sc.find_analysis_nodes(slicer.mrmlScene)
    else:
        sc.write_analysis_scene(path, case.image, case.labels, case.landmarks, case.function, case.scores)
        nodes = sc.read_analysis_scene(path)
    for attr in ("browser", "image_sequence", "image", "seg_sequence", "segmentation", "landmarks",
                 "function_table", "curve_table", "chart", "scores_table", "bullseye"):
        assert getattr(nodes, attr) is not None, f"{attr} missing from the loaded scene"
    assert nodes.image_sequence.GetNumberOfDataNodes() == case.image.phases
    assert nodes.seg_sequence.GetNumberOfDataNodes() == case.image.phases
    assert nodes.browser.IsSynchronizedSequenceNode(nodes.seg_sequence.GetID())
    labels_back = sequences.labels_from_segmentation_sequence(nodes.seg_sequence, case.image)
    assert np.array_equal(labels_back.array, case.labels.array), "labels survive the bundle"
    segmentation = nodes.segmentation.GetSegmentation()
    names = {segmentation.GetNthSegment(n).GetName() for n in range(segmentation.GetNumberOfSegments())}
    assert {"LV cavity", "LV myocardium", "RV cavity"} <= names, f"segment names {names}"
    terms = {segmentation.GetNthSegment(n).GetName(): segmentation.GetNthSegment(n).GetTerminology()
             for n in range(segmentation.GetNumberOfSegments())}
    assert "87878005" in terms["LV cavity"] and "71616004" in terms["LV myocardium"] and "53085002" in terms["RV cavity"]
    points = lm.landmarks_from_node(nodes.landmarks)
    for name, ras in case.landmarks.items():
        assert np.allclose(points[name], ras, atol=1e-3), f"landmark {name} moved"
    fn_cols = results.table_columns(nodes.function_table)
    ef_row = fn_cols["Measurement"].index("LV ejection fraction")
    assert abs(fn_cols["Value"][ef_row] - case.function["lv_ef_pct"]) < 0.01
    curve = results.table_columns(nodes.curve_table)
    assert np.allclose(curve["LV volume (ml)"], case.function["lv_volume_ml"])
    assert nodes.chart.GetNumberOfPlotSeriesNodes() == (2 if case.function.get("rv_volume_ml") is not None else 1)
    score_cols = results.table_columns(nodes.scores_table)
    expected = {int(s["id"]): int(s["score"]) for s in case.scores["segments"]}
    assert dict(zip(score_cols["Segment"], score_cols["Score"])) == expected, "per-segment scores"
    model_scores = bullseye.scores_from_model(nodes.bullseye)
    assert len(model_scores) == 17 and all(model_scores[s] == v for s, v in expected.items()), "bullseye scalars"
    assert nodes.bullseye.GetDisplayNode().GetColorNode() is not None, "bullseye colour table"
    assert nodes.browser.GetSelectedItemNumber() == int(case.function["ed_phase"]), "opens at ED"
    return {"path": path, "bytes": path.stat().st_size, "segment_names": sorted(names)}


def render_case(case: BridgeCase, folder: str | os.PathLike, size: tuple = (256, 256)) -> dict:
    """Offscreen PNGs: mid slice with the segmentation at ED and ES, and the bullseye view."""
    from cardiacmotion.slicerbridge import render

    return render.render_analysis(folder, case.image, case.labels, case.landmarks, case.function, case.scores, size=size)


def _read_seed_segmentation(path, grid: Cine) -> np.ndarray:
    """A ``.seg.nrrd`` read back with Slicer's segmentation storage node, as labels on ``grid``."""
    import slicer

    from cardiacmotion.slicerbridge import sequences

    scene = headless.get_scene()
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "seed read back")
    storage = slicer.vtkMRMLSegmentationStorageNode()
    storage.SetFileName(str(path))
    try:
        assert storage.ReadData(node), f"Slicer could not read {path}"
        return sequences.labels_from_segmentation(node, grid)
    finally:
        scene.RemoveNode(node)


def check_module_inputs(workdir: str | os.PathLike) -> dict:
    """What Apply writes for the engine, read back with Slicer's own storage nodes (no engine package)."""
    from cardiacmotion.slicerbridge import landmarks as lm, modulelogic, sequences

    case = toy_mr_case(phases=5, slices=3, size=32)
    scene = headless.get_scene()
    browser, seq, proxy = sequences.volume_sequence_from_cine(case.image, scene=scene)
    _seg_seq, seg_proxy = sequences.segmentation_sequence_from_cine(case.labels, browser, scene=scene)
    sequences.select_phase(browser, 2)
    context = modulelogic.prepare_segmentation(Path(workdir) / "seg", proxy, "segmentation", seed_node=seg_proxy)
    command = context["command"]
    assert command[command.index("--seed-phase") + 1] == "2", "the seed is the frame shown"
    seed = _read_seed_segmentation(context["paths"]["seed"], case.image)
    assert np.array_equal(seed, case.labels.array[2]), "seed labels written through the segmentation storage node"
    _b, image_seq, _p = modulelogic.read_cine_sequence(context["paths"]["image"], "written", scene=scene)
    written = sequences.cine_from_volume_sequence(image_seq)
    assert np.allclose(written.array, case.image.array), "image voxels written through the sequence storage node"
    assert np.allclose(written.frame_times_ms, case.image.frame_times_ms), "frame times in ms"
    sequences.select_phase(browser, 3)
    points = lm.create_landmarks_node("MR", case.landmarks, scene=scene)
    context_lm = modulelogic.prepare_segmentation(Path(workdir) / "lm", proxy, "landmarks", landmarks_node=points)
    cmd = context_lm["command"]
    assert cmd[cmd.index("--seed-phase") + 1] == "3", "landmarks are placed on the frame shown"
    return {"command": command, "landmarks_command": cmd}


def check_frame_times_of_slicer_imports() -> dict:
    """Sequences shaped like Slicer's DICOM imports give frame times in ms (MR: frame numbers + trigger times;
    echo: seconds); frame numbers with nothing to time them by are refused until the user gives the timing."""
    import slicer

    from cardiacmotion.slicerbridge import cineinfo, sequences

    scene = headless.get_scene()
    case = toy_mr_case(phases=4, slices=2, size=16)

    def imported(values, name, unit, attributes=None):
        seq = scene.AddNewNodeByClass("vtkMRMLSequenceNode", name)
        seq.SetIndexName(name)
        seq.SetIndexUnit(unit)
        for t, value in enumerate(values):
            vol = slicer.vtkMRMLScalarVolumeNode()
            vol.SetIJKToRASMatrix(sequences._vtk_matrix(case.image.ijk_to_ras))
            vol.SetAndObserveImageData(sequences._image_data(case.image.array[t]))
            seq.SetDataNodeAtValue(vol, value)
        for key, value in (attributes or {}).items():
            seq.SetAttribute(key, value)
        return seq

    trigger = [0.0, 37.5, 75.0, 112.5]
    mr = imported(["0", "1", "2", "3"], "", "", {"MultiVolume.FrameLabels": ",".join(str(t) for t in trigger),
                                                "MultiVolume.FrameIdentifyingDICOMTagName": "TriggerTime",
                                                "MultiVolume.FrameIdentifyingDICOMTagUnits": "ms"})
    assert np.allclose(cineinfo.frame_times_ms(mr)[0], trigger), "DICOM MR: trigger times, not frame numbers"
    echo = imported(["0", "0.02", "0.04", "0.06"], "time", "s")
    assert np.allclose(cineinfo.frame_times_ms(echo)[0], [0, 20, 40, 60]), "DICOM echo: seconds to ms"
    bare = imported(["0", "1", "2", "3"], "", "")
    try:
        cineinfo.frame_times_ms(bare)
    except cineinfo.FrameTimesUnknown:
        pass
    else:
        raise AssertionError("frame numbers alone must not be taken as times")
    cineinfo.set_frame_interval(bare, cineinfo.parse_timing_answer("800", 4))
    assert np.allclose(cineinfo.frame_times_ms(bare)[0], [0, 200, 400, 600]), "RR interval over the frames"
    return {"mr": trigger}


def check_scores_into_bullseye(workdir: str | os.PathLike) -> dict:
    """Scores into the table and bullseye twice: same scores read back, no node left over, camera face-on."""
    import json

    from cardiacmotion.slicerbridge import bullseye, modulelogic

    case = toy_mr_case(phases=4, slices=2, size=16)
    scene = headless.get_scene()
    path = Path(workdir) / "scores.json"
    path.write_text(json.dumps(case.scores))
    shown = modulelogic.load_scores_result(path, scene=scene)
    nodes_first = scene.GetNumberOfNodes()
    again = modulelogic.load_scores_result(path, scene=scene)
    nodes_again = scene.GetNumberOfNodes()
    expected = {int(s["id"]): int(s["score"]) for s in case.scores["segments"]}
    got = bullseye.scores_from_model(again["model"])
    assert {k: got[k] for k in expected} == expected and len(got) == 17, "bullseye scalars"
    assert shown["model"].GetScene() is None, "the first run's model was replaced"
    assert nodes_first == nodes_again, f"a second scoring left {nodes_again - nodes_first} extra node(s)"
    assert camera_faces_bullseye(scene), "bullseye camera not face-on"
    return {"nodes_first": nodes_first, "nodes_again": nodes_again}


def camera_faces_bullseye(scene=None) -> bool:
    """True when every camera of the bullseye view looks straight down -z with +y up."""
    from cardiacmotion.slicerbridge.bullseye import VIEW_NAME

    scene = scene or headless.get_scene()
    cameras = [scene.GetNodesByClass("vtkMRMLCameraNode").GetItemAsObject(n)
               for n in range(scene.GetNodesByClass("vtkMRMLCameraNode").GetNumberOfItems())]
    cameras = [c for c in cameras if c.GetLayoutName() == VIEW_NAME]
    if not cameras:
        return False
    for camera in cameras:
        direction = np.subtract(camera.GetFocalPoint(), camera.GetPosition())
        direction /= np.linalg.norm(direction)
        if not (np.allclose(direction, [0, 0, -1], atol=1e-6) and np.allclose(camera.GetViewUp(), [0, 1, 0], atol=1e-6)):
            return False
    return True


def check_scoring_inputs(workdir: str | os.PathLike) -> dict:
    """What Scoring's Apply writes: image, 4D labels and landmarks through Slicer's storage nodes."""
    from cardiacmotion.slicerbridge import landmarks as lm, modulelogic, slicerio, sequences

    case = toy_mr_case(phases=4, slices=2, size=24)
    scene = headless.get_scene()
    browser, _seq, proxy = sequences.volume_sequence_from_cine(case.image, scene=scene)
    seg_seq, _seg_proxy = sequences.segmentation_sequence_from_cine(case.labels, browser, scene=scene)
    points = lm.create_landmarks_node(case.image.modality, case.landmarks, scene=scene)
    context = modulelogic.prepare_scoring(workdir, proxy, seg_seq, points)
    labels, _ijk = slicerio.read_label_sequence(context["paths"]["seed"])
    assert np.array_equal(labels, case.labels.array), "4D labels written through the sequence storage node"
    return context
