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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + _suffixes(path), dir=parent)
    os.close(fd)
    os.unlink(tmp)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if not tmp_path.exists():
            raise RuntimeError(f"writer produced no file for {path}")
        if path.is_dir() and not tmp_path.is_dir():
            raise InputError(f"output {path} is an existing folder")
        if tmp_path.is_dir() and path.exists():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            shutil.rmtree(tmp_path) if tmp_path.is_dir() else tmp_path.unlink()


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
