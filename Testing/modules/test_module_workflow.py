"""The module workflow on slicer-core: Apply/Cancel state, landmarks and seeds, the View choice, loading a
cine on a stock Slicer, and the GUI side running with the engine's packages made unimportable.

One test per defect of issue 17 lives here or in Testing/slicerbridge/test_slicer_mechanisms.py.
"""
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from cardiacmotion.io import read_image, write_image
from cardiacmotion.slicerbridge import landmarks as lm, modulelogic, runner, selftest, sequences

ROOT = Path(__file__).resolve().parents[2]


def test_failed_run_turns_cancel_back_into_apply(tmp_path):
    """Defect 1: tryWithErrorDisplay re-raises, so the refresh after it never ran and the button kept saying
    Cancel. The slot frees itself and refreshes the state even when the result handler raises."""
    from cardiacmotion.slicerbridge import jobs

    states = []
    slot = jobs.JobSlot(on_state_changed=lambda: states.append(jobs.button_state(slot.running, ready=True)))
    work = tmp_path / "CardiacMotion-run"
    work.mkdir()
    script = "import sys; print('cardiacmotion: the seed is empty', file=sys.stderr); sys.exit(2)"
    slot.start(runner.BackgroundJob([sys.executable, "-c", script]).start(), {"workdir": str(work)})
    assert states[-1]["text"] == "Cancel"
    deadline = time.time() + 30
    while not slot.poll():
        assert time.time() < deadline
        time.sleep(0.05)

    def handler(job, context):  # what tryWithErrorDisplay does after showing the error
        raise RuntimeError(job.error_message())

    with pytest.raises(RuntimeError, match="seed is empty"):
        slot.finish(handler)
    assert not slot.running and states[-1] == {"text": "Apply", "enabled": True, "cancel": False}
    assert not work.exists(), "the run's temporary folder is removed"


@pytest.fixture
def echo_cine(scene):
    case = selftest.toy_echo_case(phases=5, size=32)
    browser, seq, proxy = sequences.volume_sequence_from_cine(case.image)
    return case, browser, seq, proxy


def test_create_landmarks_follow_the_detected_modality(echo_cine):
    """Defect 3: under Modality = auto an echo cine gets the echo landmark names, once per cine."""
    case, browser, seq, proxy = echo_cine
    node, created = modulelogic.landmarks_for_cine(proxy, "auto")
    labels = [node.GetNthControlPointLabel(n) for n in range(node.GetNumberOfControlPoints())]
    assert created and labels == list(lm.landmark_names("US"))
    again, created_again = modulelogic.landmarks_for_cine(proxy, "auto")
    assert again is node and not created_again


def test_landmark_seed_sends_the_frame_it_was_placed_on(tmp_path, scene):
    """Defect 4: landmarks placed on frame 3 seed frame 3 (--seed-phase), not frame 0."""
    case = selftest.toy_mr_case(phases=5, slices=2, size=24)
    browser, seq, proxy = sequences.volume_sequence_from_cine(case.image)
    sequences.select_phase(browser, 3)
    node = lm.create_landmarks_node("MR", case.landmarks)
    ctx = modulelogic.prepare_segmentation(tmp_path, proxy, "landmarks", landmarks_node=node)
    cmd = ctx["command"]
    assert cmd[cmd.index("--seed-phase") + 1] == "3"


def test_view_choice_reaches_the_engine(tmp_path, echo_cine):
    """Defect 5: the View combo box is read: an A2C choice is what the engine reads from the image file."""
    case, browser, seq, proxy = echo_cine
    node = lm.create_landmarks_node("US", case.landmarks)
    ctx = modulelogic.prepare_segmentation(tmp_path, proxy, "landmarks", landmarks_node=node, view="A2C")
    assert read_image(ctx["paths"]["image"]).view == "A2C"
    ctx = modulelogic.prepare_segmentation(tmp_path / "sax", proxy, "landmarks", landmarks_node=node, view="SAX")
    assert read_image(ctx["paths"]["image"]).view == "A4C", "a view that does not fit echo falls back"


_BLOCKER = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = {"nibabel", "nrrd", "cv2", "torch"}
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is not in a stock Slicer")
    sys.meta_path.insert(0, Block())
