"""Cardiac Motion Scoring: AHA 16-segment regional wall-motion scores, motion score index and bullseye.
A thin widget over ``cardiacmotion.slicerbridge.modulelogic`` (the same functions pytest drives on slicer-core).
"""
import logging
import os
import sys
import tempfile
from typing import Annotated, Optional

import vtk

import slicer
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.ScriptedLoadableModule import *
from slicer.util import VTKObservationMixin
from slicer.parameterNodeWrapper import Choice, parameterNodeWrapper

from slicer import vtkMRMLMarkupsFiducialNode, vtkMRMLScalarVolumeNode, vtkMRMLSegmentationNode


def ensureEngineImportable() -> None:
    """Make ``import cardiacmotion`` work from the build tree, an install, or ``--additional-module-paths``."""
    try:
        import cardiacmotion  # noqa: F401
        return
    except ImportError:
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (here, os.path.dirname(here)):
        if os.path.isdir(os.path.join(candidate, "cardiacmotion")) and candidate not in sys.path:
            sys.path.insert(0, candidate)
            return


def ensureEngineDependencies() -> None:
    """Shared with the Segmentation module: torch via the PyTorch extension, the rest with a confirmed pip."""
    try:
        from CardiacMotionSegmentation import ensureEngineDependencies as ensure
    except ImportError as exc:
        raise RuntimeError(_("The Cardiac Motion Segmentation module is missing from this installation.")) from exc
    ensure()


#
# CardiacMotionScoring
#


