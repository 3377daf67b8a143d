"""What a grading run is started with: the plan (which checks, which inputs) and the zygote's init
(the graders' source and bans, never solutions).

Kept apart from grading.py (which imports the judge, hence torch) so that a command can start
the zygote before importing torch itself: the two imports then overlap on two cores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tensorgrade import seeds

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


def grader_init(course: "Course", *, warm_func: bool = True) -> dict:
    """`warm_func`: import torch.func (dynamo, ~2 s) in the zygote once, so no child pays it.

    Worth it for a class; `check` (one submission) skips it, and a student's child that uses
    torch.func imports it itself.
    """
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
