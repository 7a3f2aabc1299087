"""Running the engine CLI in a background process, the way the Slicer modules do (no Qt here).

The module widget writes its inputs to files in Slicer's temporary folder (:func:`write_inputs`), starts
``PythonSlicer -m cardiacmotion segment ... --progress json`` as a :class:`BackgroundJob`, polls it from a
``qt.QTimer`` (:meth:`BackgroundJob.poll` never blocks), shows the parsed progress and device, and kills the
whole process tree on Cancel (:meth:`BackgroundJob.cancel`).
"""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np

from cardiacmotion.cine import Cine
from cardiacmotion.errors import InputError


@dataclass
class ProgressEvent:
    """One parsed progress line: fraction in [0, 1], message, and the device when the line names it."""

    fraction: float
    message: str = ""
    device: Optional[str] = None


def parse_progress_line(line: str) -> Optional[ProgressEvent]:
    """Parse a ``--progress json`` line (``{"progress": 0.4, "message": "...", "device": "cuda"}``); else None."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        doc = json.loads(line)
    except ValueError:
        return None
    if not isinstance(doc, dict) or "progress" not in doc:
        return None
    try:
        fraction = min(max(float(doc["progress"]), 0.0), 1.0)
    except (TypeError, ValueError):
        return None
    message = str(doc.get("message", ""))
    device = doc.get("device")
    if device is None and message.lower().startswith("device:"):
        device = message.split(":", 1)[1].strip()  # "device: cuda (NVIDIA ...)" as a progress message
    return ProgressEvent(fraction, message, None if device is None else str(device))


def python_executable() -> str:
    """``PythonSlicer`` next to Slicer's Python, or this interpreter outside Slicer."""
    exe = Path(sys.executable)
    for name in ("PythonSlicer", "PythonSlicer.exe"):
        candidate = exe.parent / name
        if candidate.is_file():
            return str(candidate)
    return sys.executable


def engine_environment(base: Optional[Mapping[str, str]] = None) -> dict:
    """Environment for the child process: the folder holding this ``cardiacmotion`` package on PYTHONPATH."""
    import cardiacmotion

    env = dict(os.environ if base is None else base)
    root = str(Path(cardiacmotion.__file__).resolve().parent.parent)
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in parts if p != root])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def segment_command(
    image: str,
    output: str,
    seed: Optional[str] = None,
    seed_phase: Optional[int] = None,
    landmarks: Optional[str] = None,
    modality: str = "auto",
    method: str = "auto",
    device: str = "auto",
    python: Optional[str] = None,
) -> list:
    """The ``cardiacmotion segment`` command line the Segmentation module runs (DESIGN section 4)."""
    if seed is None and landmarks is None:
        raise InputError("give a seed segmentation or the three landmarks")
    cmd = [python or python_executable(), "-m", "cardiacmotion", "segment", str(image), "-o", str(output)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    if landmarks is not None:
        cmd += ["--landmarks", str(landmarks)]
    if seed_phase is not None:  # the phase of a one-phase seed, or the frame the landmarks were placed on
        cmd += ["--seed-phase", str(int(seed_phase))]
    cmd += ["--modality", modality, "--method", method, "--device", device, "--progress", "json"]
    return cmd


def score_command(image: str, seg: str, landmarks: str, output: str, method: str = "auto", device: str = "auto",
                  python: Optional[str] = None) -> list:
    """The ``cardiacmotion score`` command line the Scoring module runs."""
    return [python or python_executable(), "-m", "cardiacmotion", "score", str(image), "--seg", str(seg),
            "--landmarks", str(landmarks), "-o", str(output), "--method", method, "--device", device,
            "--progress", "json"]


def function_command(seg: str, output: str, image: Optional[str] = None, python: Optional[str] = None) -> list:
    """The ``cardiacmotion function`` command line (volume curves after segmentation)."""
    cmd = [python or python_executable(), "-m", "cardiacmotion", "function", str(seg), "-o", str(output)]
    if image is not None:
        cmd += ["--image", str(image)]
    return cmd + ["--progress", "json"]


def edited_seed(labels: np.ndarray, edited_phases: Sequence[int]) -> np.ndarray:
    """A 4D seed from the current segmentation: the edited phases kept, all others cleared.

    Every labelled phase of a 4D seed becomes permanent memory for the propagation (DESIGN section 4).
    """
    labels = np.asarray(labels)
    if labels.ndim != 4:
        raise InputError(f"expected labels [t,k,j,i], got shape {labels.shape}")
    phases = sorted({int(p) for p in edited_phases})
    if not phases:
        raise InputError("no edited phase to re-propagate from")
    if phases[0] < 0 or phases[-1] >= labels.shape[0]:
        raise InputError(f"edited phase out of range 0..{labels.shape[0] - 1}")
    seed = np.zeros_like(labels, dtype=np.uint8)
    seed[phases] = labels[phases]
    return seed


def write_inputs(folder: os.PathLike, image: Cine, seed: Optional[Cine] = None,
                 landmarks: Optional[Mapping[str, np.ndarray]] = None) -> dict:
    """Write the image (and seed, landmarks) for the CLI into ``folder``; returns ``{name: path}``."""
    from cardiacmotion.io import write_image
    from cardiacmotion.io.markups import write_markups

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"image": folder / "image.nii.gz"}
    write_image(image, paths["image"])
    if seed is not None:
        paths["seed"] = folder / "seed.nii.gz"
        write_image(seed, paths["seed"])
    if landmarks:
        paths["landmarks"] = folder / "landmarks.mrk.json"
        write_markups(dict(landmarks), paths["landmarks"])
    return {k: str(v) for k, v in paths.items()}


