"""Cardiac Motion Scoring: AHA 16-segment regional wall-motion scores, motion score index and bullseye.
A thin widget over ``cardiacmotion.slicerbridge.modulelogic`` (the same functions pytest drives on slicer-core).
"""
import logging
from typing import Annotated, Optional

import vtk

import slicer
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.ScriptedLoadableModule import *
from slicer.util import VTKObservationMixin
from slicer.parameterNodeWrapper import Choice, parameterNodeWrapper

from slicer import vtkMRMLMarkupsFiducialNode, vtkMRMLScalarVolumeNode, vtkMRMLSegmentationNode


def lib():
    """The shared ``CardiacMotionLib`` package (beside the Segmentation module), imported when first used:
    by then Slicer has put every module folder on the Python path, whichever module it loaded first."""
    import CardiacMotionLib

    return CardiacMotionLib


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
        self._jobs = None
        self._observedLandmarks = None
        self._hasResult = False

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)
        lib().ensureEngineImportable()

        uiWidget = slicer.util.loadUI(self.resourcePath("UI/CardiacMotionScoring.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = CardiacMotionScoringLogic()
        self._jobs = lib().JobPanel(self.ui, self._checkCanApply, self.onJobEnded)

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.ui.applyButton.connect("clicked(bool)", self.onApplyButton)
        self.ui.showLayoutButton.connect("clicked(bool)", self.onShowLayout)
        self.initializeParameterNode()

    def cleanup(self) -> None:
        if self._jobs is not None:
            self._jobs.cancel()
        self.removeObservers()

    def enter(self) -> None:
        self.initializeParameterNode()

    def exit(self) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanApply)

    def onSceneStartClose(self, caller, event) -> None:
        self._jobs.cancel()
        self._hasResult = False
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event) -> None:
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        self.setParameterNode(self.logic.getParameterNode())
        p = self._parameterNode
        defaults = self.logic.defaults()  # the Segmentation module's last result, its cine and landmarks
        for name in ("inputVolume", "segmentation", "landmarks"):
            if not getattr(p, name) and defaults.get(name) is not None:
                setattr(p, name, defaults[name])

    def setParameterNode(self, inputParameterNode: Optional["CardiacMotionScoringParameterNode"]) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanApply)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanApply)
        self._checkCanApply()

    def _checkCanApply(self, caller=None, event=None) -> None:
        from cardiacmotion.slicerbridge.jobs import button_state

        p = self._parameterNode
        running = self._jobs is not None and self._jobs.running
        ready = p is not None and bool(p.inputVolume and p.segmentation and p.landmarks)
        state = button_state(running, ready)
        self.ui.applyButton.enabled = state["enabled"]
        self.ui.applyButton.text = _("Cancel") if state["cancel"] else _("Apply")
        self.observeLandmarks(p.landmarks if p is not None else None)

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
        if self._hasResult and not self._jobs.running:
            self.onApplyButton()

    def onShowLayout(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Failed to show the CardiacMotion layout."), waitCursor=False):
            lib().showCardiacMotionLayout()

    def onApplyButton(self) -> None:
        if self._jobs.running:
            self._jobs.cancel()
            self.ui.statusLabel.text = _("Cancelling...")
            return
        with slicer.util.tryWithErrorDisplay(_("Failed to start the scoring."), waitCursor=True):
            lib().ensureEngineDependencies()
            job, context = self.logic.startScoring(self._parameterNode)
            self._jobs.start(job, context, _("Starting the engine..."), [" ".join(context["command"])])

    def onJobEnded(self, job, context) -> None:
        with slicer.util.tryWithErrorDisplay(_("Scoring failed."), waitCursor=True):
            if job.cancelled:
                self.ui.statusLabel.text = _("Cancelled.")
                return
            if job.returncode != 0:
                self.ui.statusLabel.text = _("Failed.")
                raise RuntimeError(job.error_message())
            if self._parameterNode is None:  # the scene was closed while the engine ran
                self.ui.statusLabel.text = _("The scene was closed: result discarded.")
                return
            msi = self.logic.loadScores(context)
            self.ui.msiLabel.text = "-" if msi is None else f"{msi:.2f}"
            self._hasResult = True
            self.ui.statusLabel.text = _("Done.")
            self.onShowLayout()


#
# CardiacMotionScoringLogic
#


class CardiacMotionScoringLogic(ScriptedLoadableModuleLogic):
    """Thin: each method is one call into ``cardiacmotion.slicerbridge.modulelogic``."""

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)
        lib().ensureEngineImportable()

    def getParameterNode(self):
        return CardiacMotionScoringParameterNode(super().getParameterNode())

    def defaults(self) -> dict:
        from cardiacmotion.slicerbridge import modulelogic

        return modulelogic.scoring_defaults(slicer.mrmlScene)

    def startScoring(self, parameterNode):
        """Write image, 4D labels and landmarks to Slicer's temp folder (storage nodes); start ``cardiacmotion score``."""
        from cardiacmotion.slicerbridge import modulelogic, runner
        from cardiacmotion.slicerbridge.jobs import remove_workdir

        browser = modulelogic.browser_of(parameterNode.segmentation)
        segSequence = browser.GetSequenceNode(parameterNode.segmentation) if browser else None
        workdir = lib().workDirectory()
        try:
            context = modulelogic.prepare_scoring(workdir, parameterNode.inputVolume, segSequence,
                                                  parameterNode.landmarks, method=parameterNode.method,
                                                  device=parameterNode.device)
        except Exception:
            remove_workdir(workdir)
            raise
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
    """Runs the bridge's shared test bodies in Slicer's scene (the same bodies pytest runs on slicer-core, there
    also with nibabel, pynrrd, OpenCV and torch made unimportable)."""

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
        lib().ensureEngineImportable()
        from cardiacmotion.slicerbridge import selftest

        self.delayDisplay(_("Toy scores into the bullseye, twice: nothing left over, camera face-on"))
        checked = selftest.check_scores_into_bullseye(lib().workDirectory())
        self.assertEqual(checked["nodes_first"], checked["nodes_again"])
        self.delayDisplay(_("Test passed"))

    def test_SceneBundle(self):
        """The whole analysis saved as .mrb and reopened: browser, sequences, segments, landmarks, tables,
        chart and bullseye intact (the check pytest runs on slicer-core)."""
        lib().ensureEngineImportable()
        from cardiacmotion.slicerbridge import selftest

        info = selftest.check_scene_bundle(selftest.toy_mr_case(), lib().workDirectory())
        self.assertGreater(info["bytes"], 0)
        self.delayDisplay(_("Test passed"))

    def test_ScoringInputs(self):
        lib().ensureEngineImportable()
        from cardiacmotion.slicerbridge import selftest

        context = selftest.check_scoring_inputs(lib().workDirectory())
        self.assertIn("score", context["command"])
        self.delayDisplay(_("Test passed"))
