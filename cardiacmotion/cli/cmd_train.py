"""cardiacmotion train TARGET ... / cardiacmotion evaluate TARGET ...

Each target is a module ``cardiacmotion.training.train_<target>`` exposing
``HELP``, ``add_arguments(parser)``, ``train(args) -> int`` and optionally ``evaluate(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil

from cardiacmotion.cli.common import add_common


def _targets() -> dict:
    import cardiacmotion.training as training

    found = {}
    for info in pkgutil.iter_modules(training.__path__):
        if info.name.startswith("train_"):
            found[info.name[len("train_"):]] = f"cardiacmotion.training.{info.name}"
    return found


def _add(sub: argparse._SubParsersAction, verb: str):
    """The ``verb`` parser with one sub-parser per training module; returns its sub-parsers (to add more)."""
    p = sub.add_parser(verb, help=f"{verb} a learned model (targets: {', '.join(sorted(_targets())) or 'none yet'})")
    tsub = p.add_subparsers(dest="target", metavar="TARGET", parser_class=type(p))
    for target, modname in sorted(_targets().items()):
        module = importlib.import_module(modname)
        if verb == "evaluate" and not hasattr(module, "evaluate"):
            continue
        tp = tsub.add_parser(target, help=getattr(module, "HELP", target))
        module.add_arguments(tp)
        add_common(tp)
        tp.set_defaults(func=_checked(verb, target, getattr(module, "train" if verb == "train" else "evaluate")))
    return tsub


def _checked(verb: str, target: str, func):
    """Run the argument checks (cardiacmotion.training.argcheck) before the target's own code."""
    def run(args: argparse.Namespace) -> int:
        from cardiacmotion.training.argcheck import check_train_args

        check_train_args(verb, target, args)
        return func(args)

    return run


def add_parser(sub: argparse._SubParsersAction) -> None:
    _add(sub, "train")
