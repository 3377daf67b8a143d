"""A Trial: what one check does to one implementation, recorded as observations.

The same check function runs twice on identical inputs: once on the reference
solution (trusted process) and once on the student's code (sandboxed child).
A Trial never judges; it records what it saw. The judge compares the two
records in the grading process.

Observation kinds (typed records in `tensorgrade.wire`, the module both sides of the sandbox import):
- `Value` ("tensor"): a value compared by its kind: dtype, shape and closeness for tensors;
- `Fact` ("fact"): a plain value (bool, str, number) compared exactly (numbers within tolerance), shown with `show`;
- `Raised` ("error"): student code raised (in `t.call`, in `t.run`, or wherever the traceback says it ran);
  the trial ends there;
- `Broken` ("broken"): the check could not go on with what the student's code gave back; `origin` says
  whose frame raised: "grader" (the check's own code) or "engine" (tensorgrade's rubric code).
  Where the reference's record is broken too, the grader itself is at fault (grading.py decides).

Observations may carry a `name` (`t.observe`, or `name=` on `t.call` and `t.expect*`): named
observations are matched by name, not position, where the number of calls varies (gradcheck).

Who raised is read from the traceback's frames (`origin`): the student's files, the grader's
file (the check function's own), or tensorgrade's; library frames (torch) count for whoever
called them.
"""

from __future__ import annotations

import os
import random
import traceback
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

from tensorgrade.rubric import encode as _encode
from tensorgrade.rubric import facts, safe
from tensorgrade.rubric.ban import Ban, BannedCall, Banned
from tensorgrade.wire import Broken, Fact, Observation, Raised, TrialRecord, Value

_BaseException = BaseException
_ENGINE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the tensorgrade package
_PLAIN = (bool, int, float, str, type(None))


class GraderError(TypeError):
    """The check used the Trial API wrongly (a tensor given to `t.expect`, ...): a bug in the grader."""


class StudentFailed(Exception):
    """Internal: the student's function raised; carries the error observation."""

    def __init__(self, record: Raised):
        super().__init__(record.message)
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


@dataclass(frozen=True)
class Origin:
    """Whose frame raised an exception: 'student', 'grader', 'engine' or 'library' (no frame of ours)."""

    who: str
    where: str | None = None  # "file.py, line N" (student), "graders/x.py, line N" (grader)
    function: str | None = None  # the student function that raised, e.g. "SquarePlus.backward"


def _frames(tb):
    while tb is not None:
        code = tb.tb_frame.f_code
        yield code.co_filename, tb.tb_lineno, getattr(code, "co_qualname", code.co_name)
        tb = tb.tb_next


def is_student_file(filename: str, student_files: set[str]) -> bool:
    return filename.startswith("<cell ") or filename in student_files or (
        os.path.isabs(filename) and filename.endswith(tuple("/" + f for f in student_files)))


def grader_name(filename: str) -> str:
    """A grader file as the instructor knows it ('graders/<id>.py'), never an absolute path."""
    head, sep, tail = filename.replace(os.sep, "/").rpartition("graders/")
    return f"graders/{tail}" if sep else os.path.basename(filename)


def origin(tb, student_files: set[str], grader_file: str | None) -> Origin:
    """Who raised: the innermost frame that is the student's, the grader's or tensorgrade's decides.

    Library frames (torch, the standard library) are skipped: torch raising on a student's
    bad value counts for the code that called torch.
    """
    for filename, line, qualname in reversed(list(_frames(tb))):
        if grader_file and filename == grader_file:
            return Origin("grader", f"{grader_name(filename)}, line {line}")
        if is_student_file(filename, student_files):
            shown = (f"notebook cell {filename[6:-1]}" if filename.startswith("<cell ")
                     else filename.rsplit("/", 1)[-1])
            return Origin("student", f"{shown}, line {line}", str(qualname)[:100])
        if filename.startswith(_ENGINE_DIR + os.sep):
            return Origin("engine")
    return Origin("library")


