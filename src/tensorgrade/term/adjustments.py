"""adjustments.csv: the instructor's points added or deducted by hand, each with the comment the student sees.

`target` is `total`, an exercise id, or `exercise.check`. Unknown targets are errors (a typo must not
silently change nobody's grade); unknown students are warnings (the row may be entered before that
student's submission is graded), listed by `grade`/`report` and on the class summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from tensorgrade.spec.course import Course
from tensorgrade.spec.errors import SpecError
from tensorgrade.term.csvfile import read_rows

TOTAL = "total"


@dataclass(frozen=True)
class Adjustment:
    student: str
    target: str  # "total", "<exercise>" or "<exercise>.<check>"
    delta: float
    comment: str
    line: int

    @property
    def exercise(self) -> str | None:
        return None if self.target == TOTAL else self.target.split(".", 1)[0]

    @property
    def check(self) -> str | None:
        return self.target.split(".", 1)[1] if "." in self.target else None


def targets(course: Course) -> set[str]:
    out = {TOTAL}
    for ex in course.exercises:
        out.add(ex.id)
        out.update(f"{ex.id}.{c.id}" for c in ex.spec.checks)
    return out


def read_adjustments(path: Path, shown: str, course: Course) -> list[Adjustment]:
    """Every row, in file order (they apply in that order)."""
    known = targets(course)
    out = []
    for row in read_rows(path, shown, required=("student", "target", "delta", "comment")):
        c, where = row.cells, f"{shown}: line {row.line}"
        if not c["student"]:
            raise SpecError(f"{where}: student: is empty")
        if c["target"] not in known:
            exercises = ", ".join(e.id for e in course.exercises)
            raise SpecError(f"{where}: target: '{c['target']}' is not 'total', an exercise ({exercises}) "
                            "or exercise.check")
        try:
            delta = float(c["delta"])
        except ValueError:
            delta = math.nan
        if not math.isfinite(delta) or delta == 0:
            raise SpecError(f"{where}: delta: must be a non-zero number of points (negative to deduct), "
                            f"found '{c['delta']}'")
        if not c["comment"]:
            raise SpecError(f"{where}: comment: is empty (the student sees it next to the change)")
        out.append(Adjustment(c["student"], c["target"], delta, c["comment"], row.line))
    return out
