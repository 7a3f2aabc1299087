"""cardiacmotion demo (placeholder until issue 9 lands)."""
from __future__ import annotations

import argparse

from cardiacmotion.cli.common import add_common
from cardiacmotion.errors import NotAvailableError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="synthetic MR and echo cases through analyze")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise NotAvailableError("'demo' is not built yet in this version")
