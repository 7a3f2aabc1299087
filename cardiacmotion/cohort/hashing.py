"""Content hash of a study's inputs and options: a finished study is skipped only when its
files, its options and the product version are all unchanged."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Iterable, Mapping

_CHUNK = 1 << 20


def _update_file(h: "hashlib._Hash", path: Path) -> None:
    with open(path, "rb") as f:
        while True:
            block = f.read(_CHUNK)
            if not block:
                break
            h.update(block)


def hash_paths(paths: Iterable[str]) -> str:
    """sha256 over every file (folders: every file below, by relative name) of ``paths``.

    A missing path hashes as its name plus ``<missing>``, so the study still gets a key (and
    then fails with its own reason when it runs).
    """
    h = hashlib.sha256()
    for p in paths:
        path = Path(p)
        h.update(b"\0path\0" + path.name.encode())
        if path.is_file():
            _update_file(h, path)
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    f = Path(root) / name
                    h.update(b"\0file\0" + str(f.relative_to(path)).encode())
                    _update_file(h, f)
        else:
            h.update(b"<missing>")
    return h.hexdigest()


def study_key(input_hash: str, options: Mapping, version: str) -> str:
    """The resume key: inputs, study and run options, product version."""
    blob = json.dumps({"inputs": input_hash, "options": dict(options), "version": version}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
