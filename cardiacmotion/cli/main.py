"""``cardiacmotion`` entry point: sub-command dispatch and the one-line-error rule."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Optional, Sequence

from cardiacmotion import __version__
from cardiacmotion.errors import CardiacMotionError

#: Each command lives in ``cardiacmotion.cli.cmd_<name>`` with ``add_parser(sub)``.
COMMANDS = ("info", "segment", "function", "score", "analyze", "demo", "phantom", "train", "evaluate", "benchmark",
            "landmarks", "batch")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every other bad input
        self.exit(2, f"cardiacmotion: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cardiacmotion", description="4D cardiac motion analysis (cine MR and echo).")
    parser.add_argument("--version", action="version", version=f"cardiacmotion {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"cardiacmotion.cli.cmd_{name}")
        except ImportError:
            continue
        module.add_parser(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    from cardiacmotion.threads import apply_thread_policy

    apply_thread_policy()  # before any library starts its thread pool
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    debug = args.debug or bool(os.environ.get("CARDIACMOTION_DEBUG"))
    try:
        return int(args.func(args) or 0)
    except CardiacMotionError as exc:
        if debug:
            raise
        print(f"cardiacmotion: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # output piped into `head` and closed: not an error of ours
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("cardiacmotion: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("cardiacmotion: error: out of memory (try a smaller crop or --device cpu)", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the one-line rule holds for bugs too
        if debug:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(f"cardiacmotion: internal error: {type(exc).__name__}: {first} (rerun with --debug for details)", file=sys.stderr)
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