def grader_traceback(exc: BaseException, limit: int = 40) -> str:
    """The whole traceback of an exception raised by grader code, for the instructor (validate)."""
    try:
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-limit))[-8000:]
    except BaseException:
        return f"{type(exc).__name__}: {exception_message(exc)}"


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
        tracebacks: bool = True,
    ):
        self.functions = functions
        self.seed = seed
        self.rng = random.Random(seed)
        self.observations: list[Observation] = []
        self.inputs: list[tuple[str, str]] = []
        self._banned = banned or {}
        self._on_call = on_call
        self._after_call = after_call
        self._student_files = student_files or set()
        self._tracebacks = tracebacks  # the sandboxed child sends none (they hold its paths)
        self.grader_file: str | None = None  # set by run_trial: the check function's file

    # -- running the function under test ---------------------------------
    def call(self, function: str, /, *args: Any, name: str | None = None) -> Any:
        """Call the implementation's `function(*args)`; a raised error ends the trial as an observation.

        `name` records what it returns as a named observation (see `observe`): for calls whose
        number varies, such as the ones torch.autograd.gradcheck makes.
        """
        fn = self.functions.get(function)
        if fn is None or not callable(fn):
            raise StudentFailed(Raised(function, "Missing", f"{function}() is not defined", missing=True))
        self._enter(f"{function}()")
        try:
            with Ban(self._banned.get(function), f"{function}()"):
                result = fn(*args)
        except _BaseException as exc:  # SystemExit and KeyboardInterrupt from student code too
            raise StudentFailed(self._error_record(function, exc)) from None
        finally:
            self._leave()
        kind = facts.kind(result)
        self._record(Fact(f"what {function}() returns", kind, _article(kind),
                          f"Return what the exercise asks {function}() to return.", role="returns"), name)
        return result

    def run(self, label: str, fn: Callable, *args: Any, bans_of: str | None = None, **kwargs: Any) -> Any:
        """Run `fn(*args, **kwargs)`, which runs student code outside `call`, as a step of its own.

        For a custom autograd.Function's backward during `backward()`, a hook, or
        torch.autograd.gradcheck: `label` names what runs ("SquarePlus.backward") in feedback
        and in the time limit's message; the step gets its own deadline. An exception raised in
        student code (or by torch on what it gave back) ends the trial as that code's error; one
        raised by the grader's own code in `fn` propagates as a grader error. `t.call` inside
        `fn` works as usual. `bans_of="SquarePlus"` enforces that listed function's (or class's)
        `banned` modules for the whole step: everything `fn` runs, so `fn` itself must not use them.
        """
        self._enter(label)
        try:
            with Ban(self._banned.get(bans_of) if bans_of else None, label):
                return fn(*args, **kwargs)
        except StudentFailed:
            raise
        except BannedCall as exc:  # raised by the ban's hook (our frame) on the student's behalf
            raise StudentFailed(self._error_record(label, exc)) from None
        except _BaseException as exc:
            # from the frames inside fn: student code, or torch on its behalf, is the code that ran
            where = origin(exc.__traceback__.tb_next, self._student_files, self.grader_file)
            if where.who in ("grader", "engine"):
                raise
            raise StudentFailed(self._error_record(where.function or label, exc, where)) from None
        finally:
            self._leave()

    def _enter(self, label: str) -> None:
        if self._on_call:
            self._on_call(label)

    def _leave(self) -> None:
        if self._after_call:
            self._after_call()

    def _error_record(self, name: str, exc: BaseException, where: Origin | None = None) -> Raised:
        where = where or origin(exc.__traceback__, self._student_files, self.grader_file)
        not_implemented = isinstance(exc, NotImplementedError)
        if not_implemented and where.who == "student" and where.function:
            name = where.function  # a stub class's forward: "SquarePlus.forward is not implemented yet"
        place = where.where if where.who == "student" else student_location(exc.__traceback__, self._student_files)
        return Raised(name, type(exc).__name__, exception_message(exc), place, not_implemented,
                      isinstance(exc, BannedCall))

    # -- recording --------------------------------------------------------
    def given(self, name: str, value: Any) -> Any:
        """Record an input so that feedback can show what the function was called with."""
        self.inputs.append((name, _show_input(value)))
        return value

    def expect_tensor(self, what: str, value: Any, *, hint: str | None = None, name: str | None = None,
                      check_dtype: bool = True) -> None:
        """`value` must match the reference's, compared by its kind (see judge/compare.py): a tensor of the
        same dtype (unless `check_dtype=False`: only where the exercise does not name a dtype) and shape,
        close in value; a number within tolerance; a tuple or list item by item."""
        self._record(Value(what, _encode.encode(value), hint, check_dtype=check_dtype), name)

    expect_value = expect_tensor  # the same call, named for values that are not tensors

    def expect(self, what: str, value: Any, *, show: str | None = None, hint: str | None = None,
               name: str | None = None) -> None:
        """`value` (a bool, number, string or None, or a list of them) must equal the reference's."""
        value = _plain(value, "t.expect")
        if isinstance(value, bool) and show is None:
            show = facts.yes_no(value)
        if show is not None and not isinstance(show, str):
            raise GraderError(f"t.expect(show=...) takes a string, got {type(show).__name__}")
        self._record(Fact(what, value, show if show is not None else repr(value), hint), name)

    def observe(self, name: str, value: Any, *, what: str | None = None, show: str | None = None,
                hint: str | None = None) -> None:
        """Record `value` under `name`: matched with the reference's observation of that name, wherever it is.

        For checks whose number of observations depends on the code under test, e.g. a
        gradcheck over `t.call`s: `t.observe("passed_gradcheck", ok)`.
        """
        if safe.is_tensor(value):
            self.expect_tensor(what or name, value, hint=hint, name=name)
        else:
            self.expect(what or name, value, show=show, hint=hint, name=name)

    def expect_connection(self, what: str, y: Any, x: Any, *, hint: str | None = None,
                          name: str | None = None) -> None:
        """Whether `y` reaches `x` in the autograd graph must match the reference; the path is shown."""
        path = facts.graph_path(y, x)
        self.expect(what, path is not None, show=facts.show_path(path), hint=hint, name=name)

    def _record(self, observation: Observation, name: str | None) -> None:
        if name is not None:
            if not isinstance(name, str) or not name or len(name) > 200:
                raise GraderError(f"an observation's name must be a non-empty string, got {name!r}"[:200])
            observation = replace(observation, name=name)
        self.observations.append(observation)


