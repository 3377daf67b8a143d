"""One clear error per spec mistake, naming the file and the field; never a traceback."""

from __future__ import annotations

import difflib
from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class SpecError(Exception):
    """A course file is wrong. The message names the file and the field."""


def field_path(loc: tuple) -> str:
    """Render a pydantic location like ('checks', 3, 'points') as 'checks[3].points'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _explain(err: dict, known_fields: list[str]) -> str:
    """Turn one pydantic error into plain words for a course author."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        name = str(err["loc"][-1])
        close = difflib.get_close_matches(name, known_fields, n=1)
        return "is not a known field" + (f" (did you mean '{close[0]}'?)" if close else "")
    if kind in ("greater_than", "greater_than_equal"):
        bound = ctx.get("gt", ctx.get("ge"))
        if bound == 0:
            return "must be a positive number" if kind == "greater_than" else "must be zero or more"
        return f"must be {'greater than' if kind == 'greater_than' else 'at least'} {bound}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be a whole number"
    if kind in ("float_type", "float_parsing"):
        return "must be a number"
    if kind in ("string_type",):
        return "must be text"
    if kind in ("list_type", "tuple_type"):
        return "must be a list"
    if kind in ("dict_type", "model_type"):
        return "must be a mapping (key: value pairs)"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"):
        return "must be a date and time like 2026-12-15T23:59:00+00:00"
    if kind in ("string_pattern_mismatch",):
        return f"must match the pattern {ctx.get('pattern')}"
    if kind in ("too_short",):
        return f"must have at least {ctx.get('min_length')} item(s)"
    msg = err.get("msg", "is invalid")
    return msg[len("Value error, "):] if msg.startswith("Value error, ") else msg


def from_validation_error(path: Path | str, exc: ValidationError, vocabulary: list[str]) -> SpecError:
    """Build a SpecError listing every problem of one file, one line each.

    `vocabulary` is every field name the schema knows, for "did you mean" suggestions.
    """
    lines = []
    for err in exc.errors():
        where = f"{field_path(tuple(err['loc']))}: " if err["loc"] else ""
        lines.append(f"{path}: {where}{_explain(err, vocabulary)}")
    return SpecError("\n".join(lines))
