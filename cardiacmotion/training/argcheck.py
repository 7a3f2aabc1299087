"""``train`` / ``evaluate`` arguments checked before any data is built (one line, exit 2 or 4).

Building phantoms and reading studies takes minutes; a ``--batch 0`` or a ``--init`` file that is
not a checkpoint must fail before that, not after.
"""
from __future__ import annotations

import argparse
import math

from cardiacmotion.errors import InputError

#: option -> smallest allowed value (ints)
_AT_LEAST = {"batch": 1, "epochs": 1, "iterations": 1, "threads": 1, "size": 16, "workers": 0, "seed": 0,
             "mr_phantoms": 0, "echo_phantoms": 0, "eval_mr": 0, "eval_echo": 0}
_NON_NEGATIVE_FLOATS = ("minutes", "max_minutes", "flow_weight")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_train_args(verb: str, target: str, args: argparse.Namespace) -> None:
    """Raise :class:`InputError` (or ``WeightsError`` for ``--init``) on an impossible argument."""
    for name, low in _AT_LEAST.items():
        value = getattr(args, name, None)
        if value is not None and value < low:
            raise InputError(f"{verb} {target}: {_flag(name)} must be at least {low}, got {value}")
    size = getattr(args, "size", None)
    if target == "propagation" and size is not None and size % 16:
        raise InputError(f"{verb} {target}: --size must be a multiple of 16, got {size}")
    lr = getattr(args, "lr", None)
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise InputError(f"{verb} {target}: --lr must be a positive number, got {lr}")
    for name in _NON_NEGATIVE_FLOATS:
        value = getattr(args, name, None)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise InputError(f"{verb} {target}: {_flag(name)} must be a non-negative number, got {value}")
    fraction = getattr(args, "real_fraction", None)
    if fraction is not None and not (math.isfinite(fraction) and 0 <= fraction <= 1):
        raise InputError(f"{verb} {target}: --real-fraction must lie in [0, 1], got {fraction}")
    if verb == "train":
        from cardiacmotion.io.outputs import check_output

        for name in ("out", "output"):
            if getattr(args, name, None):
                check_output(getattr(args, name), suffixes=(".pt",), option=_flag(name))
    if verb == "evaluate" and getattr(args, "json", None):
        from cardiacmotion.io.outputs import check_output

        check_output(args.json, suffixes=(".json",), option="--json")
    init = getattr(args, "init", None)
    if verb == "train" and init:
        _check_init(target, init)
    if verb == "evaluate" and getattr(args, "weights", None):
        _check_init(target, args.weights)


def _check_init(target: str, path: str) -> None:
    """Load ``--init`` with the target's own loader (digest, structure, finite values, architecture)."""
    if target == "propagation":
        from cardiacmotion.propagation.memory import load_network

        load_network(path)
    elif target == "scoring":
        from cardiacmotion.scoring.learned import load_model

        load_model(path)