def _plain(value: Any, api: str) -> Any:
    """A fact as JSON keeps it (lists for tuples), or GraderError: the child could not send anything else."""
    if isinstance(value, _PLAIN) and type(value) in _PLAIN:
        return value
    if type(value) in (list, tuple) and len(value) <= 1000:
        return [_plain(v, api) for v in value]
    kind = "a torch.Tensor (use t.expect_tensor)" if safe.is_tensor(value) else f"{type(value).__name__}"
    raise GraderError(f"{api} takes a bool, int, float, str, None or a list of them; got {kind}")


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


def run_trial(check: Callable[[Trial], None], trial: Trial) -> TrialRecord:
    """Run one check; always return its record (observations and inputs), never raise.

    An exception that escapes the check is filed by who raised it (see `origin`): student code
    (a custom backward run by the grader's `backward()`, a hook) as that code's error; the
    grader's code or tensorgrade's as "broken", with the place in the grader and, unless the
    trial is the child's, the whole traceback for the instructor.
    """
    code = getattr(check, "__code__", None)
    trial.grader_file = code.co_filename if code is not None else None
    try:
        check(trial)
    except StudentFailed as failed:
        trial.observations.append(failed.record)
    except _BaseException as exc:
        where = origin(exc.__traceback__, trial._student_files, trial.grader_file)
        if where.who == "student":
            trial.observations.append(trial._error_record(where.function or "your code", exc, where))
        elif not isinstance(exc, Exception):
            raise  # KeyboardInterrupt and SystemExit not raised by student code are not ours to swallow
        else:
            who = "grader" if isinstance(exc, GraderError) or where.who == "grader" else "engine"
            trial.observations.append(Broken(
                type(exc).__name__, exception_message(exc, 300), who,
                _grader_line(exc.__traceback__, trial.grader_file),  # the check's line that raised or called in
                grader_traceback(exc) if trial._tracebacks else None))
    return TrialRecord(tuple(trial.observations), tuple(trial.inputs))


def _grader_line(tb, grader_file: str | None) -> str | None:
    found = None
    for filename, line, _ in _frames(tb):
        if grader_file and filename == grader_file:
            found = f"{grader_name(filename)}, line {line}"
    return found
