"""``cardiacmotion`` entry point: sub-command dispatch and the one-line-error rule."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Optional, Sequence

from cardiacmotion import __version__
from cardiacmotion.errors import CardiacMotionError, InputError

#: exit codes of a run stopped by a signal (128 + the signal number, as shells report them)
EXIT_SIGINT, EXIT_SIGTERM = 130, 143


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM (the Slicer module's Cancel) so cleanups run."""


def _install_signal_handlers() -> None:
    """SIGTERM raises :class:`Terminated`, SIGINT KeyboardInterrupt; a repeated signal is ignored
    while the first one unwinds (so the removal of partial outputs is not cut short)."""
    import signal

    def stop(signum, frame):  # noqa: ARG001 - signal handler signature
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise (KeyboardInterrupt() if signum == signal.SIGINT else Terminated())

    try:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    except ValueError:  # not the main thread (an embedding application): leave its handlers
        pass


class _QuietLibraries:
    """Send what C/C++ libraries print on file descriptor 2 (ffmpeg, ITK, VTK) to a temporary file,
    and Python warnings nowhere, so stderr carries our own lines only; ``--debug`` skips this."""

    def __init__(self, active: bool):
        self.active = active and sys.stderr is sys.__stderr__ and _fileno(sys.stderr) == 2
        self.saved = None

    def __enter__(self) -> "_QuietLibraries":
        if not self.active:
            return self
        import tempfile
        import warnings

        sys.stderr.flush()
        self.saved = os.dup(2)
        self.sink = tempfile.TemporaryFile()
        os.dup2(self.sink.fileno(), 2)
        self.stream = os.fdopen(os.dup(self.saved), "w", buffering=1, errors="backslashreplace")
        sys.stderr = self.stream
        self.warnings = warnings.catch_warnings()
        self.warnings.__enter__()
        warnings.simplefilter("ignore")
        import logging

        self.log_level = logging.getLogger().level
        logging.getLogger().setLevel(logging.CRITICAL)  # nibabel and others log repairs at WARNING
        return self

    def __exit__(self, *exc) -> None:
        if not self.active or self.saved is None:
            return
        self.warnings.__exit__(*exc)
        import logging

        logging.getLogger().setLevel(self.log_level)
        try:
            self.stream.flush()
        except (OSError, ValueError):  # closed after a broken pipe
            pass
        sys.stderr = sys.__stderr__
        os.dup2(self.saved, 2)
        os.close(self.saved)
        try:
            self.stream.close()
        except (OSError, ValueError):
            pass
        self.sink.close()


def _fileno(stream) -> int:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return -1

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
    import signal

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    _install_signal_handlers()
    try:
        with _QuietLibraries(not debug):
            return _run(args, debug)
    finally:
        for signum, handler in previous.items():
            try:
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
            except ValueError:
                pass


def _finite_numbers(args: argparse.Namespace) -> None:
    """No option takes NaN or infinity (argparse's ``type=float`` accepts both)."""
    import math

    for name, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, float) and not math.isfinite(v) for v in values):
            raise InputError(f"--{name.replace('_', '-')} must be a finite number, got {value}")


def _run(args: argparse.Namespace, debug: bool) -> int:
    try:
        _finite_numbers(args)
        return int(args.func(args) or 0)
    except CardiacMotionError as exc:
        if debug:
            raise
        print(f"cardiacmotion: error: {_one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # output piped into `head` and closed: not an error of ours
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("cardiacmotion: interrupted (partial outputs removed)", file=sys.stderr)
        return EXIT_SIGINT
    except Terminated:
        print("cardiacmotion: terminated (partial outputs removed)", file=sys.stderr)
        return EXIT_SIGTERM
    except MemoryError:
        print("cardiacmotion: error: out of memory (try a smaller crop or --device cpu)", file=sys.stderr)
        return 1
    except OSError as exc:  # a file or folder the system refuses (permissions, missing, not a folder...)
        if debug or not (exc.filename or exc.strerror):
            if debug:
                raise
            print(f"cardiacmotion: internal error: {type(exc).__name__}: {_one_line(exc)} (rerun with --debug for details)", file=sys.stderr)
            return 70
        print(f"cardiacmotion: error: {exc.strerror or type(exc).__name__}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except RecursionError:  # e.g. a pathological input structure: still one line
        if debug:
            raise
        print("cardiacmotion: error: the input is nested too deeply to process", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the one-line rule holds for bugs too
        if debug:
            raise
        print(f"cardiacmotion: internal error: {type(exc).__name__}: {_one_line(exc)} (rerun with --debug for details)", file=sys.stderr)
        return 70


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:500]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
