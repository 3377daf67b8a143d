"""The graded record of one student: exercises, checks, verdicts, status and flags.

Plain dataclasses that round-trip through JSON (for resumable batches). The
otter `GradingResults`, results.json, the gradebook and the reports are all
produced from this one record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class CheckResult:
    id: str
    function: str
    points: float
    score: float
    visibility: str  # "public" | "hidden"
    verifies: str
    feedback: str = ""  # learner-facing text; empty when passed

    @property
    def passed(self) -> bool:
        return self.score >= self.points


@dataclass
class ExerciseResult:
    id: str
    title: str
    checks: list[CheckResult]
    status: str = "ok"  # ok | missing | unreadable | timeout | crash | memory | exit | error
    detail: str = ""

    @property
    def score(self) -> float:
        return sum(c.score for c in self.checks)

    @property
    def possible(self) -> float:
        return sum(c.points for c in self.checks)


@dataclass
class StudentResult:
    student: str
    exercises: list[ExerciseResult]
    status: str = "ok"  # ok, or a short reason the submission could not be graded normally
    detail: str = ""
    flags: list[str] = field(default_factory=list)  # reasons for manual review
    output: str = ""  # what the student's code printed at import and during public checks (truncated)
    hidden_output: str = ""  # printed during hidden checks: shown under the same rule as their details
    digest: str = ""  # submission content + course version, for resuming
    seconds: float = 0.0
    # From the intake (an LMS export's metadata); empty when the layout does not say.
    name: str = ""
    email: str = ""
    submitted_at: str = ""  # ISO 8601 with time zone, e.g. 2026-12-15T23:10:00+00:00
    intake_notes: list[str] = field(default_factory=list)  # e.g. "Canvas marked this submission LATE"

    @property
    def total(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def possible(self) -> float:
        return sum(e.possible for e in self.exercises)

    @property
    def percent(self) -> float:
        return 100.0 * self.total / self.possible if self.possible else 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "StudentResult":
        exercises = [
            ExerciseResult(**{**e, "checks": [CheckResult(**c) for c in e["checks"]]}) for e in data["exercises"]
        ]
        return cls(**{**data, "exercises": exercises})