class CardiacMotionScoring(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("Cardiac Motion Scoring")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Cardiac")]
        self.parent.dependencies = ["CardiacMotionSegmentation", "Sequences", "Segmentations", "Markups", "Tables"]
        self.parent.contributors = ["CardiacMotion contributors"]
        self.parent.helpText = _(
            "Scores the wall motion of the 16 AHA segments (normal, hypokinetic, akinetic, dyskinetic) from the cine, "
            "its 4D segmentation and the landmarks that orient the heart; shows the motion score index, a per-segment "
            "table (score, thickening, endocardial excursion) and the AHA bullseye in its own view."
        )
        self.parent.acknowledgementText = _("Developed by the CardiacMotion contributors.")


#
# CardiacMotionScoringParameterNode
#


@parameterNodeWrapper
class CardiacMotionScoringParameterNode:
    """inputVolume - the cine proxy; segmentation - the segmentation proxy of the 4D result;
    landmarks - the orientation landmarks; method - auto | learned | thickening; device - auto | cpu | cuda."""

    inputVolume: vtkMRMLScalarVolumeNode
    segmentation: vtkMRMLSegmentationNode
    landmarks: vtkMRMLMarkupsFiducialNode
    method: Annotated[str, Choice(["auto", "learned", "thickening"])] = "auto"
    device: Annotated[str, Choice(["auto", "cpu", "cuda"])] = "auto"


#
# CardiacMotionScoringWidget
#


class CardiacMotionScoringWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._job = None
        self._jobContext = None
        self._timer = None
        self._observedLandmarks = None
        self._hasResult = False

    def setup(self) -> None:
        import qt

        ScriptedLoadableModuleWidget.setup(self)
        ensureEngineImportable()
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/CardiacMotionScoring.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = CardiacMotionScoringLogic()

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.ui.applyButton.connect("clicked(bool)", self.onApplyButton)
        self.ui.showLayoutButton.connect("clicked(bool)", self.onShowLayout)
        self._timer = qt.QTimer()
        self._timer.setInterval(200)
        self._timer.connect("timeout()", self.onPollJob)
        self.ui.progressBar.setVisible(False)
        self.initializeParameterNode()

    def cleanup(self) -> None:
        if self._job is not None:
            self._job.cancel()
        self.removeObservers()

    def enter(self) -> None:
        self.initializeParameterNode()

    def exit(self) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanApply)

    def onSceneStartClose(self, caller, event) -> None:
        if self._job is not None:
            self._job.cancel()
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event) -> None:
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        self.setParameterNode(self.logic.getParameterNode())
        p = self._parameterNode
        if not p.inputVolume:
            p.inputVolume = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
        if not p.segmentation:
            p.segmentation = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLSegmentationNode")
        if not p.landmarks:
            p.landmarks = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLMarkupsFiducialNode")

    def setParameterNode(self, inputParameterNode: Optional[CardiacMotionScoringParameterNode]) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanApply)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanApply)
            self._checkCanApply()

    def _checkCanApply(self, caller=None, event=None) -> None:
        p = self._parameterNode
        running = self._job is not None
        ready = bool(p.inputVolume and p.segmentation and p.landmarks)
        self.ui.applyButton.enabled = running or ready
        self.ui.applyButton.text = _("Cancel") if running else _("Apply")
        self.observeLandmarks(p.landmarks)

    def observeLandmarks(self, node) -> None:
        """Moving a landmark re-orients the AHA segments: score again when the user lets go of a point."""
        if node is self._observedLandmarks:
            return
        if self._observedLandmarks is not None:
            self.removeObserver(self._observedLandmarks, slicer.vtkMRMLMarkupsNode.PointEndInteractionEvent,
                                self.onLandmarkMoved)
        self._observedLandmarks = node
        if node is not None:
            self.addObserver(node, slicer.vtkMRMLMarkupsNode.PointEndInteractionEvent, self.onLandmarkMoved)

    def onLandmarkMoved(self, caller=None, event=None) -> None:
        if self._hasResult and self._job is None:
            self.onApplyButton()

    def onShowLayout(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Failed to show the CardiacMotion layout."), waitCursor=False):
            from CardiacMotionSegmentation import registerCardiacMotionLayout
            from cardiacmotion.slicerbridge import layout

            registerCardiacMotionLayout()
            slicer.app.layoutManager().setLayout(layout.LAYOUT_ID)

    def onApplyButton(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self.ui.statusLabel.text = _("Cancelling...")
            return
        with slicer.util.tryWithErrorDisplay(_("Failed to start the scoring."), waitCursor=True):
            ensureEngineDependencies()
            self._job, self._jobContext = self.logic.startScoring(self._parameterNode)
            self.ui.progressBar.setValue(0)
            self.ui.progressBar.setVisible(True)
            self.ui.statusLabel.text = _("Starting the engine...")
            self._timer.start()
        self._checkCanApply()

    def onPollJob(self) -> None:
        if self._job is None:
            self._timer.stop()
            return
        for event in self._job.poll():
            self.ui.progressBar.setValue(int(round(event.fraction * 100)))
            if event.message:
                self.ui.statusLabel.text = event.message
        if self._job.device:
            self.ui.deviceLabel.text = _("Device: {device}").format(device=self._job.device)
        if self._job.running:
            return
        self._timer.stop()
        job, context = self._job, self._jobContext
        self._job, self._jobContext = None, None
        self.ui.progressBar.setVisible(False)
        with slicer.util.tryWithErrorDisplay(_("Scoring failed."), waitCursor=True):
            if job.cancelled:
                self.ui.statusLabel.text = _("Cancelled.")
            elif job.returncode != 0:
                self.ui.statusLabel.text = _("Failed.")
                raise RuntimeError(job.error_message())
            else:
                msi = self.logic.loadScores(context)
                self.ui.msiLabel.text = "-" if msi is None else f"{msi:.2f}"
                self._hasResult = True
                self.ui.statusLabel.text = _("Done.")
                self.onShowLayout()
        self._checkCanApply()


#
# CardiacMotionScoringLogic
#


class CardiacMotionScoringLogic(ScriptedLoadableModuleLogic):
    """Thin: each method is one call into ``cardiacmotion.slicerbridge.modulelogic``."""

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)
        ensureEngineImportable()

    def getParameterNode(self):
        return CardiacMotionScoringParameterNode(super().getParameterNode())

    def startScoring(self, parameterNode):
        """Write image, 4D labels and landmarks to Slicer's temp folder; start ``cardiacmotion score``."""
        from cardiacmotion.slicerbridge import modulelogic, runner

        browser = modulelogic.browser_of(parameterNode.segmentation)
        segSequence = browser.GetSequenceNode(parameterNode.segmentation) if browser else None
        workdir = tempfile.mkdtemp(prefix="CardiacMotion-", dir=slicer.app.temporaryPath)
        context = modulelogic.prepare_scoring(workdir, parameterNode.inputVolume, segSequence, parameterNode.landmarks,
                                              method=parameterNode.method, device=parameterNode.device)
        logging.info("CardiacMotion: " + " ".join(context["command"]))
        return runner.BackgroundJob(context["command"]).start(), context

    def loadScores(self, context) -> Optional[float]:
        from cardiacmotion.slicerbridge import modulelogic

        shown = modulelogic.load_scores_result(context["output"], scene=slicer.mrmlScene)
        return shown["msi"]


#
# CardiacMotionScoringTest
#


class CardiacMotionScoringTest(ScriptedLoadableModuleTest):
    """Runs the bridge's shared test bodies in Slicer's scene (the same bodies pytest runs on slicer-core)."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_ScoresIntoTableAndBullseye()
        self.setUp()
        self.test_ScoringInputs()
        self.setUp()
        self.test_SceneBundle()

    def test_ScoresIntoTableAndBullseye(self):
        ensureEngineImportable()
        import json

        from cardiacmotion.slicerbridge import bullseye, modulelogic, selftest

        self.delayDisplay(_("Phantom scores into the bullseye"))
        case = selftest.make_case()
        path = os.path.join(tempfile.mkdtemp(dir=slicer.app.temporaryPath), "scores.json")
        with open(path, "w") as f:
            json.dump(case.scores, f)
        shown = modulelogic.load_scores_result(path, scene=slicer.mrmlScene)
        expected = {int(s["id"]): int(s["score"]) for s in case.scores["segments"]}
        got = bullseye.scores_from_model(shown["model"])
        self.assertEqual({k: got[k] for k in expected}, expected)
        self.assertEqual(len(got), 17)
        self.delayDisplay(_("Test passed"))

    def test_SceneBundle(self):
        """The whole analysis saved as .mrb and reopened: browser, sequences, segments, landmarks, tables,
        chart and bullseye intact (the check pytest runs on slicer-core)."""
        ensureEngineImportable()
        from cardiacmotion.slicerbridge import selftest

        case = selftest.make_case()
        info = selftest.check_scene_bundle(case, tempfile.mkdtemp(dir=slicer.app.temporaryPath))
        self.assertGreater(info["bytes"], 0)
        self.delayDisplay(_("Test passed"))

    def test_ScoringInputs(self):
        ensureEngineImportable()
        from cardiacmotion.slicerbridge import landmarks, modulelogic, selftest, sequences

        case = selftest.make_case()
        browser, seq, proxy = sequences.volume_sequence_from_cine(case.image, scene=slicer.mrmlScene)
        segSeq, segProxy = sequences.segmentation_sequence_from_cine(case.labels, browser, scene=slicer.mrmlScene)
        points = landmarks.create_landmarks_node(case.image.modality, case.landmarks, scene=slicer.mrmlScene)
        workdir = tempfile.mkdtemp(dir=slicer.app.temporaryPath)
        context = modulelogic.prepare_scoring(workdir, proxy, segSeq, points)
        self.assertTrue(os.path.isfile(context["paths"]["seed"]))
        self.assertIn("score", context["command"])
        self.delayDisplay(_("Test passed"))
