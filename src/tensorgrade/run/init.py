"""What a grading run is started with: the plan (which checks, which inputs) and the zygote's init
(the graders' source and bans, never solutions).

Kept apart from grading.py (which imports the judge, hence torch) so that a command can start
the zygote before importing torch itself: the two imports then overlap on two cores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from tensorgrade import seeds
from tensorgrade.wire import WARM_AFTER_FIRST, WARM_BEFORE, WARM_FUNC, WARM_NEVER  # noqa: F401 - re-exported

if TYPE_CHECKING:
    from tensorgrade.spec.course import Course


@dataclass(frozen=True)
class Plan:
    """Which checks to run and with which inputs."""

    public_only: bool = False
    seed_by: str = "student"  # "student": per-student inputs; "fixed": everyone gets the same
    engine: str = "fast"  # which engine graded: part of the resume digest, so switching engines regrades

    def student_key(self, student: str) -> str:
        if self.public_only:
            return seeds.PUBLIC
        return student if self.seed_by == "student" else "fixed"


# Words through which student code reaches torch.func's transforms or forward-mode AD (torch.func,
# torch.autograd.forward_ad, strategy="forward-mode"), whose first use imports torch._dynamo. A sandboxed
# child may not load code from a student's call (the policy refuses it), so the zygote must have
# imported it before the fork.
_DYNAMO_ON_FIRST_USE = re.compile(r"\b(func|forward_ad)\b|forward.mode")


def may_need_torch_func(sources: Iterable[str]) -> bool:
    """Whether code in `sources` may use torch.func (or forward-mode AD): any mention of the names, in
    code, comments or strings. Only `check` asks (one known submission, where the warm-up is a
    second of a student's wait); code that reaches the module without naming it is refused in `check`
    and graded normally by `grade`, whose zygotes warm it up (after their first child: WARM_AFTER_FIRST)."""
    return any(_DYNAMO_ON_FIRST_USE.search(text) for text in sources)


def grader_init(course: "Course", *, warm_func: str = WARM_BEFORE) -> dict:
    """What the zygote's payload loads once (run/child.prepare): the graders and the allowed imports.
    `warm_func`: when to import torch.func (torch._dynamo, 1-2 s), one of WARM_FUNC."""
    if warm_func not in WARM_FUNC:
        raise ValueError(f"warm_func must be one of {WARM_FUNC}, not {warm_func!r}")
    return {
        "allowed_imports": list(course.spec.grading.allowed_imports),
        "warm_func": warm_func,
        "graders": {
            ex.id: {
                "source": ex.grader.read_text(encoding="utf-8"),
                "filename": f"graders/{ex.id}.py",
                "banned": {f.name: f.banned for f in ex.spec.functions if f.banned},
            }
            for ex in course.exercises
        },
    }
