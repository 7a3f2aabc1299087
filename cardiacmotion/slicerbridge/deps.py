"""What the background engine process needs installed in Slicer's Python, checked without importing it.

The GUI process needs none of these (its I/O goes through Slicer's storage nodes); the module asks once,
lists everything missing (torch through the PyTorch extension, the rest through pip) and installs it.
"""
from __future__ import annotations

import importlib.util
from typing import Callable, Optional

#: import name -> pip requirement, for the engine process (torch is handled by the PyTorch extension).
ENGINE_REQUIREMENTS = {"nibabel": "nibabel", "nrrd": "pynrrd", "pydicom": "pydicom", "cv2": "opencv-python-headless",
                       "scipy": "scipy", "SimpleITK": "SimpleITK", "matplotlib": "matplotlib"}
#: the oldest torch the engine runs on (pyproject: torch>=2.1).
TORCH_MINIMUM = (2, 1)
TORCH_REQUIREMENT = ">=2.1"


def _version_tuple(version: str) -> tuple:
    parts = []
    for piece in version.split("+")[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def torch_status(version_of: Optional[Callable[[str], str]] = None) -> tuple:
    """``('ok' | 'missing' | 'too old', installed version or '')`` without importing torch."""
    if version_of is None:
        from importlib.metadata import PackageNotFoundError, version

        def version_of(name):
            try:
                return version(name)
            except PackageNotFoundError:
                return ""
    installed = version_of("torch") or ""
    if not installed:
        return "missing", ""
    return ("ok" if _version_tuple(installed) >= TORCH_MINIMUM else "too old"), installed


def missing_packages(find_spec: Callable = importlib.util.find_spec) -> list:
    """The pip requirements of :data:`ENGINE_REQUIREMENTS` whose module cannot be found."""
    return [pkg for module, pkg in ENGINE_REQUIREMENTS.items() if find_spec(module) is None]


def install_plan(need_torch: bool = True, find_spec: Callable = importlib.util.find_spec,
                 version_of: Optional[Callable[[str], str]] = None) -> dict:
    """``{'torch': None | 'install' | 'upgrade', 'torch_version', 'pip': [...], 'message'}``: all in one question."""
    status, installed = torch_status(version_of) if need_torch else ("ok", "")
    torch_action = {"ok": None, "missing": "install", "too old": "upgrade"}[status]
    pip = missing_packages(find_spec)
    lines = []
    if torch_action == "install":
        lines.append(f"PyTorch {TORCH_REQUIREMENT} (through the PyTorch extension)")
    elif torch_action == "upgrade":
        lines.append(f"PyTorch {TORCH_REQUIREMENT} in place of the installed {installed}")
    if pip:
        lines.append("Python packages: " + ", ".join(pip))
    return {"torch": torch_action, "torch_version": installed, "pip": pip, "message": "\n".join(lines)}
