"""Shared by the Cardiac Motion modules (Slicer only): the engine on the path, its dependencies, the layout,
work folders and the background-process launcher. Listed in the Segmentation module's CMake scripts, so it
is installed beside the modules (qt-scripted-modules/CardiacMotionLib) like Slicer's own ``*Lib`` packages.
"""
import os
import sys
import tempfile

import slicer
from slicer.i18n import tr as _


def ensureEngineImportable() -> None:
    """Make ``import cardiacmotion`` work built, installed, or from a source checkout.

    Built and installed, the engine is beside this package in qt-scripted-modules (already on sys.path);
    from a source checkout given as additional module paths it is in the repository root.
    """
    try:
        import cardiacmotion  # noqa: F401
        return
    except ImportError:
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.dirname(here), os.path.dirname(os.path.dirname(here))):
        if os.path.isdir(os.path.join(candidate, "cardiacmotion")):
            if candidate not in sys.path:
                sys.path.insert(0, candidate)
            return


def ensureEngineDependencies(needTorch: bool = True) -> None:
    """Install what the background engine needs, after one confirmation listing all of it.

    Torch (version-checked) through the PyTorch extension, the other packages with pip. The GUI process
    itself needs none of them.
    """
    ensureEngineImportable()
    from cardiacmotion.slicerbridge import deps

    plan = deps.install_plan(needTorch)
    if not plan["torch"] and not plan["pip"]:
        return
    if not slicer.util.confirmOkCancelDisplay(
            _("Cardiac Motion runs its engine in a background process that needs:\n{items}\n\nInstall now? "
              "This can take several minutes.").format(items=plan["message"])):
        raise RuntimeError(_("The engine's dependencies are not installed."))
    with slicer.util.WaitCursor():
        if plan["torch"]:
            try:
                import PyTorchUtils
            except ModuleNotFoundError as exc:
                raise RuntimeError(_("This module needs the PyTorch extension: install it from the Extensions "
                                     "Manager and restart Slicer.")) from exc
            logic = PyTorchUtils.PyTorchUtilsLogic()
            if logic.installTorch(askConfirmation=False, torchVersionRequirement=deps.TORCH_REQUIREMENT) is None:
                raise RuntimeError(_("PyTorch {req} could not be installed.").format(req=deps.TORCH_REQUIREMENT))
        if plan["pip"]:
            slicer.util.pip_install(" ".join(plan["pip"]))


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


def showCardiacMotionLayout() -> None:
    from cardiacmotion.slicerbridge import layout

    registerCardiacMotionLayout()
    slicer.app.layoutManager().setLayout(layout.LAYOUT_ID)


def workDirectory() -> str:
    """A new ``CardiacMotion-*`` folder in Slicer's temporary folder (removed when its run is done)."""
    base = slicer.app.temporaryPath
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix="CardiacMotion-", dir=base)


def appendLog(textWidget, lines) -> None:
    """Add engine output lines to a log panel (QPlainTextEdit)."""
    for line in lines:
        textWidget.appendPlainText(line)


class JobPanel:
    """One background engine run at a time for a module widget (Apply turns into Cancel while it runs): a timer
    polls the job, whose progress, status, device and log lines go to the widget's progress bar, status label,
    device label and log panel; ``onEnded(job, context)`` handles the result (the buttons are refreshed even
    when it raises)."""

    def __init__(self, ui, onStateChanged, onEnded) -> None:
        import qt

        ensureEngineImportable()
        from cardiacmotion.slicerbridge.jobs import JobSlot

        self.ui = ui
        self.slot = JobSlot(on_state_changed=onStateChanged)
        self._onEnded = onEnded
        self.timer = qt.QTimer()
        self.timer.setInterval(200)
        self.timer.connect("timeout()", self.poll)
        ui.progressBar.setVisible(False)

    @property
    def running(self) -> bool:
        return self.slot.running

    def cancel(self) -> None:
        self.slot.cancel()

    def start(self, job, context, status: str, logLines=None) -> None:
        """Show ``status``, replace the log with ``logLines`` when given, and start polling ``job``."""
        if logLines is not None:
            self.ui.logTextEdit.clear()
            appendLog(self.ui.logTextEdit, logLines)
        self.ui.progressBar.setValue(0)
        self.ui.progressBar.setVisible(True)
        self.ui.statusLabel.text = status
        self.ui.deviceLabel.text = ""
        self.slot.start(job, context)
        self.timer.start()

    def poll(self) -> None:
        def onProgress(event):
            self.ui.progressBar.setValue(int(round(event.fraction * 100)))
            if event.message:
                self.ui.statusLabel.text = event.message

        ended = self.slot.poll(onProgress, lambda line: appendLog(self.ui.logTextEdit, [line]))
        if self.slot.job is not None and self.slot.job.device:
            self.ui.deviceLabel.text = _("Device: {device}").format(device=self.slot.job.device)
        if not self.slot.running or ended:
            self.timer.stop()
        if ended:
            self.ui.progressBar.setVisible(False)
            self.slot.finish(self._onEnded)
