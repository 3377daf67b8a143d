"""One outcome vocabulary: every status a submission or an exercise can end in, and what it means.

A status is a short name stored in the record (`StudentResult.status`, `ExerciseResult.status`).
Everything else is decided here, once, so that adding a status touches this file only:

- `label`: the learner-facing words for it (the report's and the summary's status text);
- `advice`: what the learner can do about it;
- `whose`: whose doing it is: the student's, the course's (a grader bug), ours (the grading system), or nobody's;
- `graded`: whether the score is a judgement of the student's work (it counts in pass rates and histograms);
- `look`: whether it belongs in the summary's "needs a look" list;
- `stopped`: for the sandbox's stops, the text a check's feedback gives (with the limits filled in).

Scopes: a submission ends in ok, empty, duplicate, unreadable or infrastructure; an exercise in any
of the others too. One legacy spelling is resolved by scope: a *submission* whose status is "error"
was written by a pool for an infrastructure failure (batch, cluster, otter engine), whereas an
*exercise* whose status is "error" is the student's file raising while it was imported.
Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Whose = Literal["student", "course", "ours", "none"]
Scope = Literal["submission", "exercise"]


@dataclass(frozen=True)
class Status:
    name: str
    label: str
    advice: str
    whose: Whose
    graded: bool
    look: bool
    stopped: str = ""  # sandbox stops: the feedback of the check that was stopped ({limit}, {memory} filled in)


def _s(name, label, advice, whose, *, graded=True, look=True, stopped="") -> Status:
    return Status(name, label, advice, whose, graded, look, stopped)


STATUSES: dict[str, Status] = {s.name: s for s in (
    _s("ok", "graded", "", "none", look=False),
    # the submission as handed in
    _s("missing", "file missing from the submission",
       "Hand in a file named after the exercise (or one file that defines all the functions).",
       "student", graded=False),
    _s("unreadable", "file could not be read",
       "Save the file as UTF-8 text (.py) or as a valid notebook (.ipynb) and hand it in again.",
       "student", graded=False),
    _s("empty", "nothing to grade: no .py or .ipynb file in the submission",
       "Hand in your exercise files (.py or .ipynb), not only a folder or other files.", "student", graded=False),
    _s("duplicate", "not graded: more than one hand-in with the same id",
       "Keep one hand-in and remove the others.", "student", graded=False),
    # the student's file, before any check ran
    _s("syntax", "syntax error in your file",
       "Fix the line the message names; `python -m py_compile FILE` on your machine shows the same error.", "student"),
    _s("policy", "refused by the submission rules",
       "Remove what the message names: see the allowed imports and the rules for submissions.", "student"),
    _s("error", "your file raised an error when it was imported",
       "Run the file on your machine: code at its top level (outside the functions) raised.", "student"),
    # the sandbox stopped the student's code
    _s("timeout", "stopped: time limit exceeded",
       "Look for a loop that never ends or work that grows too fast: each step must finish within the limit.",
       "student", stopped="stopped: no progress within the time limit of {limit:g} s"),
    _s("cpu", "stopped: CPU time limit exceeded",
       "All checks together share one limit of processor time: look for needlessly repeated or large work.",
       "student", stopped="stopped: used up the CPU time limit"),
    _s("memory", "stopped: memory limit exceeded",
       "Look for tensors or lists that grow without bound.", "student",
       stopped="stopped: ran out of memory (limit {memory} MiB)"),
    _s("crash", "stopped: the code crashed the Python process",
       "Run the check on your machine to see where (deep recursion, a native crash).", "student",
       stopped="stopped: the Python process crashed"),
    _s("exit", "stopped: the code called exit()",
       "Remove calls to exit(), sys.exit() or os._exit() from your code.", "student",
       stopped="stopped: the code ended the Python process (os._exit / sys.exit at import, ...)"),
    _s("protocol", "stopped: the code interfered with the grader's channel",
       "Do not read, write or close file descriptors or processes your code did not open.", "student",
       stopped="stopped: the code interfered with the grader's channel"),
    # not the student's doing
    _s("grader", "not graded: a problem in the course's grader, not in your code",
       "Nothing to do: your instructor is told and fixes the grader.", "course", graded=False),
    _s("infrastructure", "could not be graded (grading infrastructure error)",
       "Nothing to do: this is not your code's fault, and the submission is graded again.", "ours", graded=False),
)}

# the sandbox's names (run/sandbox/limits.STATUSES) as statuses
SANDBOX = {"ok": "ok", "timeout": "timeout", "cpu": "cpu", "memory": "memory", "crashed": "crash", "exit": "exit",
           "protocol": "protocol"}
# wire.IMPORT_FAILURES as statuses, and the words their detail starts with
IMPORT_FAILURES = {"syntax": ("syntax", "your code is not valid Python"),
                   "policy": ("policy", "this file was refused"),
                   "error": ("error", "importing your code raised")}
INFRASTRUCTURE = "infrastructure"
GRADER = "grader"
GRADER_BUG = "grader bug in "  # how the instructor's flag for a grader bug starts (never shown to the student)
COURSE_BUG = "course bug in "  # ... and for a reference solution that fails its own check


def get(name: str, scope: Scope = "exercise") -> Status:
    """The status `name` means in `scope`; an unknown name reads as itself and needs a look."""
    if scope == "submission" and name == "error":
        name = INFRASTRUCTURE
    return STATUSES.get(name) or Status(name, name, "", "ours", False, True)


def label(name: str, scope: Scope = "exercise") -> str:
    """The learner-facing words for a status (what the report and the summary print as its status)."""
    return get(name, scope).label


def advice(name: str, scope: Scope = "exercise") -> str:
    """What the learner can do about it ("" when nothing is to be done)."""
    return get(name, scope).advice


def learner_text(name: str, detail: str = "", scope: Scope = "exercise") -> str:
    """One line for the learner: what happened (label, then the detail if any) and what to do."""
    s = get(name, scope)
    said = f"{s.label}: {detail}" if detail and detail != s.label else s.label
    return f"{said.rstrip('.')}. {s.advice}" if s.advice else said


def needs_a_look(name: str, scope: Scope = "exercise") -> bool:
    """Whether the summary lists this status under "needs a look"."""
    return get(name, scope).look


def graded_normally(name: str, scope: Scope = "exercise") -> bool:
    """Whether the score is a judgement of the student's work (counts in pass rates and histograms)."""
    return get(name, scope).graded


def whose(name: str, scope: Scope = "exercise") -> Whose:
    return get(name, scope).whose


def from_sandbox(sandbox_status: str) -> str:
    """The status of a sandbox outcome ('crashed' -> 'crash'); a child that ended by itself mid-job is 'exit'."""
    return SANDBOX.get(sandbox_status, sandbox_status) if sandbox_status != "ok" else "exit"


def stopped_text(name: str, *, limit: float, memory: int, detail: str = "") -> str:
    """A check's feedback when the sandbox stopped it (`name` a status); unknown stops show their detail."""
    template = get(name).stopped or "stopped: {detail}"
    return template.format(limit=limit, memory=memory, detail=detail)


def import_failure(kind: str, message: str, where: str = "") -> tuple[str, str]:
    """(status, detail) of a file that could not be imported: `kind` is wire.IMPORT_FAILURES' name."""
    name, words = IMPORT_FAILURES.get(kind, IMPORT_FAILURES["error"])
    return name, f"{words}: {message}" + (f" ({where})" if where else "")


def learner_flags(flags: list[str]) -> list[str]:
    """The flags a student may see: the instructor's grader- and course-bug notes left out (they name course code)."""
    return [f for f in flags if not f.startswith((GRADER_BUG, COURSE_BUG))]
