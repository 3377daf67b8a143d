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

# The other way, in the zygote's init (run/init.grader_init -> run/child.prepare): when it warms torch.func up.
WARM_BEFORE = "before"  # before its first child: the otter plugin, `check` of code that names torch.func
WARM_AFTER_FIRST = "after-first"  # once its first child is answered (a class: its first result a second
#                                   sooner); grading.py grades again a student that lean child refused anything
WARM_NEVER = "never"  # `check` of code that does not name it (run/init.may_need_torch_func)
WARM_FUNC = (WARM_BEFORE, WARM_AFTER_FIRST, WARM_NEVER)


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
    record: TrialRecord
    output: str = ""
    refusals: list[dict] = field(default_factory=list)
    ev = "record"

    def to_json(self) -> dict:
        return {"ev": self.ev, "exercise": self.exercise, "check": self.check, "record": self.record.to_json(),
                "output": self.output, "refusals": self.refusals}


Event = Imported | ImportError_ | Record


# -- what a trial observed: one record per check, the same types on both sides ---------------------------------
@dataclass(frozen=True)
class Value:
    """A value compared by its kind (judge/compare.py): `value` is its JSON encoding (rubric/encode.py)."""

    what: str
    value: Any
    hint: str | None = None
    name: str | None = None
    check_dtype: bool = True  # read from the reference's record only (judge/verdict.py)
    kind = "tensor"

    def to_json(self) -> dict:
        out = {"kind": self.kind, "what": self.what, "value": self.value, "hint": self.hint}
        if not self.check_dtype:
            out["check_dtype"] = False
        return _named(out, self.name)


@dataclass(frozen=True)
class Fact:
    """A plain value (bool, number, string, None, or a list of them), shown to the learner as `show`.

    `role="returns"` marks the kind of what a `t.call` returned (facts.kind): one wording for every
    wrong return type, and a number's kind counts as a number."""

    what: str
    value: Any
    show: str
    hint: str | None = None
    name: str | None = None
    role: str | None = None
    kind = "fact"

    def to_json(self) -> dict:
        out = {"kind": self.kind, "what": self.what, "value": self.value, "show": self.show, "hint": self.hint}
        if self.role:
            out["role"] = self.role
        return _named(out, self.name)


@dataclass(frozen=True)
class Raised:
    """Student code raised (in `t.call`, in `t.run`, or wherever the traceback says it ran): the trial ends."""

    function: str
    error: str
    message: str
    where: str | None = None
    not_implemented: bool = False
    banned: bool = False
    missing: bool = False
    name: str | None = None  # never set: errors pair with whatever the student's trial stopped at
    kind = "error"

    def to_json(self) -> dict:
        return {"kind": self.kind, "function": self.function, "error": self.error, "message": self.message,
                "where": self.where, "not_implemented": self.not_implemented, "banned": self.banned,
                "missing": self.missing}


@dataclass(frozen=True)
class Broken:
    """The check could not go on; `origin` says whose code raised: "grader" (the check's) or "engine" (ours).

    `traceback` is kept by the grading process's own reference run only (the child never sends one:
    it would hold the child's paths)."""

    error: str
    message: str
    origin: str = "engine"
    where: str | None = None
    traceback: str | None = None
    name: str | None = None
    kind = "broken"

    def to_json(self) -> dict:
        out = {"kind": self.kind, "error": self.error, "message": self.message, "origin": self.origin}
        if self.where:
            out["where"] = self.where
        if self.traceback:
            out["traceback"] = self.traceback
        return out


Observation = Value | Fact | Raised | Broken
ENDS_A_TRIAL = (Raised, Broken)
MAX_OBSERVATIONS = 10_000


@dataclass(frozen=True)
class TrialRecord:
    """Everything one check observed of one implementation, and the inputs it was given (name, shown text)."""

    observations: tuple[Observation, ...]
    inputs: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict:
        return {"observations": [o.to_json() for o in self.observations], "inputs": [list(p) for p in self.inputs]}

    @classmethod
    def from_json(cls, data: Any, *, keep_tracebacks: bool = False) -> "TrialRecord":
        """The record a JSON object describes, or Malformed; tracebacks are dropped unless asked for
        (a child's record never carries one; a stored reference's may)."""
        if not isinstance(data, dict):
            raise Malformed("'record' must be an object")
        observations, inputs = data.get("observations"), data.get("inputs", [])
        if not isinstance(observations, list) or len(observations) > MAX_OBSERVATIONS:
            raise Malformed("'record.observations' must be a list of observations")
        if not isinstance(inputs, list) or not all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in inputs):
            raise Malformed("'record.inputs' must be a list of [name, text] pairs")
        return cls(tuple(_observation(o, keep_tracebacks) for o in observations), tuple(tuple(p) for p in inputs))


def _named(out: dict, name: str | None) -> dict:
    if name is not None:
        out["name"] = name
    return out


def _opt_text(obs: dict, key: str, limit: int = MAX_TEXT) -> str | None:
    return None if obs.get(key) is None else _text(obs, key, limit)


def _flag(obs: dict, key: str) -> bool:
    value = obs.get(key, False)
    if type(value) is not bool:
        raise Malformed(f"an observation's {key!r} must be true or false")
    return value


def _observation(obs: Any, keep_traceback: bool) -> Observation:
    """One observation as the judge may read it, every field type-checked."""
    if not isinstance(obs, dict):
        raise Malformed("an observation must be an object")
    kind, name = obs.get("kind"), obs.get("name")
    if name is not None and not (isinstance(name, str) and 0 < len(name) <= 200):
        raise Malformed("an observation's 'name' must be a short string")
    if kind == "tensor":
        return Value(_text(obs, "what", 500), obs.get("value"), _opt_text(obs, "hint"), name,
                     obs.get("check_dtype", True) is not False)
    if kind == "fact":
        role = obs.get("role")
        if role not in (None, "returns"):
            raise Malformed("a fact's 'role' must be 'returns'")
        return Fact(_text(obs, "what", 500), obs.get("value"), _text(obs, "show", 2000), _opt_text(obs, "hint"),
                    name, role)
    if kind == "error":
        return Raised(_text(obs, "function", 200), _text(obs, "error", 200), _text(obs, "message", 2000),
                      _opt_text(obs, "where", 300), _flag(obs, "not_implemented"), _flag(obs, "banned"),
                      _flag(obs, "missing"))
    if kind == "broken":
        if obs.get("origin", "engine") not in ("grader", "engine"):
            raise Malformed("a broken observation's 'origin' must be 'grader' or 'engine'")
        return Broken(_text(obs, "error", 200), _text(obs, "message", 2000), obs.get("origin", "engine"),
                      _opt_text(obs, "where", 300), _opt_text(obs, "traceback", 16000) if keep_traceback else None)
    raise Malformed(f"unknown observation kind {str(kind)[:40]!r}")


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
        return Record(exercise, _text(data, "check", 200), TrialRecord.from_json(data.get("record")), **common)
    raise Malformed(f"unknown event {str(ev)[:40]!r}")
