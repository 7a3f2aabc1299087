"""The functions the module widgets call, driven on slicer-core with a real engine subprocess where it exists."""
import json
import sys

import numpy as np
import pytest

from cardiacmotion.errors import InputError
from cardiacmotion.io import read_image, read_labels, write_image
from cardiacmotion.slicerbridge import landmarks as lm, modulelogic, runner, selftest, sequences


@pytest.fixture
def loaded(scene):
    case = selftest.toy_mr_case(phases=5, slices=3, size=40)
    browser, seq, proxy = sequences.volume_sequence_from_cine(case.image)
    return case, browser, proxy


def test_segmentation_inputs_from_current_frame(tmp_path, loaded):
    case, browser, proxy = loaded
    seg_seq, seg_proxy = sequences.segmentation_sequence_from_cine(case.labels, browser)
    sequences.select_phase(browser, 2)
    job = modulelogic.prepare_segmentation(tmp_path, proxy, "segmentation", seed_node=seg_proxy, method="registration",
                                           device="cpu", python="PY")
    assert job["command"][:4] == ["PY", "-m", "cardiacmotion", "segment"]
    assert "--seed-phase" in job["command"] and job["command"][job["command"].index("--seed-phase") + 1] == "2"
    seed = read_labels(job["paths"]["seed"])
    assert seed.array.shape == (1,) + case.image.array.shape[1:]
    assert np.array_equal(seed.array[0], case.labels.array[2])
    image = read_image(job["paths"]["image"])
    assert image.phases == 5 and np.allclose(image.ijk_to_ras, case.image.ijk_to_ras, atol=1e-4)


def test_landmark_seed_needs_all_three_points(tmp_path, loaded):
    case, browser, proxy = loaded
    node = lm.create_landmarks_node("MR", {"LV center": case.landmarks["LV center"]})
    with pytest.raises(InputError, match="RV anterior insertion"):
        modulelogic.prepare_segmentation(tmp_path, proxy, "landmarks", landmarks_node=node)
    full = lm.create_landmarks_node("MR", case.landmarks, name="all")
    job = modulelogic.prepare_segmentation(tmp_path, proxy, "landmarks", landmarks_node=full)
    assert "--landmarks" in job["command"] and "--seed" not in job["command"]


def test_repropagation_seed_holds_only_edited_phases(tmp_path, loaded):
    case, browser, proxy = loaded
    seg_seq, seg_proxy = sequences.segmentation_sequence_from_cine(case.labels, browser)
    modulelogic.mark_edited(seg_seq, 3)
    assert modulelogic.mark_edited(seg_seq, 1) == [1, 3]
    job = modulelogic.prepare_segmentation(tmp_path, proxy, "edits", seg_sequence=seg_seq)
    seed = read_labels(job["paths"]["seed"]).array
    assert np.array_equal(seed[[1, 3]], case.labels.array[[1, 3]]) and not seed[[0, 2, 4]].any()


def test_result_loads_into_the_image_browser_and_replaces_on_repropagation(tmp_path, loaded):
    case, browser, proxy = loaded
    write_image(case.labels, tmp_path / "seg.nii.gz")
    seg_seq, seg_proxy = modulelogic.load_segmentation_result(tmp_path / "seg.nii.gz", case.image, browser)
    assert browser.IsSynchronizedSequenceNode(seg_seq.GetID())
    assert np.array_equal(sequences.labels_from_segmentation_sequence(seg_seq, case.image).array, case.labels.array)
    modulelogic.mark_edited(seg_seq, 0)
    changed = case.labels.with_array(np.where(case.labels.array == 3, 2, case.labels.array).astype(np.uint8))
    write_image(changed, tmp_path / "seg2.nii.gz")
    same_seq, _ = modulelogic.load_segmentation_result(tmp_path / "seg2.nii.gz", case.image, browser, seg_seq)
    assert same_seq is seg_seq and modulelogic.edited_phases(seg_seq) == []
    assert np.array_equal(sequences.labels_from_segmentation_sequence(seg_seq, case.image).array, changed.array)


def test_function_and_scores_results_and_plot_click(tmp_path, loaded):
    case, browser, proxy = loaded
    (tmp_path / "function.json").write_text(json.dumps(case.function))
    (tmp_path / "scores.json").write_text(json.dumps(case.scores))
    fn = modulelogic.load_function_result(tmp_path / "function.json")
    assert fn["chart"].GetNumberOfPlotSeriesNodes() == 2
    sc = modulelogic.load_scores_result(tmp_path / "scores.json")
    assert sc["msi"] == pytest.approx(case.scores["motion_score_index"])
    again = modulelogic.load_scores_result(tmp_path / "scores.json")  # a second run replaces the first
    import slicer

    assert slicer.mrmlScene.GetNodesByClass("vtkMRMLModelNode").GetNumberOfItems() == 2  # bullseye + outline
    assert slicer.mrmlScene.GetNodeByID(sc["model"].GetID()) is None and again["model"].GetScene() is not None
    modulelogic.load_function_result(tmp_path / "function.json")
    assert slicer.mrmlScene.GetNodesByClass("vtkMRMLPlotSeriesNode").GetNumberOfItems() == 2
    assert modulelogic.phase_for_plot_point(browser, 4) == 4 and browser.GetSelectedItemNumber() == 4
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InputError):
        modulelogic.load_scores_result(tmp_path / "bad.json")


def test_engine_cli_runs_as_the_module_runs_it(tmp_path, loaded):
    """The background job runs the real engine CLI (``info`` stands in until ``segment`` is built)."""
    case, browser, proxy = loaded
    paths = runner.write_inputs(tmp_path, case.image)
    job = runner.BackgroundJob([sys.executable, "-m", "cardiacmotion", "info", paths["image"], "--json"],
                               env={"PATH": "/usr/bin:/bin"}).start()
    assert job.wait(60) == 0, job.stderr_lines


def test_load_cine_file_makes_a_sequence(tmp_path, scene):
    case = selftest.toy_mr_case(phases=4, slices=2, size=24)
    write_image(case.image, tmp_path / "patient7.nii.gz")
    browser, seq, proxy = modulelogic.load_cine_file(tmp_path / "patient7.nii.gz", "mr")
    assert proxy.GetName() == "patient7" and seq.GetNumberOfDataNodes() == 4
    image, found = modulelogic.image_from_volume(proxy)
    assert found is browser and np.allclose(image.array, case.image.array, atol=1e-3)
    with pytest.raises(InputError):
        modulelogic.load_cine_file(tmp_path / "missing.nii.gz")


def test_edits_found_by_content_not_by_browsing(tmp_path, loaded):
    case, browser, proxy = loaded
    write_image(case.labels, tmp_path / "seg.nii.gz")
    seg_seq, seg_proxy = modulelogic.load_segmentation_result(tmp_path / "seg.nii.gz", case.image, browser)
    for t in range(case.image.phases):  # the user browses every phase
        sequences.select_phase(browser, t)
    assert modulelogic.edited_phases(seg_seq, case.image) == []
    sequences.select_phase(browser, 2)
    edited = case.labels.array[2].copy()
    edited[edited == 1] = 0
    sequences.set_segmentation_labels(seg_proxy, edited, case.image.ijk_to_ras, "MR")
    sequences.select_phase(browser, 4)
    assert modulelogic.edited_phases(seg_seq, case.image) == [2]
    job = modulelogic.prepare_segmentation(tmp_path / "run", proxy, "edits", seg_sequence=seg_seq)
    seed = read_labels(job["paths"]["seed"]).array
    assert np.array_equal(seed[2], edited) and not np.delete(seed, 2, axis=0).any()
