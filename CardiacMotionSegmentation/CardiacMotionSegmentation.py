"""Cardiac Motion Segmentation: memory-propagated 4D segmentation of cine MR / echo, with correction and
re-propagation, volume curves and function. A thin widget over ``cardiacmotion.slicerbridge``: every step
it takes is a function of ``cardiacmotion.slicerbridge.modulelogic``, run in pytest on slicer-core too.
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
    """Make ``import cardiacmotion`` work from the build tree, an install, or ``--additional-module-paths``.

    Built and installed, the engine sits beside this file (qt-scripted-modules/cardiacmotion); run from a
    source checkout, it is in the repository root, the parent of this module's folder.
    """
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


#: Python packages the engine needs besides torch (installed at first Apply, after the user confirms).
ENGINE_REQUIREMENTS = {"nibabel": "nibabel", "nrrd": "pynrrd", "pydicom": "pydicom", "cv2": "opencv-python-headless",
                       "scipy": "scipy", "matplotlib": "matplotlib"}


def ensureEngineDependencies() -> None:
    """Install what the engine needs at first use: torch through the PyTorch extension, the rest with pip."""
    import importlib.util

    try:
        import torch  # noqa: F401
    except ImportError:
        try:
            import PyTorchUtils
        except ModuleNotFoundError as exc:
            raise RuntimeError(_("This module needs the PyTorch extension: install it from the Extensions Manager "
                                 "and restart Slicer.")) from exc
        torchLogic = PyTorchUtils.PyTorchUtilsLogic()
        if not torchLogic.torchInstalled():
            if torchLogic.installTorch(askConfirmation=True) is None:
                raise RuntimeError(_("PyTorch is required. Install it from the PyTorch module and try again."))
    missing = [pkg for module, pkg in ENGINE_REQUIREMENTS.items() if importlib.util.find_spec(module) is None]
    if missing:
        if not slicer.util.confirmOkCancelDisplay(
            _("Cardiac Motion needs these Python packages: {packages}. Install them now?").format(packages=", ".join(missing))
        ):
            raise RuntimeError(_("Required Python packages are missing: {packages}").format(packages=", ".join(missing)))
        with slicer.util.WaitCursor():
            slicer.util.pip_install(" ".join(missing))


def registerCardiacMotionLayout() -> None:
    """Add the CardiacMotion layout (slice + volume chart + table + bullseye) so saved scenes reopen in it."""
    ensureEngineImportable()
    from cardiacmotion.slicerbridge import layout

    layoutManager = slicer.app.layoutManager()
    if layoutManager is None:
        return
    layoutNode = layoutManager.layoutLogic().GetLayoutNode()
    if not layoutNode.IsLayoutDescription(layout.LAYOUT_ID):
        layoutNode.AddLayoutDescription(layout.LAYOUT_ID, layout.LAYOUT_XML)


#
# CardiacMotionSegmentation
#


class CardiacMotionSegmentation(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("Cardiac Motion Segmentation")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Cardiac")]
        self.parent.dependencies = ["Sequences", "Segmentations", "Markups", "Plots", "Tables"]
        self.parent.contributors = ["CardiacMotion contributors"]
        self.parent.helpText = _(
            "Segments the left and right ventricles (cine MR short axis) or the left ventricle and atrium "
            "(echocardiography) in every phase, from one seeded frame or three landmarks, then shows the volume "
            "curves, EDV, ESV, SV, EF and LV mass. Correct any frame and press Re-propagate: corrected frames "
            "become permanent memory. See <a href=\"https://github.com/cardiacmotion/SlicerCardiacMotion\">the project page</a>."
        )
        self.parent.acknowledgementText = _("Developed by the CardiacMotion contributors.")
        slicer.app.connect("startupCompleted()", registerCardiacMotionLayout)


#
# CardiacMotionSegmentationParameterNode
#


@parameterNodeWrapper
class CardiacMotionSegmentationParameterNode:
    """The module's state, saved with the scene.

    inputVolume - the cine (proxy volume of its sequence) or one volume.
    modality, view - auto | mr | echo; SAX | A4C | A2C.
    seedSource - segmentation (current frame of seedSegmentation) or landmarks.
    seedSegmentation, landmarks - the seed inputs.
    method - auto | memory | registration | fusion; device - auto | cpu | cuda.
    resultSegmentation - the segmentation proxy of the result sequence (set after a run).
    """

    inputVolume: vtkMRMLScalarVolumeNode
    modality: Annotated[str, Choice(["auto", "mr", "echo"])] = "auto"
    view: Annotated[str, Choice(["SAX", "A4C", "A2C"])] = "SAX"
    seedSource: Annotated[str, Choice(["segmentation", "landmarks"])] = "segmentation"
    seedSegmentation: vtkMRMLSegmentationNode
    landmarks: vtkMRMLMarkupsFiducialNode
    method: Annotated[str, Choice(["auto", "memory", "registration", "fusion"])] = "auto"
    device: Annotated[str, Choice(["auto", "cpu", "cuda"])] = "auto"
    resultSegmentation: vtkMRMLSegmentationNode


#
# CardiacMotionSegmentationWidget
#


class CardiacMotionSegmentationWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._job = None
        self._jobContext = None
        self._timer = None
        self._connectedPlotViews = []

    def setup(self) -> None:
        import qt

        ScriptedLoadableModuleWidget.setup(self)
        ensureEngineImportable()
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/CardiacMotionSegmentation.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = CardiacMotionSegmentationLogic()

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)

        self.ui.applyButton.connect("clicked(bool)", self.onApplyButton)
        self.ui.repropagateButton.connect("clicked(bool)", self.onRepropagateButton)
        self.ui.createLandmarksButton.connect("clicked(bool)", self.onCreateLandmarks)
        self.ui.loadCineButton.connect("clicked(bool)", self.onLoadCine)
        self._timer = qt.QTimer()
        self._timer.setInterval(200)
        self._timer.connect("timeout()", self.onPollJob)
        self.ui.progressBar.setVisible(False)
        self.initializeParameterNode()

    def cleanup(self) -> None:
        self.cancelJob()
        self.removeObservers()

    def enter(self) -> None:
        self.initializeParameterNode()
        self.connectPlotClicks()

    def exit(self) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanApply)

    def onSceneStartClose(self, caller, event) -> None:
        self.cancelJob()
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event) -> None:
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        self.setParameterNode(self.logic.getParameterNode())
        if not self._parameterNode.inputVolume:
            first = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
            if first:
                self._parameterNode.inputVolume = first

    def setParameterNode(self, inputParameterNode: Optional[CardiacMotionSegmentationParameterNode]) -> None:
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
        fromSeg = p.seedSource == "segmentation"
        ready = bool(p.inputVolume) and (bool(p.seedSegmentation) if fromSeg else bool(p.landmarks))
        self.ui.seedSegmentationSelector.setEnabled(fromSeg)
        self.ui.landmarksSelector.setEnabled(not fromSeg)
        self.ui.applyButton.enabled = running or ready
        self.ui.applyButton.text = _("Cancel") if running else _("Apply")
        self.ui.applyButton.toolTip = _("Stop the engine") if running else _("Segment every phase in a background process")
        # corrected phases are found by comparing with the engine's result when Re-propagate is pressed
        self.ui.repropagateButton.enabled = not running and bool(p.resultSegmentation)

    # -- input -------------------------------------------------------------------------------------------
    def onLoadCine(self) -> None:
        import qt

        path = qt.QFileDialog.getOpenFileName(
            slicer.util.mainWindow(), _("Load cine"), "",
            _("Cine images") + " (*.nii *.nii.gz *.seq.nrrd *.avi *.mp4 *.mhd *.dcm);;" + _("All files") + " (*)")
        if not path:
            return
        with slicer.util.tryWithErrorDisplay(_("Failed to load the cine."), waitCursor=True):
            proxy = self.logic.loadCine(path, self._parameterNode.modality)
            self._parameterNode.inputVolume = proxy
            slicer.util.setSliceViewerLayers(background=proxy, fit=True)

    # -- landmarks -------------------------------------------------------------------------------
    def onCreateLandmarks(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Failed to create the landmarks."), waitCursor=True):
            node = self.logic.createLandmarks(self._parameterNode)
            self._parameterNode.landmarks = node
            self._parameterNode.seedSource = "landmarks"
            slicer.modules.markups.logic().SetActiveList(node)
            interaction = slicer.app.applicationLogic().GetInteractionNode()
            interaction.SetPlaceModePersistence(1)
            interaction.SetCurrentInteractionMode(interaction.Place)  # places the next unplaced, named point

    # -- plot click selects the phase -----------------------------------------------------------
    def connectPlotClicks(self) -> None:
        """Listen to point clicks in every plot view (the CardiacMotion layout creates its own)."""
        layoutManager = slicer.app.layoutManager()
        if layoutManager is None:
            return
        for i in range(layoutManager.plotViewCount):
            plotView = layoutManager.plotWidget(i).plotView()
            if plotView not in self._connectedPlotViews:
                plotView.connect("dataSelected(vtkStringArray*, vtkCollection*)", self.onPlotDataSelected)
                self._connectedPlotViews.append(plotView)

    def onPlotDataSelected(self, mrmlPlotDataIDs, selectionCol) -> None:
        if not self._parameterNode or not self._parameterNode.inputVolume or selectionCol.GetNumberOfItems() == 0:
            return
        ids = selectionCol.GetItemAsObject(0)
        if ids is None or ids.GetNumberOfTuples() == 0:
            return
        with slicer.util.tryWithErrorDisplay(_("Failed to select the phase."), waitCursor=False):
            self.logic.selectPhaseFromPlot(self._parameterNode.inputVolume, int(ids.GetValue(0)))

    # -- run -------------------------------------------------------------------------------------------
    def onApplyButton(self) -> None:
        if self._job is not None:
            self.cancelJob()
            return
        self.startSegmentation(self._parameterNode.seedSource)

    def onRepropagateButton(self) -> None:
        self.startSegmentation("edits")

    def startSegmentation(self, seedSource: str) -> None:
        with slicer.util.tryWithErrorDisplay(_("Failed to start the segmentation."), waitCursor=True):
            ensureEngineDependencies()
            self._job, self._jobContext = self.logic.startSegmentation(self._parameterNode, seedSource)
            self.ui.progressBar.setValue(0)
            self.ui.progressBar.setVisible(True)
            self.ui.statusLabel.text = _("Starting the engine...")
            self.ui.deviceLabel.text = ""
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
        failed = _("Computing the volume curves failed.") if context.get("kind") == "function" else _("Segmentation failed.")
        with slicer.util.tryWithErrorDisplay(failed, waitCursor=True):
            if job.cancelled:
                self.ui.statusLabel.text = _("Cancelled.")
            elif job.returncode != 0:
                self.ui.statusLabel.text = _("Failed.")
                raise RuntimeError(job.error_message())
            elif context.get("kind") == "function":
                self.ui.statusLabel.text = self.logic.loadFunction(context)
                self.connectPlotClicks()
            else:
                self.logic.loadSegmentation(self._parameterNode, context)
                # volume curves next, in the background as well (the engine's function command)
                self._job, self._jobContext = self.logic.startFunction(context)
                self.ui.statusLabel.text = _("Computing the volume curves...")
                self.ui.progressBar.setVisible(True)
                self._timer.start()
        self._checkCanApply()

    def cancelJob(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self.ui.statusLabel.text = _("Cancelling...")


#
# CardiacMotionSegmentationLogic
#


class CardiacMotionSegmentationLogic(ScriptedLoadableModuleLogic):
    """Thin: each method is one call into ``cardiacmotion.slicerbridge.modulelogic``."""

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)
        ensureEngineImportable()

    def getParameterNode(self):
        return CardiacMotionSegmentationParameterNode(super().getParameterNode())

    @staticmethod
    def workDirectory() -> str:
        base = slicer.app.temporaryPath if hasattr(slicer, "app") else tempfile.gettempdir()
        os.makedirs(base, exist_ok=True)
        return tempfile.mkdtemp(prefix="CardiacMotion-", dir=base)

    def loadCine(self, path: str, modality: str = "auto"):
        """Read a cine file with the engine and add it as a volume sequence; returns the proxy volume."""
        from cardiacmotion.slicerbridge import modulelogic

        browser, sequence, proxy = modulelogic.load_cine_file(path, modality, scene=slicer.mrmlScene)
        if hasattr(slicer.modules.sequences, "setToolBarActiveBrowserNode"):
            slicer.modules.sequences.setToolBarActiveBrowserNode(browser)  # the play/slider toolbar drives it
        return proxy

    def createLandmarks(self, parameterNode):
        from cardiacmotion.slicerbridge import landmarks

        modality = "US" if parameterNode.modality == "echo" else "MR"
        return landmarks.create_landmarks_node(modality, scene=slicer.mrmlScene)

    def startSegmentation(self, parameterNode, seedSource: str):
        """Write the inputs to Slicer's temp folder and start ``PythonSlicer -m cardiacmotion segment``."""
        from cardiacmotion.slicerbridge import modulelogic, runner

        seqNode = None
        if seedSource == "edits" and parameterNode.resultSegmentation:
            browser = modulelogic.browser_of(parameterNode.resultSegmentation)
            seqNode = browser.GetSequenceNode(parameterNode.resultSegmentation) if browser else None
        context = modulelogic.prepare_segmentation(
            self.workDirectory(), parameterNode.inputVolume, seedSource,
            seed_node=parameterNode.seedSegmentation, landmarks_node=parameterNode.landmarks, seg_sequence=seqNode,
            modality=parameterNode.modality, method=parameterNode.method, device=parameterNode.device,
        )
        logging.info("CardiacMotion: " + " ".join(context["command"]))
        return runner.BackgroundJob(context["command"]).start(), context

    def loadSegmentation(self, parameterNode, context) -> None:
        """Load the result into the image's browser (replacing the earlier result's items)."""
        from cardiacmotion.slicerbridge import modulelogic

        existing = None
        if parameterNode.resultSegmentation:
            browser = modulelogic.browser_of(parameterNode.resultSegmentation)
            existing = browser.GetSequenceNode(parameterNode.resultSegmentation) if browser else None
        seq, proxy = modulelogic.load_segmentation_result(context["output"], context["image"], context["browser"], existing)
        parameterNode.resultSegmentation = proxy

    def startFunction(self, segContext):
        """Start ``cardiacmotion function`` on the segmentation just loaded."""
        from cardiacmotion.slicerbridge import runner

        functionJson = os.path.join(os.path.dirname(segContext["output"]), "function.json")
        command = runner.function_command(segContext["output"], functionJson, segContext["paths"]["image"])
        return runner.BackgroundJob(command).start(), {"kind": "function", "output": functionJson}

    def loadFunction(self, context) -> str:
        """Show the volume curves, function table and chart; returns the one-line summary."""
        from cardiacmotion.slicerbridge import modulelogic

        fn = modulelogic.load_function_result(context["output"], scene=slicer.mrmlScene)["function"]
        return _("EF {ef:.1f} %, EDV {edv:.1f} ml, ESV {esv:.1f} ml").format(
            ef=fn.get("lv_ef_pct", float("nan")), edv=fn.get("lv_edv_ml", float("nan")), esv=fn.get("lv_esv_ml", float("nan")))

    def editedPhases(self, volumeNode, proxy) -> list:
        """Phases whose segmentation differs from the engine's last result (what Re-propagate will use)."""
        from cardiacmotion.slicerbridge import modulelogic

        browser = modulelogic.browser_of(proxy) if proxy else None
        if browser is None:
            return []
        image, _browser = modulelogic.image_from_volume(volumeNode)
        return modulelogic.edited_phases(browser.GetSequenceNode(proxy), image)

    def selectPhaseFromPlot(self, volumeNode, pointIndex: int) -> int:
        from cardiacmotion.slicerbridge import modulelogic

        browser = modulelogic.browser_of(volumeNode)
        return modulelogic.phase_for_plot_point(browser, pointIndex) if browser else 0