""")


def _run_blocked(body: str, tmp_path: Path) -> subprocess.CompletedProcess:
    code = _BLOCKER + textwrap.dedent(body) + textwrap.dedent("""
        leaked = sorted({"nibabel", "nrrd", "cv2", "torch"} & {m.split(".")[0] for m in sys.modules})
        assert not leaked, leaked
        print("OK")
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)


def test_load_cine_file_on_a_stock_slicer(tmp_path):
    """Defect 7: with nibabel, pynrrd, OpenCV and torch unimportable in the GUI process, .seq.nrrd and 4D NIfTI
    load through Slicer's storage node, and an AVI echo through the engine process (which has them)."""
    import cv2

    case = selftest.toy_mr_case(phases=4, slices=2, size=24)
    write_image(case.image, tmp_path / "cine.seq.nrrd")
    write_image(case.image, tmp_path / "patient7.nii.gz")
    video = cv2.VideoWriter(str(tmp_path / "echo.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (32, 24))
    for t in range(5):
        frame = np.full((24, 32, 3), 40 + 30 * t, np.uint8)
        video.write(frame)
    video.release()
    np.save(tmp_path / "voxels.npy", case.image.array)
    out = _run_blocked(f"""
        import numpy as np
        from cardiacmotion.slicerbridge import headless, modulelogic
        headless.get_scene(fresh=True)
        for name in ("cine.seq.nrrd", "patient7.nii.gz"):
            browser, seq, proxy = modulelogic.load_cine_file({str(tmp_path)!r} + "/" + name, "mr")
            image, _ = modulelogic.image_from_volume(proxy)
            assert seq.GetNumberOfDataNodes() == 4 and image.modality == "MR", name
            assert np.allclose(image.frame_times_ms, {case.image.frame_times_ms.tolist()!r}), image.frame_times_ms
            assert np.allclose(image.array, np.load({str(tmp_path / "voxels.npy")!r}), atol=1e-3), name
        assert proxy.GetName() == "patient7"
        browser, seq, proxy = modulelogic.load_cine_file({str(tmp_path / "echo.avi")!r}, "echo", spacing=0.3)
        image, _ = modulelogic.image_from_volume(proxy)
        assert image.modality == "US" and image.array.shape == (5, 1, 24, 32), image.array.shape
        assert np.allclose(image.frame_times_ms, [0, 40, 80, 120, 160]) and np.allclose(image.spacing[:2], 0.3)
    """, tmp_path)
    assert out.returncode == 0 and "OK" in out.stdout, out.stderr[-3000:]


def test_gui_side_and_self_tests_without_engine_packages(tmp_path):
    """Defect 8 and the GUI-side I/O: the self-test bodies and every step Apply takes (inputs written, the
    engine's result, curves and scores loaded) run with nibabel, pynrrd, OpenCV and torch unimportable."""
    case = selftest.toy_mr_case(phases=5, slices=3, size=32)
    write_image(case.labels, tmp_path / "engine_result.seq.nrrd")  # what the engine writes
    (tmp_path / "function.json").write_text(json.dumps(case.function))
    (tmp_path / "scores.json").write_text(json.dumps(case.scores))
    out = _run_blocked(f"""
        import numpy as np
        from pathlib import Path
        from cardiacmotion.slicerbridge import headless, modulelogic, selftest, sequences
        tmp = Path({str(tmp_path)!r})
        for check in (selftest.check_sequences, selftest.check_proxy_edit_saved):
            headless.get_scene(fresh=True)
            check(selftest.toy_mr_case())
        headless.get_scene(fresh=True)
        selftest.check_module_inputs(tmp / "inputs")
        headless.get_scene(fresh=True)
        selftest.check_frame_times_of_slicer_imports()
        headless.get_scene(fresh=True)
        (tmp / "scores").mkdir()
        selftest.check_scores_into_bullseye(tmp / "scores")
        headless.get_scene(fresh=True)
        selftest.check_scoring_inputs(tmp / "scoring")
        headless.get_scene(fresh=True)
        (tmp / "bundle").mkdir()
        selftest.check_scene_bundle(selftest.toy_mr_case(), tmp / "bundle")
        scene = headless.get_scene(fresh=True)
        case = selftest.toy_mr_case(phases=5, slices=3, size=32)
        browser, seq, proxy = sequences.volume_sequence_from_cine(case.image)
        grid = modulelogic.cine_input(proxy).grid
        seg_seq, seg_proxy = modulelogic.load_segmentation_result(tmp / "engine_result.seq.nrrd", grid, browser)
        assert np.array_equal(sequences.labels_from_segmentation_sequence(seg_seq, grid).array, case.labels.array)
        ctx = modulelogic.prepare_segmentation(tmp / "edits", proxy, "segmentation", seed_node=seg_proxy)
        modulelogic.load_function_result(tmp / "function.json")
        modulelogic.load_scores_result(tmp / "scores.json")
    """, tmp_path)
    assert out.returncode == 0 and "OK" in out.stdout, out.stderr[-3000:]


def test_corrections_are_found_and_shown_before_repropagating(tmp_path, scene):
    """Corrected phases are known before Re-propagate / Apply (to ask before overwriting them), by content:
    browsing is no edit, and the temporary result file is not needed (it is removed after the run)."""
    from cardiacmotion.slicerbridge import slicerio

    case = selftest.toy_mr_case(phases=4, slices=2, size=24)
    browser, seq, proxy = sequences.volume_sequence_from_cine(case.image)
    slicerio.write_label_sequence(case.labels.array, case.image.ijk_to_ras, tmp_path / "seg.seq.nrrd")
    grid = modulelogic.cine_input(proxy).grid
    seg_seq, seg_proxy = modulelogic.load_segmentation_result(tmp_path / "seg.seq.nrrd", grid, browser)
    (tmp_path / "seg.seq.nrrd").unlink()
    for t in range(4):
        sequences.select_phase(browser, t)
    assert modulelogic.corrected_phases_for(seg_proxy, proxy) == []
    sequences.select_phase(browser, 1)
    edited = case.labels.array[1].copy()
    edited[edited == 1] = 0
    sequences.set_segmentation_labels(seg_proxy, edited, case.image.ijk_to_ras, "MR")
    sequences.select_phase(browser, 2)
    assert modulelogic.corrected_phases_for(seg_proxy, proxy) == [1]
    # saved with the scene and found again after reopening it
    from cardiacmotion.slicerbridge import headless

    scene.SetRootDirectory(str(tmp_path))
    assert scene.WriteToMRB(str(tmp_path / "scene.mrb"))
    reopened = headless.get_scene(fresh=True)
    assert reopened.ReadFromMRB(str(tmp_path / "scene.mrb"))
    seg_proxy = reopened.GetFirstNodeByName("Segmentation")
    image_proxy = modulelogic.browser_of(seg_proxy).GetProxyNode(modulelogic.browser_of(seg_proxy).GetMasterSequenceNode())
    assert modulelogic.corrected_phases_for(seg_proxy, image_proxy) == [1]


def test_one_install_question_with_a_torch_version_check():
    """Everything the engine process lacks is listed in one question; an old torch is upgraded."""
    from cardiacmotion.slicerbridge import deps

    plan = deps.install_plan(find_spec=lambda name: None if name == "nibabel" else object(),
                             version_of=lambda name: "1.13.1")
    assert plan["torch"] == "upgrade" and plan["pip"] == ["nibabel"]
    assert "1.13.1" in plan["message"] and "nibabel" in plan["message"]
    ok = deps.install_plan(find_spec=lambda name: object(), version_of=lambda name: "2.13.0+cpu")
    assert ok["torch"] is None and ok["pip"] == [] and ok["message"] == ""
    assert deps.install_plan(version_of=lambda name: "", find_spec=lambda n: object())["torch"] == "install"


def test_apply_end_to_end_with_the_real_engine(tmp_path, scene):
    """Apply as the module runs it: inputs written by Slicer's storage nodes (seed as .seg.nrrd), the real
    engine CLI in a background process (registration, CPU), its .seq.nrrd read back by Slicer, then the
    volume curves; the run's folder is removed at the end."""
    from cardiacmotion.slicerbridge import jobs

    case = selftest.toy_mr_case(phases=5, slices=3, size=32)
    browser, seq, proxy = sequences.volume_sequence_from_cine(case.image)
    seed = case.labels.with_array(np.where(np.arange(5)[:, None, None, None] == 1, case.labels.array, 0).astype(np.uint8))
    _seed_seq, seed_proxy = sequences.segmentation_sequence_from_cine(seed, browser, name="Seed")
    sequences.select_phase(browser, 1)
    work = tmp_path / "CardiacMotion-run"
    ctx = modulelogic.prepare_segmentation(work, proxy, "segmentation", seed_node=seed_proxy, method="registration",
                                           device="cpu")
    env = {"OMP_NUM_THREADS": "1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    slot = jobs.JobSlot()
    loaded = {}

    def wait_and_finish(handler):
        deadline = time.time() + 240
        while not slot.poll():
            assert time.time() < deadline, "the engine did not finish"
            time.sleep(0.1)
        slot.finish(handler)

    def on_segmentation(job, context):
        assert job.returncode == 0, job.error_message()
        loaded["seg"] = modulelogic.load_segmentation_result(context["output"], context["image"], context["browser"],
                                                             input_volume=proxy)
        command, fn_context = modulelogic.function_command_for(context)
        slot.start(runner.BackgroundJob(command, env=env).start(), fn_context)

    def on_function(job, context):
        assert job.returncode == 0, job.error_message()
        loaded["function"] = modulelogic.load_function_result(context["output"])["function"]

    slot.start(runner.BackgroundJob(ctx["command"], env=env).start(), ctx)
    wait_and_finish(on_segmentation)
    assert work.exists(), "kept while the volume curves are computed"
    wait_and_finish(on_function)
    assert not work.exists(), "the run's folder is removed"
    seg_seq, _proxy = loaded["seg"]
    labels = sequences.labels_from_segmentation_sequence(seg_seq, ctx["image"]).array
    assert np.array_equal(labels[1], case.labels.array[1]), "the seeded phase is kept"
    lv, truth = labels == 3, case.labels.array == 3
    dice = 2 * (lv & truth).sum() / (lv.sum() + truth.sum())
    assert dice > 0.85, f"LV cavity Dice {dice:.3f} over all phases"
    assert np.allclose(loaded["function"]["frame_times_ms"], case.image.frame_times_ms)


def test_create_seed_segments_then_paint_and_apply(tmp_path, scene):
    """'Create seed segments': named segments with terminology, in painting order, on the cine's grid and
    beside it in the subject hierarchy; what is painted in them is the seed the engine gets."""
    import slicer

    from cardiacmotion.slicerbridge import seedsegments

    case = selftest.toy_mr_case(phases=4, slices=2, size=24)
    browser, seq, proxy = sequences.volume_sequence_from_cine(case.image)
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    study = sh.CreateFolderItem(sh.GetSceneItemID(), "study")
    sh.CreateItem(study, proxy)
    node = seedsegments.create_seed_segmentation(proxy, "MR")
    segmentation = node.GetSegmentation()
    names = [segmentation.GetNthSegment(n).GetName() for n in range(segmentation.GetNumberOfSegments())]
    assert names == ["LV cavity", "LV myocardium", "RV cavity"]
    assert "87878005" in segmentation.GetNthSegment(0).GetTerminology()
    assert sh.GetItemParent(sh.GetItemByDataNode(node)) == study
    sequences.select_phase(browser, 2)
    for n, label in enumerate((3, 2, 1)):  # the user paints each segment on frame 2
        mask = sequences._oriented_labelmap((case.labels.array[2] == label).astype(np.uint8), case.image.ijk_to_ras)
        slicer.vtkSlicerSegmentationsModuleLogic.SetBinaryLabelmapToSegment(
            mask, node, segmentation.GetNthSegmentID(n), slicer.vtkSlicerSegmentationsModuleLogic.MODE_REPLACE)
    ctx = modulelogic.prepare_segmentation(tmp_path, proxy, "segmentation", seed_node=node)
    assert np.array_equal(read_image(ctx["paths"]["seed"]).array[0], case.labels.array[2])
    assert ctx["command"][ctx["command"].index("--seed-phase") + 1] == "2"
