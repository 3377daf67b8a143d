"""The events a sandboxed child sends the grading process: typed records, one module both sides import.

The child builds them with the constructors and sends `to_json()`; the grading
process rebuilds them with `from_json`, which checks every field's type and
size and raises `Malformed` for anything else (a child is untrusted: a forged
or broken event is a protocol fault for its exercise, never a crash here).
Standard library only: this module runs in the sandbox too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_TEXT = 64 * 1024
MAX_REFUSALS = 50
REFUSAL_KINDS = ("import", "read", "write", "compile", "event", "state")
IMPORT_FAILURES = ("syntax", "policy", "error")


class Malformed(ValueError):
    """An event that is not what the protocol allows."""


def _text(data: dict, key: str, limit: int = MAX_TEXT) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise Malformed(f"{key!r} must be a string")
    return value[:limit]


def _refusals(data: dict) -> list[dict]:
    items = data.get("refusals", [])
    if not isinstance(items, list) or len(items) > MAX_REFUSALS:
        raise Malformed("'refusals' must be a short list")
    out = []
    for item in items:
        if not (isinstance(item, dict) and isinstance(item.get("what"), str) and isinstance(item.get("file"), str)
                and type(item.get("line")) is int and item.get("kind") in REFUSAL_KINDS):
            raise Malformed("a refusal must be {file, line, what, kind}")
        out.append({"file": item["file"][:200], "line": item["line"], "what": item["what"][:300],
                    "kind": item["kind"]})
    return out


@dataclass
class Imported:
    """The exercise's module loaded (its top level ran)."""

    exercise: str
    output: str = ""
    refusals: list[dict] = field(default_factory=list)
    ev = "imported"

    def to_json(self) -> dict:
        return {"ev": self.ev, "exercise": self.exercise, "output": self.output, "refusals": self.refusals}


@dataclass
class ImportError_:
    """The exercise's module could not be loaded: a syntax error, a policy refusal, or an exception at import."""

    exercise: str
    kind: str
    message: str
    where: str = ""
    output: str = ""
    refusals: list[dict] = field(default_factory=list)
    ev = "import_error"

    def to_json(self) -> dict:
        return {"ev": self.ev, "exercise": self.exercise, "kind": self.kind, "message": self.message,
                "where": self.where, "output": self.output, "refusals": self.refusals}


@dataclass
class Record:
    """What one check observed of the student's code."""

    exercise: str
    check: str
    record: dict
    output: str = ""
    refusals: list[dict] = field(default_factory=list)
    ev = "record"

    def to_json(self) -> dict:
        return {"ev": self.ev, "exercise": self.exercise, "check": self.check, "record": self.record,
                "output": self.output, "refusals": self.refusals}


Event = Imported | ImportError_ | Record


def _record(value: Any) -> dict:
    if not isinstance(value, dict):
        raise Malformed("'record' must be an object")
    observations, inputs = value.get("observations"), value.get("inputs", [])
    if not isinstance(observations, list) or not all(isinstance(o, dict) and isinstance(o.get("kind"), str)
                                                     for o in observations):
        raise Malformed("'record.observations' must be a list of observations")
    observations = [_observation(o) for o in observations]
    if not isinstance(inputs, list) or not all(isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p)
                                               for p in inputs):
        raise Malformed("'record.inputs' must be a list of [name, text] pairs")
    return {"observations": observations, "inputs": inputs}


def _observation(obs: dict) -> dict:
    """An observation as the judge may read it: a name (named matching) is a short string; the child
    never sends tracebacks (only the grading process's own reference run keeps them)."""
    name = obs.get("name")
    if name is not None and not (isinstance(name, str) and 0 < len(name) <= 200):
        raise Malformed("an observation's 'name' must be a short string")
    if obs.get("kind") == "broken" and obs.get("origin") not in (None, "grader", "engine"):
        raise Malformed("a broken observation's 'origin' must be 'grader' or 'engine'")
    return {k: v for k, v in obs.items() if k != "traceback"}


def from_json(data: Any) -> Event:
    """The typed event for a decoded frame, or Malformed."""
    if not isinstance(data, dict):
        raise Malformed("an event must be an object")
    ev = data.get("ev")
    exercise = _text(data, "exercise", 200)
    common = {"output": _text(data, "output"), "refusals": _refusals(data)}
    if ev == "imported":
        return Imported(exercise, **common)
    if ev == "import_error":
        kind = data.get("kind")
        if kind not in IMPORT_FAILURES:
            raise Malformed(f"unknown import failure {kind!r}")
        return ImportError_(exercise, kind, _text(data, "message", 2000), _text(data, "where", 300), **common)
    if ev == "record":
        return Record(exercise, _text(data, "check", 200), _record(data.get("record")), **common)
    raise Malformed(f"unknown event {str(ev)[:40]!r}")
