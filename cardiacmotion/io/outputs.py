"""Every output path checked before any work, and every output of a failed run removed.

``check_outputs`` is the one check all commands run on all their outputs (``-o``, ``--plot``,
``--bullseye``, ``--csv``, ``--info-json``...) before reading anything heavy: the parent folder
exists and is writable, a file is not an existing folder (and a folder not a file), the suffix
is one the writer knows, no output names or lies inside an input, and outputs differ.
``OutputGuard`` then records what a run writes; when the run fails (an error, Ctrl-C, SIGTERM)
it removes what it created and puts back what it replaced, so outputs appear whole or not at all.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

from cardiacmotion.errors import InputError

PathLike = Union[str, os.PathLike]

IMAGE_SUFFIXES = (".nii.gz", ".nii", ".seq.nrrd")


def _has_suffix(path: Path, suffixes: Sequence[str]) -> bool:
    name = path.name.lower()
    return any(name.endswith(s) and len(name) > len(s) for s in suffixes)


def check_output(path: PathLike, inputs: Iterable[Optional[PathLike]] = (), suffixes: Sequence[str] = (),
                 folder: bool = False, option: str = "-o") -> Path:
    """Check one output path (see the module doc); returns it as a Path.

    Raises:
        InputError: with the option name and a one-line reason.
    """
    from cardiacmotion.io.atomic import check_not_input

    p = Path(path)
    if not str(path).strip():
        raise InputError(f"{option}: empty output path")
    check_not_input(p, list(inputs))  # first: the most important reason to refuse
    if suffixes and not folder and not _has_suffix(p, suffixes):
        raise InputError(f"{option} {path}: unknown output type (expected {' or '.join(suffixes)})")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise InputError(f"{option} {path}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise InputError(f"{option} {path}: {parent} is a file, not a folder")
    if not _writable(parent):
        raise InputError(f"{option} {path}: the folder {parent} is not writable")
    if folder and p.exists() and not p.is_dir():
        raise InputError(f"{option} {path}: exists and is a file, not a folder")
    if not folder and p.is_dir():
        raise InputError(f"{option} {path}: is an existing folder, expected a file name")
    if p.exists() and not folder and not os.access(p, os.W_OK):
        raise InputError(f"{option} {path}: exists and is read-only")
    return p


def _writable(folder: Path) -> bool:
    """Create and remove a hidden file: the only test that holds for root and read-only mounts."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        fd, name = tempfile.mkstemp(prefix=".cardiacmotion-write-test.", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


def check_outputs(outputs: Sequence[tuple], inputs: Iterable[Optional[PathLike]] = ()) -> None:
    """Check ``[(path, option, suffixes[, folder]), ...]`` (``None`` paths skipped) and that they differ."""
    inputs = list(inputs)
    seen: dict = {}
    for item in outputs:
        path, option, suffixes = item[:3]
        folder = bool(item[3]) if len(item) > 3 else False
        if path is None:
            continue
        p = check_output(path, inputs, suffixes, folder=folder, option=option)
        key = str(p.resolve())
        if key in seen:
            raise InputError(f"{option} and {seen[key]} name the same file {path}: the outputs must differ")
        seen[key] = option


class OutputGuard:
    """Context manager: on failure, remove the outputs a run created and restore those it replaced.

    Existing outputs are hard-linked (or copied) to a hidden backup at the start; writers replace
    files by rename (``atomic_output``), so the backup keeps the earlier content. On success the
    backups are dropped.
    """

    def __init__(self, paths: Iterable[Optional[PathLike]]):
        self.paths = [Path(p) for p in paths if p is not None]
        self._backups: dict[Path, Optional[Path]] = {}
        self._existed: set = set()

    def __enter__(self) -> "OutputGuard":
        for p in self.paths:
            backup = None
            if p.exists():
                self._existed.add(p)
            if p.is_file():
                fd, name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".bak", dir=p.parent)
                os.close(fd)
                os.unlink(name)
                try:
                    os.link(p, name)
                except OSError:
                    shutil.copy2(p, name)
                backup = Path(name)
            self._backups[p] = backup
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        from cardiacmotion.io.atomic import signals_blocked

        with signals_blocked():
            for p, backup in self._backups.items():
                if exc_type is not None:
                    if backup is not None:
                        os.replace(backup, p)
                        continue
                    if p in self._existed:
                        continue  # an earlier folder: never removed (writers swap folders whole)
                    if p.is_dir() and not p.is_symlink():
                        shutil.rmtree(p, ignore_errors=True)
                    elif p.exists() or p.is_symlink():
                        p.unlink()
                elif backup is not None and backup.exists():
                    backup.unlink()
        return False
