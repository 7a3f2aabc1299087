"""cardiacmotion benchmark (placeholder until issue 4 lands)."""
from __future__ import annotations

import argparse

from cardiacmotion.cli.common import add_common
from cardiacmotion.errors import NotAvailableError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("benchmark", help="speed and memory of the methods on the same cases")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise NotAvailableError("'benchmark' is not built yet in this version")
