"""A Trial: what one check does to one implementation, recorded as observations.

The same check function runs twice on identical inputs: once on the reference
solution (trusted process) and once on the student's code (sandboxed child).
A Trial never judges; it records what it saw. The judge compares the two
records in the grading process.

Observation kinds:
- "tensor": a value compared by dtype, shape and closeness;
- "fact": a plain value (bool, str, number) compared exactly, shown with `show`;
- "error": the student's function raised (or was stopped); the trial ends there;
- "broken": the rubric could not inspect what the student's function gave back.
"""

from __future__ import annotations

import random
import traceback
from typing import Any, Callable, Mapping

from tensorgrade.rubric import encode as _encode
from tensorgrade.rubric import facts, safe
from tensorgrade.rubric.ban import Ban, BannedCall, Banned

_BaseException = BaseException


class StudentFailed(Exception):
    """Internal: the student's function raised; carries the error observation."""

    def __init__(self, record: dict):
        super().__init__(record.get("message", ""))
        self.record = record


def exception_message(exc: BaseException, limit: int = 500) -> str:
    """str(exc), shortened; a hostile __str__ (even one raising SystemExit) cannot escape."""
    try:
        text = str(exc)
    except BaseException:
        text = f"<{type(exc).__name__} whose message could not be shown>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def student_location(tb, filenames: set[str]) -> str | None:
    """The innermost line of student code in a traceback, as 'file.py, line N'."""
    found = None
    for frame in traceback.extract_tb(tb):
        if frame.filename.startswith("<cell "):  # a notebook cell (intake/submission.py)
            found = f"notebook cell {frame.filename[6:-1]}, line {frame.lineno}"
        elif frame.filename in filenames or frame.filename.endswith(tuple(filenames)):
            found = f"{frame.filename.rsplit('/', 1)[-1]}, line {frame.lineno}"
    return found


class Trial:
    def __init__(
        self,
        functions: Mapping[str, Callable],
        seed: int,
        *,
        banned: Mapping[str, Banned] | None = None,
        on_call: Callable[[str], None] | None = None,
        after_call: Callable[[], None] | None = None,
        student_files: set[str] | None = None,
    ):
        self.functions = functions
        self.seed = seed
        self.rng = random.Random(seed)
        self.observations: list[dict] = []
        self.inputs: list[tuple[str, str]] = []
        self._banned = banned or {}
        self._on_call = on_call
        self._after_call = after_call
        self._student_files = student_files or set()

    # -- running the function under test ---------------------------------
    def call(self, name: str, *args: Any) -> Any:
        """Call the implementation's `name(*args)`; a raised error ends the trial as an observation."""
        fn = self.functions.get(name)
        if fn is None or not callable(fn):
            raise StudentFailed({"kind": "error", "function": name, "error": "Missing",
                                 "message": f"{name}() is not defined", "missing": True})
        if self._on_call:
            self._on_call(name)
        try:
            with Ban(self._banned.get(name), name):
                result = fn(*args)
        except _BaseException as exc:  # SystemExit and KeyboardInterrupt from student code too
            raise StudentFailed(self._error_record(name, exc)) from None
        finally:
            if self._after_call:
                self._after_call()
        self.expect(f"what {name}() returns", facts.kind(result), show=_article(facts.kind(result)),
                    hint=f"Return what the exercise asks {name}() to return.")
        self.observations[-1]["role"] = "returns"
        return result

    def _error_record(self, name: str, exc: BaseException) -> dict:
        kind = type(exc).__name__
        text = exception_message(exc)
        return {
            "kind": "error",
            "function": name,
            "error": kind,
            "message": text,
            "where": student_location(exc.__traceback__, self._student_files),
            "not_implemented": isinstance(exc, NotImplementedError),
            "banned": isinstance(exc, BannedCall),
        }

    # -- recording --------------------------------------------------------
    def given(self, name: str, value: Any) -> Any:
        """Record an input so that feedback can show what the function was called with."""
        self.inputs.append((name, _show_input(value)))
        return value

    def expect_tensor(self, what: str, value: Any, *, hint: str | None = None) -> None:
        """`value` must match the reference's: a tensor of the same dtype and shape, close in value."""
        self.observations.append({"kind": "tensor", "what": what, "value": _encode.encode(value), "hint": hint})

    def expect(self, what: str, value: Any, *, show: str | None = None, hint: str | None = None) -> None:
        """`value` (a bool, number, string or None) must equal the reference's exactly."""
        if isinstance(value, bool) and show is None:
            show = facts.yes_no(value)
        self.observations.append(
            {"kind": "fact", "what": what, "value": value, "show": show if show is not None else repr(value), "hint": hint}
        )

    def expect_connection(self, what: str, y: Any, x: Any, *, hint: str | None = None) -> None:
        """Whether `y` reaches `x` in the autograd graph must match the reference; the path is shown."""
        path = facts.graph_path(y, x)
        self.expect(what, path is not None, show=facts.show_path(path), hint=hint)


def _article(kind: str) -> str:
    return {"tensor": "a torch.Tensor", "None": "None (nothing)", "tuple or list": "a tuple (or list)"}.get(
        kind, f"an object of type {kind}")


def _show_input(value: Any) -> str:
    """An input as feedback shows it: tensors by value, dtype and shape; functions by formula."""
    if safe.is_tensor(value):
        vals = safe.flat_values(value)
        body = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in vals[:12])
        dtype = str(safe.dtype(value)).removeprefix("torch.")
        if not safe.shape(value):
            return f"tensor({body}) ({dtype})"
        more = ", ..." if len(vals) > 12 else ""
        shape = "×".join(map(str, safe.shape(value)))
        return f"tensor([{body}{more}]) (shape {shape}, {dtype})"
    if type(value) in (tuple, list):
        inner = ", ".join(_show_input(v) for v in value[:6])
        return f"({inner})" if type(value) is tuple else f"[{inner}]"
    text = getattr(value, "text", None)
    return text if isinstance(text, str) else _encode.short_repr(value)


def run_trial(check: Callable[[Trial], None], trial: Trial) -> dict:
    """Run one check; always return a record {'observations': [...], 'inputs': [...]}, never raise."""
    try:
        check(trial)
    except StudentFailed as failed:
        trial.observations.append(failed.record)
    except Exception as exc:  # the rubric choked on what the student returned
        trial.observations.append(
            {"kind": "broken", "error": type(exc).__name__, "message": _encode.short_repr(str(exc))}
        )
    return {"observations": trial.observations, "inputs": trial.inputs}
