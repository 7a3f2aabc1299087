"""cardiacmotion evaluate TARGET ... (see cmd_train)."""
from __future__ import annotations

import argparse

from cardiacmotion.cli.cmd_train import _add


def add_parser(sub: argparse._SubParsersAction) -> None:
    _add(sub, "evaluate")
    from cardiacmotion.echo.evaluate_cli import add_echo_target

    add_echo_target(sub.choices["evaluate"])
