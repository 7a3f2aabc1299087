"""Progress reporting: a bar on a terminal, JSON lines for the Slicer modules, or nothing."""
from __future__ import annotations

import json
import sys
import time
from typing import Callable, Optional, TextIO

#: A progress callback: ``report(fraction in [0, 1], message)``.
ProgressFn = Callable[[float, str], None]


def silent(fraction: float, message: str = "") -> None:
    """A progress callback that drops everything."""


class Progress:
    """Callable progress sink.

    ``mode='json'`` writes ``{"progress": 0.42, "message": "..."}`` lines to stdout (the Slicer
    modules parse them); ``mode='bar'`` draws a bar on stderr when it is a terminal; ``mode='none'``
    is silent.
    """

    def __init__(self, mode: str = "auto", stream: Optional[TextIO] = None) -> None:
        if mode == "auto":
            mode = "bar" if sys.stderr.isatty() else "none"
        self.mode = mode
        self.stream = stream
        self._last = 0.0

    def __call__(self, fraction: float, message: str = "") -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        if self.mode == "json":
            out = self.stream or sys.stdout
            out.write(json.dumps({"progress": round(fraction, 4), "message": message}) + "\n")
            out.flush()
        elif self.mode == "bar":
            now = time.monotonic()
            if fraction < 1.0 and now - self._last < 0.1:
                return
            self._last = now
            out = self.stream or sys.stderr
            width = 30
            filled = int(round(width * fraction))
            out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:5.1f}% {message[:50]:<50}")
            if fraction >= 1.0:
                out.write("\n")
            out.flush()

    def sub(self, start: float, end: float) -> ProgressFn:
        """A callback mapping [0, 1] onto [start, end] of this one."""
        return lambda f, m="": self(start + (end - start) * f, m)


def sub_progress(report: ProgressFn, start: float, end: float, prefix: str = "") -> ProgressFn:
    """Map a sub-task's [0, 1] onto [start, end] of ``report`` (messages get ``prefix``)."""
    return lambda f, m="": report(start + (end - start) * min(max(f, 0.0), 1.0), prefix + m if m else m)
