"""cardiacmotion phantom (placeholder until issue 3 lands)."""
from __future__ import annotations

import argparse

from cardiacmotion.cli.common import add_common
from cardiacmotion.errors import NotAvailableError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("phantom", help="synthetic cine MR / echo with exact ground truth")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise NotAvailableError("'phantom' is not built yet in this version")
