"""Options every command shares, and the small helpers commands use."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cardiacmotion.progress import Progress


def add_common(p: argparse.ArgumentParser) -> None:
    """--device and --progress, on every command."""
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    p.add_argument(
        "--progress",
        default="auto",
        choices=["auto", "bar", "json", "none"],
        help="progress as a bar on a terminal (auto), JSON lines on stdout (json), or none",
    )


def make_progress(args: argparse.Namespace) -> Progress:
    return Progress(getattr(args, "progress", "auto"))


def write_json(data: Any, path: str | Path) -> None:
    """Write JSON atomically (never a half-written output)."""
    from cardiacmotion.io.atomic import atomic_output

    with atomic_output(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=2) + "\n")


def say(args: argparse.Namespace, message: str) -> None:
    """A human message: stderr, so ``--progress json`` stdout stays machine-readable."""
    import sys

    print(message, file=sys.stderr)


def add_series(p: argparse.ArgumentParser) -> None:
    """--series, on every command that reads an image: which cine of a DICOM folder."""
    p.add_argument("--series", default=None,
                   help="a DICOM folder's series: its index in `cardiacmotion info FOLDER` or its SeriesInstanceUID "
                        "(a folder with several cine series is refused without it)")
