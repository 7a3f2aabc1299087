"""cardiacmotion evaluate TARGET ...

Targets: every ``cardiacmotion.training.train_<target>`` module with an ``evaluate(args)``
(``propagation``, ``scoring``: one model on held-out phantoms), plus the modules of
:data:`EVALUATION_TARGETS`, each exposing ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``
(``table``: every method side by side on the three kinds of evidence, DESIGN.md section 8).
Add a target by adding a line there (e.g. an echo evaluation).
"""
from __future__ import annotations

import argparse
import importlib

from cardiacmotion.cli.cmd_train import _add
from cardiacmotion.cli.common import add_common

#: target name -> module with HELP, add_arguments(parser), run(args)
EVALUATION_TARGETS = {
    "table": "cardiacmotion.evaluation.table",
    "autostart": "cardiacmotion.evaluation.autostart",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    tsub = _add(sub, "evaluate")
    for target, modname in sorted(EVALUATION_TARGETS.items()):
        try:
            module = importlib.import_module(modname)
        except ImportError:
            continue
        tp = tsub.add_parser(target, help=getattr(module, "HELP", target))
        module.add_arguments(tp)
        add_common(tp)
        tp.set_defaults(func=module.run)
    from cardiacmotion.echo.evaluate_cli import add_echo_target

    add_echo_target(sub.choices["evaluate"])