#
# CardiacMotionSegmentationTest
#


class CardiacMotionSegmentationTest(ScriptedLoadableModuleTest):
    """Runs the bridge's shared test bodies in Slicer's scene (the same bodies pytest runs on slicer-core)."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_SequencesAndCorrections()
        self.setUp()
        self.test_ModuleLogicInputs()

    def test_SequencesAndCorrections(self):
        ensureEngineImportable()
        from cardiacmotion.slicerbridge import selftest

        self.delayDisplay(_("Phantom cine into a sequence browser"))
        case = selftest.make_case()
        built = selftest.check_sequences(case)
        self.assertEqual(set(built["segment_names"]), {"LV cavity", "LV myocardium", "RV cavity"})
        slicer.mrmlScene.Clear()
        changed = selftest.check_proxy_edit_saved(case)
        self.assertGreater(changed, 0)
        self.delayDisplay(_("Test passed"))

    def test_ModuleLogicInputs(self):
        ensureEngineImportable()
        from cardiacmotion.io import read_labels
        from cardiacmotion.slicerbridge import selftest, sequences

        case = selftest.make_case()
        browser, seq, proxy = sequences.volume_sequence_from_cine(case.image, scene=slicer.mrmlScene)
        segSeq, segProxy = sequences.segmentation_sequence_from_cine(case.labels, browser, scene=slicer.mrmlScene)
        logic = CardiacMotionSegmentationLogic()
        parameterNode = logic.getParameterNode()
        parameterNode.inputVolume = proxy
        parameterNode.seedSegmentation = segProxy
        from cardiacmotion.slicerbridge import modulelogic

        context = modulelogic.prepare_segmentation(logic.workDirectory(), proxy, "segmentation", seed_node=segProxy)
        seed = read_labels(context["paths"]["seed"])
        self.assertTrue(seed.array.any())
        self.assertIn("--progress", context["command"])
        self.delayDisplay(_("Test passed"))
