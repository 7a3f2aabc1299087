"""Cardiac Motion Segmentation: memory-propagated 4D segmentation of cine MR / echo, with correction and
re-propagation, volume curves and function. A thin widget over ``cardiacmotion.slicerbridge``: every step
it takes is a function of ``cardiacmotion.slicerbridge.modulelogic``, run in pytest on slicer-core too.
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
        slicer.app.connect("startupCompleted()", lambda: lib().registerCardiacMotionLayout())


#
# CardiacMotionSegmentationParameterNode
#


@parameterNodeWrapper
class CardiacMotionSegmentationParameterNode:
    """The module's state, saved with the scene.

    inputVolume - the cine: the proxy volume of its sequence (a single volume is refused).
    modality, view - auto | mr | echo; SAX | A4C | A2C. The ones used are kept on the cine's sequence node
        (browsing rewrites proxies); a view that does not fit the modality falls back to the sequence's own
        or the default (SAX for MR, A4C for echo).
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
        self._jobs = None
        self._connectedPlotViews = []

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)
        lib().ensureEngineImportable()

        uiWidget = slicer.util.loadUI(self.resourcePath("UI/CardiacMotionSegmentation.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = CardiacMotionSegmentationLogic()
        self._jobs = lib().JobPanel(self.ui, self._checkCanApply, self.onJobEnded)

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)

        self.ui.applyButton.connect("clicked(bool)", self.onApplyButton)
        self.ui.repropagateButton.connect("clicked(bool)", self.onRepropagateButton)
        self.ui.createSeedSegmentsButton.connect("clicked(bool)", self.onCreateSeedSegments)
        self.ui.createLandmarksButton.connect("clicked(bool)", self.onCreateLandmarks)
        self.ui.loadCineButton.connect("clicked(bool)", self.onLoadCine)
        self.initializeParameterNode()

    def cleanup(self) -> None:
        if self._jobs is not None:
            self._jobs.cancel()
        self.removeObservers()

    def enter(self) -> None:
        self.initializeParameterNode()
        self.connectPlotClicks()
        self.showCorrectedPhases()

    def exit(self) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanApply)

    def onSceneStartClose(self, caller, event) -> None:
        self._jobs.cancel()  # its end is still polled; with no parameter node it only reports
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

    def setParameterNode(self, inputParameterNode: Optional["CardiacMotionSegmentationParameterNode"]) -> None:
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
        fromSeg = p is not None and p.seedSource == "segmentation"
        ready = p is not None and bool(p.inputVolume) and (bool(p.seedSegmentation) if fromSeg else bool(p.landmarks))
        state = button_state(running, ready)
        self.ui.seedSegmentationSelector.setEnabled(fromSeg)
        self.ui.landmarksSelector.setEnabled(p is not None and not fromSeg)
        self.ui.applyButton.enabled = state["enabled"]
        self.ui.applyButton.text = _("Cancel") if state["cancel"] else _("Apply")
        self.ui.applyButton.toolTip = _("Stop the engine") if state["cancel"] else _("Segment every phase in a background process")
        self.ui.repropagateButton.enabled = not running and p is not None and bool(p.resultSegmentation)

    def showCorrectedPhases(self) -> list:
        p = self._parameterNode
        phases = []
        if p is not None and p.resultSegmentation and p.inputVolume:
            try:
                phases = self.logic.correctedPhases(p)
            except Exception as exc:  # noqa: BLE001 - only a label; the run itself reports errors
                logging.debug(f"CardiacMotion: corrected phases unknown: {exc}")
        self.ui.correctedPhasesLabel.text = (", ".join(str(t) for t in phases) if phases else _("none"))
        return phases

    # -- input -------------------------------------------------------------------------------------------
    def onLoadCine(self) -> None:
        import qt

        path = qt.QFileDialog.getOpenFileName(
            slicer.util.mainWindow(), _("Load cine"), "",
            _("Cine images") + " (*.seq.nrrd *.nrrd *.nii *.nii.gz *.avi *.mp4 *.mhd *.dcm);;" + _("All files") + " (*)")
        if not path or self._jobs.running:
            return
        with slicer.util.tryWithErrorDisplay(_("Failed to load the cine."), waitCursor=True):
            from cardiacmotion.slicerbridge import modulelogic, runner

            modality = self._parameterNode.modality
            if not modulelogic.needs_engine_to_read(path):
                self.showCine(self.logic.readCine(path, modality))
                return
            # a DICOM file, AVI/MP4, MHD: the engine reads them in the background into a .seq.nrrd
            spacing = None
            if modulelogic.needs_pixel_spacing(path):
                answer = qt.QInputDialog.getText(slicer.util.mainWindow(), _("Pixel spacing"),
                                                 _("A video has no pixel size. Pixel spacing in mm:"))
                if not answer:
                    return
                spacing = float(answer)
            lib().ensureEngineDependencies(needTorch=False)
            workdir = lib().workDirectory()
            output = f"{workdir}/{modulelogic.cine_name(path)}.seq.nrrd"
            job = runner.BackgroundJob(modulelogic.conversion_command(path, output, modality, spacing)).start()
            self._jobs.start(job, {"kind": "convert", "output": output, "workdir": workdir, "modality": modality},
                             _("Reading the cine..."))

    def showCine(self, proxy) -> None:
        self._parameterNode.inputVolume = proxy
        # oblique stacks are shown in their own plane, not resliced
        slicer.util.setSliceViewerLayers(background=proxy, fit=True, rotateToVolumePlane=True)

    # -- seeds -------------------------------------------------------------------------------------------
    def onCreateSeedSegments(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Failed to create the seed segments."), waitCursor=True):
            node = self.logic.createSeedSegments(self._parameterNode)
            self._parameterNode.seedSegmentation = node
            self._parameterNode.seedSource = "segmentation"
            slicer.util.selectModule("SegmentEditor")
            editor = slicer.modules.segmenteditor.widgetRepresentation().self().editor
            editor.setSegmentationNode(node)
            if hasattr(editor, "setSourceVolumeNode"):
                editor.setSourceVolumeNode(self._parameterNode.inputVolume)
            else:  # Slicer < 5.4
                editor.setMasterVolumeNode(self._parameterNode.inputVolume)

    def onCreateLandmarks(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Failed to create the landmarks."), waitCursor=True):
            node, created = self.logic.landmarksForCine(self._parameterNode)
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
        if self._jobs.running:
            self._jobs.cancel()
            self.ui.statusLabel.text = _("Cancelling...")
            return
        corrected = self.showCorrectedPhases()
        if corrected and not slicer.util.confirmOkCancelDisplay(
                _("Phases {phases} were corrected. Apply segments every phase again from the seed and replaces "
                  "them. Use Re-propagate to keep the corrections. Continue?").format(
                    phases=", ".join(str(t) for t in corrected))):
            return
        self.startSegmentation(self._parameterNode.seedSource)

    def onRepropagateButton(self) -> None:
        corrected = self.showCorrectedPhases()
        if not corrected:
            slicer.util.errorDisplay(_("No phase was corrected: edit the result on a phase in Segment Editor first."))
            return
        if slicer.util.confirmOkCancelDisplay(
                _("Re-propagate from the corrected phases {phases}? They are kept as they are; every other phase is "
                  "segmented again.").format(phases=", ".join(str(t) for t in corrected))):
            self.startSegmentation("edits")

    def askFrameInterval(self, error) -> bool:
        """Frame numbers only: ask for the RR interval or the frame rate (never guessed); True when answered."""
        import qt

        text = qt.QInputDialog.getText(
            slicer.util.mainWindow(), _("Frame timing"),
            str(error) + "\n" + _("RR interval in ms (e.g. 850), or frame rate (e.g. 25 fps):"))
        if not text:
            return False
        self.logic.setFrameTiming(self._parameterNode.inputVolume, text)
        return True

    def startSegmentation(self, seedSource: str) -> None:
        from cardiacmotion.slicerbridge.cineinfo import FrameTimesUnknown

        with slicer.util.tryWithErrorDisplay(_("Failed to start the segmentation."), waitCursor=True):
            lib().ensureEngineDependencies()
            try:
                job, context = self.logic.startSegmentation(self._parameterNode, seedSource)
            except FrameTimesUnknown as exc:
                if not self.askFrameInterval(exc):
                    return
                job, context = self.logic.startSegmentation(self._parameterNode, seedSource)
            log = [" ".join(context["command"]),
                   _("Modality {modality}, view {view}; frame times from {source}").format(
                       modality=context["modality"], view=context["view"], source=context["frame_time_source"])]
            if context.get("notes"):
                log.append(_("Seed segments: {notes}").format(notes=context["notes"]))
            self._jobs.start(job, context, _("Starting the engine..."), log)

    def onJobEnded(self, job, context) -> None:
        kind = context.get("kind")
        failed = {"function": _("Computing the volume curves failed."), "convert": _("Failed to load the cine.")}.get(
            kind, _("Segmentation failed."))
        with slicer.util.tryWithErrorDisplay(failed, waitCursor=True):
            if job.cancelled:
                self.ui.statusLabel.text = _("Cancelled.")
                return
            if job.returncode != 0:
                self.ui.statusLabel.text = _("Failed.")
                raise RuntimeError(job.error_message())
            if self._parameterNode is None:  # the scene was closed while the engine ran
                self.ui.statusLabel.text = _("The scene was closed: result discarded.")
                return
            if kind == "convert":
                self.showCine(self.logic.readCine(context["output"], context["modality"]))
                self.ui.statusLabel.text = _("Cine loaded.")
            elif kind == "function":
                self.ui.statusLabel.text = self.logic.loadFunction(context)
                self.connectPlotClicks()
            else:
                self.logic.loadSegmentation(self._parameterNode, context)
                self.showCorrectedPhases()
                job2, context2 = self.logic.startFunction(context)  # volume curves, in the background too
                self._jobs.start(job2, context2, _("Computing the volume curves..."))


#
# CardiacMotionSegmentationLogic
#


class CardiacMotionSegmentationLogic(ScriptedLoadableModuleLogic):
    """Thin: each method is one call into ``cardiacmotion.slicerbridge``."""

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)
        lib().ensureEngineImportable()

    def getParameterNode(self):
        return CardiacMotionSegmentationParameterNode(super().getParameterNode())

    def readCine(self, path: str, modality: str = "auto"):
        """Read a ``.seq.nrrd`` with Slicer's sequence storage node into a browser; returns the proxy volume."""
        from cardiacmotion.slicerbridge import modulelogic

        browser, sequence, proxy = modulelogic.read_cine_sequence(path, modulelogic.cine_name(path), modality,
                                                                  scene=slicer.mrmlScene)
        if hasattr(slicer.modules.sequences, "setToolBarActiveBrowserNode"):
            slicer.modules.sequences.setToolBarActiveBrowserNode(browser)  # the play/slider toolbar drives it
        return proxy

    def createSeedSegments(self, parameterNode):
        from cardiacmotion.slicerbridge import cineinfo, modulelogic, seedsegments

        info = modulelogic.cine_input(parameterNode.inputVolume, parameterNode.modality, parameterNode.view,
                                      need_times=False)
        cineinfo.remember(info.sequence, info.modality, info.view)
        return seedsegments.create_seed_segmentation(parameterNode.inputVolume, info.modality, scene=slicer.mrmlScene)

    def landmarksForCine(self, parameterNode):
        from cardiacmotion.slicerbridge import modulelogic

        return modulelogic.landmarks_for_cine(parameterNode.inputVolume, parameterNode.modality, scene=slicer.mrmlScene)

    def setFrameTiming(self, volumeNode, answer: str) -> None:
        from cardiacmotion.slicerbridge import cineinfo

        browser, seq = cineinfo.sequence_of(volumeNode)
        cineinfo.set_frame_interval(seq, cineinfo.parse_timing_answer(answer, seq.GetNumberOfDataNodes()))

    def startSegmentation(self, parameterNode, seedSource: str):
        """Write the inputs to Slicer's temp folder (storage nodes) and start the engine in the background."""
        from cardiacmotion.slicerbridge import cineinfo, modulelogic, runner

        seqNode = None
        if seedSource == "edits" and parameterNode.resultSegmentation:
            browser = modulelogic.browser_of(parameterNode.resultSegmentation)
            seqNode = browser.GetSequenceNode(parameterNode.resultSegmentation) if browser else None
        info = modulelogic.cine_input(parameterNode.inputVolume, parameterNode.modality, parameterNode.view,
                                      need_times=False)
        cineinfo.remember(info.sequence, info.modality, info.view)  # kept on the sequence: Scoring reads it too
        workdir = lib().workDirectory()
        try:
            context = modulelogic.prepare_segmentation(
                workdir, parameterNode.inputVolume, seedSource, seed_node=parameterNode.seedSegmentation,
                landmarks_node=parameterNode.landmarks, seg_sequence=seqNode, modality=parameterNode.modality,
                view=parameterNode.view, method=parameterNode.method, device=parameterNode.device)
        except Exception:
            from cardiacmotion.slicerbridge.jobs import remove_workdir

            remove_workdir(workdir)
            raise
        logging.info("CardiacMotion: " + " ".join(context["command"]))
        return runner.BackgroundJob(context["command"]).start(), context

    def loadSegmentation(self, parameterNode, context) -> None:
        """Load the result into the image's browser (replacing the earlier result's items), beside the input."""
        from cardiacmotion.slicerbridge import modulelogic

        existing = None
        if parameterNode.resultSegmentation:
            browser = modulelogic.browser_of(parameterNode.resultSegmentation)
            existing = browser.GetSequenceNode(parameterNode.resultSegmentation) if browser else None
        seq, proxy = modulelogic.load_segmentation_result(context["output"], context["image"], context["browser"],
                                                          existing, input_volume=parameterNode.inputVolume)
        parameterNode.resultSegmentation = proxy

    def startFunction(self, segContext):
        """Start ``cardiacmotion function`` on the segmentation just loaded (same work folder)."""
        from cardiacmotion.slicerbridge import modulelogic, runner

        command, context = modulelogic.function_command_for(segContext)
        return runner.BackgroundJob(command).start(), context

    def loadFunction(self, context) -> str:
        """Show the volume curves, function table and chart; returns the one-line summary."""
        from cardiacmotion.slicerbridge import modulelogic

        fn = modulelogic.load_function_result(context["output"], scene=slicer.mrmlScene)["function"]
        return _("EF {ef:.1f} %, EDV {edv:.1f} ml, ESV {esv:.1f} ml").format(
            ef=fn.get("lv_ef_pct", float("nan")), edv=fn.get("lv_edv_ml", float("nan")), esv=fn.get("lv_esv_ml", float("nan")))

    def correctedPhases(self, parameterNode) -> list:
        """Phases whose segmentation differs from the engine's last result (what Re-propagate will use)."""
        from cardiacmotion.slicerbridge import modulelogic

        return modulelogic.corrected_phases_for(parameterNode.resultSegmentation, parameterNode.inputVolume)

    def selectPhaseFromPlot(self, volumeNode, pointIndex: int) -> int:
        from cardiacmotion.slicerbridge import modulelogic

        browser = modulelogic.browser_of(volumeNode)
        return modulelogic.phase_for_plot_point(browser, pointIndex) if browser else 0


#
# CardiacMotionSegmentationTest
#


class CardiacMotionSegmentationTest(ScriptedLoadableModuleTest):
    """Runs the bridge's shared test bodies in Slicer's scene (the same bodies pytest runs on slicer-core, there
    also with nibabel, pynrrd, OpenCV and torch made unimportable: the GUI side needs none of them)."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_SequencesAndCorrections()
        self.setUp()
        self.test_ModuleLogicInputs()
        self.setUp()
        self.test_FrameTimesOfSlicerImports()

    def test_SequencesAndCorrections(self):
        lib().ensureEngineImportable()
        from cardiacmotion.slicerbridge import selftest

        self.delayDisplay(_("Toy cine into a sequence browser"))
        case = selftest.toy_mr_case()
        built = selftest.check_sequences(case)
        self.assertEqual(set(built["segment_names"]), {"LV cavity", "LV myocardium", "RV cavity"})
        slicer.mrmlScene.Clear()
        changed = selftest.check_proxy_edit_saved(case)
        self.assertGreater(changed, 0)
        self.delayDisplay(_("Test passed"))

    def test_ModuleLogicInputs(self):
        lib().ensureEngineImportable()
        from cardiacmotion.slicerbridge import selftest

        checked = selftest.check_module_inputs(lib().workDirectory())
        self.assertIn("--seed-phase", checked["command"])
        self.delayDisplay(_("Test passed"))

    def test_FrameTimesOfSlicerImports(self):
        lib().ensureEngineImportable()
        from cardiacmotion.slicerbridge import selftest

        selftest.check_frame_times_of_slicer_imports()
        self.delayDisplay(_("Test passed"))
