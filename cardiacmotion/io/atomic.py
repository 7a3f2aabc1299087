"""Outputs appear whole or not at all, and never on top of an input."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator, Union

from cardiacmotion.errors import InputError

PathLike = Union[str, os.PathLike]


def _suffixes(path: Path) -> str:
    name = path.name
    for ext in (".nii.gz", ".seq.nrrd", ".mrk.json", ".tar.gz"):
        if name.endswith(ext):
            return ext
    return path.suffix


@contextlib.contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``.

    The temporary name keeps the extension (writers pick the format from it). On any error
    the temporary file or folder is removed, so no half-written output is ever left.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise InputError(f"output folder does not exist: {parent}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + _suffixes(path), dir=parent)
    except OSError as exc:  # read-only folder, a file where the folder should be, disk full
        raise InputError(f"cannot write {path}: {exc.strerror or type(exc).__name__} ({parent})") from None
    os.close(fd)
    os.unlink(tmp)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if not tmp_path.exists():
            raise RuntimeError(f"writer produced no file for {path}")
        if path.is_dir() and not tmp_path.is_dir():
            raise InputError(f"output {path} is an existing folder")
        with signals_blocked():
            _swap_into_place(tmp_path, path)
    finally:
        with signals_blocked():
            if tmp_path.exists():
                shutil.rmtree(tmp_path, ignore_errors=True) if tmp_path.is_dir() else tmp_path.unlink()


def _swap_into_place(tmp_path: Path, path: Path) -> None:
    """Rename ``tmp_path`` to ``path``; an earlier folder is moved aside first and removed only after."""
    if tmp_path.is_dir() and path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
        os.rmdir(old)
        os.replace(path, old)
        try:
            os.replace(tmp_path, path)
        except BaseException:
            os.replace(old, path)  # put the earlier result back
            raise
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()
    else:
        os.replace(tmp_path, path)


@contextlib.contextmanager
def signals_blocked() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while outputs are swapped or cleaned up (delivered right after)."""
    import signal
    import threading

    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    mask = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, mask)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def check_not_input(output: PathLike, inputs: Iterable[PathLike | None]) -> None:
    """Refuse an output path that names (or lies inside) one of the inputs."""
    out = Path(output).resolve()
    for item in inputs:
        if item is None:
            continue
        src = Path(item).resolve()
        # the same path, an output inside an input folder, or an output folder that holds an input
        if out == src or src in out.parents or out in src.parents:
            raise InputError(f"refusing to overwrite the input {item}: choose another output path")