@dataclass
class BackgroundJob:
    """A CLI run in its own process group; stdout parsed as progress lines by a reader thread.

    Every other line the engine prints (stdout and stderr) is kept for the module's log panel
    (:meth:`new_log_lines`). On Windows the child gets no console window (the flags Slicer's
    ``launchConsoleProcess`` uses) and its own process group, so Cancel can take the whole tree down;
    ``launchConsoleProcess`` itself cannot start a new session on Linux/macOS, which the tree kill needs.
    """

    command: list
    env: Optional[dict] = None
    process: Optional[subprocess.Popen] = None
    events: "queue.Queue" = field(default_factory=queue.Queue)
    stderr_lines: list = field(default_factory=list)
    log: "queue.Queue" = field(default_factory=queue.Queue)
    device: Optional[str] = None
    cancelled: bool = False
    grace_s: float = 3.0

    def start(self) -> "BackgroundJob":
        env = engine_environment(self.env)
        if os.name == "nt":
            info = subprocess.STARTUPINFO()  # type: ignore[attr-defined]
            info.dwFlags = 1  # STARTF_USESHOWWINDOW
            info.wShowWindow = 0  # SW_HIDE
            kwargs = {"startupinfo": info, "creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
        else:
            kwargs = {"start_new_session": True}
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        bufsize=1, env=env, errors="replace", **kwargs)
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for reader in self._readers:
            reader.start()
        return self

    def _read_stdout(self) -> None:
        for line in self.process.stdout:
            event = parse_progress_line(line)
            if event is not None:
                self.events.put(event)
            elif line.strip():
                self.log.put(line.rstrip("\n"))

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            self.stderr_lines.append(line.rstrip("\n"))
            self.log.put(line.rstrip("\n"))

    def poll(self) -> list:
        """New progress events since the last call (never blocks); remembers the device when named."""
        out = []
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            if event.device:
                self.device = event.device
            out.append(event)
        return out

    def new_log_lines(self) -> list:
        """Engine output lines (not progress) since the last call, for the log panel (never blocks)."""
        out = []
        while True:
            try:
                out.append(self.log.get_nowait())
            except queue.Empty:
                return out

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> Optional[int]:
        return None if self.process is None else self.process.poll()

    def drain(self, timeout: float = 2.0) -> None:
        """Wait (briefly) until the reader threads have read everything the finished process wrote."""
        for reader in getattr(self, "_readers", []):
            reader.join(timeout)

    def error_message(self) -> str:
        """The CLI's one-line reason (last ``cardiacmotion: ...`` line on stderr), or a generic one."""
        self.drain()
        for line in reversed(self.stderr_lines):
            if line.startswith("cardiacmotion:"):
                return line.split(":", 1)[1].strip()
        tail = [ln for ln in self.stderr_lines if ln.strip()][-3:]
        detail = (": " + " | ".join(tail)) if tail else ""
        return f"the engine stopped with exit code {self.returncode}{detail}"

    def cancel(self) -> None:
        """Stop the whole process tree without blocking the caller (the GUI thread).

        The tree is asked to terminate; a watcher thread kills it if it is still there after ``grace_s``.
        """
        if self.process is None or self.process.poll() is not None:
            return
        self.cancelled = True
        if os.name == "nt":
            subprocess.Popen(["taskkill", "/F", "/T", "/PID", str(self.process.pid)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        threading.Thread(target=self._kill_after_grace, daemon=True).start()

    def _kill_after_grace(self) -> None:
        try:
            self.process.wait(self.grace_s)
        except subprocess.TimeoutExpired:
            pass
        try:  # the group may outlive its leader: kill what is left either way
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(self, timeout: Optional[float] = None) -> int:
        return self.process.wait(timeout)
