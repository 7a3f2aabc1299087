"""The module's one background run and what its Apply button shows, kept right whatever happens.

The widget polls :meth:`JobSlot.poll` from a ``qt.QTimer``; when the run ends it calls :meth:`JobSlot.finish`
with its result handler. ``slicer.util.tryWithErrorDisplay`` shows an error and then re-raises it, so code
after the handler would not run: :meth:`finish` refreshes the button state in ``finally``. A handler may
start the next run (segmentation -> volume curves); the slot then holds that one.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional


def button_state(running: bool, ready: bool) -> dict:
    """What the Apply button shows: ``{'text', 'enabled', 'cancel'}`` (Cancel while a run is going)."""
    return {"text": "Cancel" if running else "Apply", "enabled": bool(running or ready), "cancel": bool(running)}


@dataclass
class JobSlot:
    """Holds at most one :class:`~cardiacmotion.slicerbridge.runner.BackgroundJob` and its context.

    Args:
        on_state_changed: called after every start and finish (the widget refreshes its buttons there).
    """

    on_state_changed: Callable[[], None] = lambda: None
    job: object = None
    context: dict = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.job is not None

    def start(self, job, context: Optional[dict] = None) -> None:
        self.job, self.context = job, dict(context or {})
        self.on_state_changed()

    def poll(self, on_progress: Callable = lambda event: None, on_log: Callable = lambda line: None) -> bool:
        """Pass new progress events and log lines on; True when the run has ended (call :meth:`finish`)."""
        if self.job is None:
            return False
        for event in self.job.poll():
            on_progress(event)
        for line in self.job.new_log_lines():
            on_log(line)
        if self.job.running:
            return False
        self.job.drain()
        for line in self.job.new_log_lines():
            on_log(line)
        return True

    def finish(self, handler: Callable[[object, dict], None]) -> None:
        """Hand the ended run to ``handler(job, context)``; the slot is free and the state refreshed even if
        the handler raises (the error is re-raised after)."""
        job, context = self.job, self.context
        self.job, self.context = None, {}
        try:
            handler(job, context)
        finally:
            if self.job is None:  # the handler did not chain another run: this run's files go
                remove_workdir(context.get("workdir"))
            self.on_state_changed()

    def cancel(self) -> None:
        """Ask the run to stop (never blocks); :meth:`poll` reports its end as usual."""
        if self.job is not None:
            self.job.cancel()


def remove_workdir(path: Optional[str]) -> None:
    """Delete a run's temporary folder (only folders this module made: named ``CardiacMotion-*``)."""
    if path and Path(path).name.startswith("CardiacMotion-") and Path(path).is_dir():
        shutil.rmtree(path, ignore_errors=True)
