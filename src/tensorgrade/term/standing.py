"""A student's standing: the raw grading, the late policy and the adjustments, as one typed value.

record.json stays the raw grading; the standing is computed from it whenever outputs are written,
so changing course.yml's policy, extensions.csv or adjustments.csv and running `tensorgrade report`
changes every output the same way, without grading again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tensorgrade.results.model import StudentResult
from tensorgrade.spec.models import LateSpec
from tensorgrade.term.adjustments import TOTAL, Adjustment
from tensorgrade.term.extensions import Extension
from tensorgrade.term.late import late_days, penalty_percent
from tensorgrade.term.timefmt import duration, parse_instant, show


@dataclass(frozen=True)
class Applied:
    """One adjustment as applied: `points` is what it changed after keeping scores within 0..possible."""

    target: str
    delta: float
    points: float
    comment: str

    @property
    def text(self) -> str:
        kept = "" if abs(self.points - self.delta) < 1e-9 else f" (applied {_pts(self.points, sign=True)}: kept within the points possible)"
        return f"{self.target} {_pts(self.delta, sign=True)}: {self.comment}{kept}"


@dataclass(frozen=True)
class Standing:
    student: str
    raw_total: float
    possible: float
    submitted_at: str = ""
    due: dt.datetime | None = None  # the due that applied to this student (extension included)
    extended: bool = False
    late_days: int = 0
    penalty_percent: float = 0.0
    penalty: float = 0.0  # points taken by the late policy
    beyond_max: bool = False
    applied: tuple[Applied, ...] = ()
    total: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)  # what was applied and why, in order

    @property
    def adjustment(self) -> float:
        return sum(a.points for a in self.applied)

    @property
    def percent(self) -> float:
        return 100.0 * self.total / self.possible if self.possible else 0.0

    @property
    def changed(self) -> bool:
        return abs(self.total - self.raw_total) > 1e-9 or bool(self.applied)


@dataclass(frozen=True)
class Term:
    """What the instructor decided beyond the grading: late policy, extensions, adjustments."""

    due: dt.datetime
    late: LateSpec | None = None
    extensions: dict[str, Extension] = field(default_factory=dict)
    adjustments: tuple[Adjustment, ...] = ()
    extensions_file: str = ""
    adjustments_file: str = ""

    def for_student(self, student: str) -> list[Adjustment]:
        return [a for a in self.adjustments if a.student == student]

    def unknown_students(self, students: set[str]) -> list[str]:
        """One warning per extension/adjustment row naming a student who has no record."""
        out = [f"{self.extensions_file}: line {e.line}: no submission from '{e.student}'"
               for e in self.extensions.values() if e.student not in students]
        out += [f"{self.adjustments_file}: line {a.line}: no submission from '{a.student}' (not applied)"
                for a in self.adjustments if a.student not in students]
        return out


def _pts(x: float, sign: bool = False) -> str:
    text = f"{round(x, 2):g}"
    return ("+" + text if x > 0 else text.replace("-", "−")) if sign else text


def _late(record: StudentResult, term: Term, raw: float) -> tuple[dict, list[str]]:
    """The late policy's part of a standing: its fields and its notes."""
    ext = term.extensions.get(record.student)
    due = ext.new_due(term.due) if ext else term.due
    fields: dict = {"due": due, "extended": ext is not None}
    notes = []
    if ext is not None:
        notes.append(f"extension: due {show(due)} instead of {show(term.due)}")
    if term.late is None:
        return fields, notes
    submitted = parse_instant(record.submitted_at)
    if submitted is None:
        why = "no submission time known" if not record.submitted_at.strip() else \
            f"submission time '{record.submitted_at}' unreadable"
        notes.append(f"late policy: {why}: counted as on time")
        return fields, notes
    days = late_days(submitted, due, term.late.grace_minutes)
    if days == 0:
        notes.append(f"on time: submitted {show(submitted)}, due {show(due)}")
        return fields, notes
    percent = penalty_percent(days, term.late)
    beyond = days > term.late.max_days_late
    penalty = raw if beyond else raw * percent / 100.0
    late_by = f"submitted {show(submitted)}, {duration(submitted - due)} after the due date {show(due)}"
    if beyond:
        notes.append(f"late: {late_by}: {days} started days, more than the {term.late.max_days_late} allowed: "
                     f"scored 0 (the grading is shown as it was)")
    else:
        notes.append(f"late: {late_by}: {days} started day{'s' if days != 1 else ''} × "
                     f"{term.late.penalty_per_day:g} % = −{percent:g} % of {_pts(raw)} points = −{_pts(penalty)}")
    fields.update(late_days=days, penalty_percent=percent, penalty=penalty, beyond_max=beyond)
    return fields, notes


def _item_bounds(record: StudentResult, target: str) -> tuple[float, float] | None:
    """(current raw score, possible) of an exercise or exercise.check target; None for total or unknown."""
    if target == TOTAL:
        return None
    ex_id, _, check_id = target.partition(".")
    ex = next((e for e in record.exercises if e.id == ex_id), None)
    if ex is None:
        return None
    if not check_id:
        return ex.score, ex.possible
    check = next((c for c in ex.checks if c.id == check_id), None)
    return (check.score, check.points) if check else None


def standing(record: StudentResult, term: Term) -> Standing:
    """Raw grading -> late policy -> adjustments (file order), each step kept within 0..possible."""
    raw, possible = record.total, record.possible
    fields, notes = _late(record, term, raw)
    total = raw - fields.get("penalty", 0.0)
    applied, moved = [], {}  # moved: points already added to each exercise/check target
    for adj in term.for_student(record.student):
        points = adj.delta
        bounds = _item_bounds(record, adj.target)
        if bounds is not None:  # the item itself stays within 0..its points, counting earlier adjustments
            score, most = bounds
            score += sum(v for k, v in moved.items() if k == adj.target or k.startswith(adj.target + "."))
            points = min(max(score + points, 0.0), most) - score
        points = min(max(total + points, 0.0), possible) - total
        moved[adj.target] = moved.get(adj.target, 0.0) + points
        total += points
        applied.append(Applied(adj.target, adj.delta, points, adj.comment))
        notes.append(f"adjustment: {applied[-1].text}")
    return Standing(student=record.student, raw_total=raw, possible=possible, submitted_at=record.submitted_at,
                    applied=tuple(applied), total=total, notes=tuple(notes), **fields)
