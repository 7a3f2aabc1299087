"""JSON inputs checked at the boundary: a small schema validator with one-line reasons.

A schema is a plain dict in a subset of JSON Schema: ``type`` (object, array, string, number,
integer, boolean), ``properties``, ``required``, ``items``, ``minItems``/``maxItems``, ``enum``,
``exclusiveMinimum``. Numbers must be finite and never booleans. Every JSON file the product reads
goes through :func:`load_json` + :func:`validate`, so no malformed structure reaches code that
assumes a type. Unknown keys are allowed (files written by newer versions or other tools).
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Callable, Union

from cardiacmotion.errors import CardiacMotionError, InputError

PathLike = Union[str, os.PathLike]

#: JSON inputs are small documents; anything larger is not one of ours.
MAX_JSON_BYTES = 64 * 2**20
_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
}
_NAMES = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
          float: "a number", type(None): "null"}


def _describe(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return _NAMES.get(type(value), type(value).__name__)


def find_error(value: Any, schema: dict, where: str = "") -> str | None:
    """The first violation as ``'<path> must be ..., got ...'``; None when ``value`` fits."""
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, (list, tuple)) else [kind]
        if not any(value is None if k == "null" else _TYPES[k](value) for k in kinds):
            want = " or ".join("a finite number" if k == "number" else f"{'an' if k[0] in 'aeiou' else 'a'} {k}" for k in kinds)
            return f"{where or 'the document'} must be {want}, got {_describe(value)}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where or 'the value'} must be one of {', '.join(map(str, schema['enum']))}, got {value!r}"[:200]
    if "exclusiveMinimum" in schema and isinstance(value, (int, float)) and not value > schema["exclusiveMinimum"]:
        return f"{where} must be greater than {schema['exclusiveMinimum']}, got {value!r}"
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                return f"{where + '.' if where else ''}{key} is missing"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                err = find_error(value[key], sub, f"{where}.{key}" if where else key)
                if err:
                    return err
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            return f"{where or 'the list'} needs at least {schema['minItems']} item(s), got {len(value)}"
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return f"{where or 'the list'} has at most {schema['maxItems']} item(s), got {len(value)}"
        if "items" in schema:
            for n, item in enumerate(value):
                err = find_error(item, schema["items"], f"{where}[{n}]")
                if err:
                    return err
    return None


def validate(value: Any, schema: dict, what: str, error: type = InputError) -> Any:
    """Return ``value`` when it fits ``schema``; else raise ``error('<what>: <reason>')``."""
    reason = find_error(value, schema)
    if reason:
        raise error(f"{what}: {reason}")
    return value


def parse_json(text: Union[str, bytes], what: str, error: type = InputError) -> Any:
    """``json.loads`` whose every failure (syntax, encoding, nesting, NaN) is one ``error`` line."""
    def no_constants(name: str) -> None:
        raise ValueError(f"{name} is not valid JSON")

    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text, parse_constant=no_constants)
    except RecursionError:
        raise error(f"{what}: the JSON is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise error(f"{what} is not valid JSON ({first[:120]})") from None


def load_json(path: PathLike, what: str, schema: dict | None = None, error: type = InputError) -> Any:
    """Read, parse and (with ``schema``) validate one JSON file; every failure is one ``error`` line."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_JSON_BYTES:
            raise error(f"{what} {path}: {size} bytes is far too large for this kind of file")
        raw = p.read_bytes()
    except CardiacMotionError:
        raise
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or type(exc).__name__}") from None
    data = parse_json(raw, f"{what} {path}", error)
    return validate(data, schema, f"{what} {path}", error) if schema else data


_NUMBER = {"type": "number"}
_POSITIVE = {"type": "number", "exclusiveMinimum": 0}

#: The JSON extension CardiacMotion writes into NIfTI files (frame times, modality, view).
NIFTI_META = {
    "type": "object",
    "properties": {
        "frame_times_ms": {"type": "array", "items": _NUMBER},
        "modality": {"type": "string"},
        "view": {"type": "string"},
        "slice_thickness_mm": _POSITIVE,
    },
}

_CONTROL_POINT = {
    "type": "object",
    "properties": {
        "label": {"type": "string"},
        "positionStatus": {"type": "string"},
        "position": {"type": "array", "items": _NUMBER, "minItems": 3, "maxItems": 3},
    },
}

#: Slicer markups JSON, the parts read here (first node's coordinate system and control points).
MARKUPS = {
    "type": "object",
    "required": ["markups"],
    "properties": {
        "markups": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "coordinateSystem": {"type": "string"},
                    "controlPoints": {"type": "array", "items": _CONTROL_POINT},
                },
            },
        }
    },
}

#: ``Resources/Models/models.json``.
MODELS_MANIFEST = {
    "type": "object",
    "required": ["models"],
    "properties": {
        "models": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "file"],
                "properties": {
                    "id": {"type": "string"},
                    "file": {"type": "string"},
                    "sha256": {"type": "string"},
                    "architecture": {"type": "string"},
                    "config": {"type": "object"},
                },
            },
        }
    },
}


def schema_checker(schema: dict, what: str, error: type = InputError) -> Callable[[Any], Any]:
    """``check(value)`` for one schema (for callers that parse JSON themselves)."""
    return lambda value: validate(value, schema, what, error)
