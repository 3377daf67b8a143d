"""The schema of `course.yml` and `exercises/<id>.yml`, as pydantic models.

Pydantic gives validation with exact locations for free; `spec.errors` turns its
messages into one line per mistake that names the file and the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tensorgrade.run.policy.rules import DEFAULT_IMPORTS  # the policy's data (pure constants)

IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Strict(BaseModel):
    """Unknown keys are mistakes (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Tolerance(Strict):
    """How close a tensor must be to the expected one: |obs - exp| <= atol + rtol * |exp|."""

    rtol: float = Field(1.3e-6, ge=0)
    atol: float = Field(1e-5, ge=0)


class FunctionSpec(Strict):
    """A function (or, with `kind: class`, a class) that students write; stub and solution must agree on it."""

    name: str = Field(pattern=IDENT)
    kind: Literal["function", "class"] = Field(
        "function", description="function, or class: then its methods' signatures are compared too")
    signature: str = Field(min_length=1, description="as students see it, e.g. 'accumulate(f, x, times) -> Tensor'")
    summary: str = Field(min_length=1, description="one line: what the function must do")
    banned: list[str] = Field(default_factory=list, description=(
        "modules that may not be used while it runs: in t.call of this name, and in steps run with "
        "t.run(..., bans_of=name) (a class's methods)"))


class CheckSpec(Strict):
    id: str = Field(pattern=IDENT)
    function: str = Field(pattern=IDENT)
    points: float = Field(gt=0)
    visibility: Literal["public", "hidden"]
    verifies: str = Field(min_length=1, description="what the check verifies, in one sentence")
    hint: str = Field(min_length=1, description="a hint that teaches autograd, shown when the check fails")
    tolerance: Tolerance | None = None


class ExerciseSpec(Strict):
    id: str = Field(pattern=IDENT)
    title: str = Field(min_length=1)
    prompt: str = Field(min_length=1, description="Markdown with $math$")
    functions: list[FunctionSpec] = Field(min_length=1)
    tolerance: Tolerance = Tolerance()
    checks: list[CheckSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "ExerciseSpec":
        names = [f.name for f in self.functions]
        if len(set(names)) != len(names):
            raise ValueError(f"functions: a function is listed twice: {names}")
        ids = [c.id for c in self.checks]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"checks: duplicate check id(s) {dup}")
        for i, c in enumerate(self.checks):
            if c.function not in names:
                raise ValueError(f"checks[{i}].function: '{c.function}' is not one of the functions {names}")
        return self

    @property
    def points(self) -> float:
        return sum(c.points for c in self.checks)

    def check(self, check_id: str) -> CheckSpec:
        return next(c for c in self.checks if c.id == check_id)

    def function(self, name: str) -> FunctionSpec:
        return next(f for f in self.functions if f.name == name)

    def tolerance_for(self, check_id: str) -> Tolerance:
        return self.check(check_id).tolerance or self.tolerance


class CourseInfo(Strict):
    name: str = Field(min_length=1)
    term: str = Field(min_length=1)
    instructor: str | None = None


class AssignmentSpec(Strict):
    id: str = Field(pattern=IDENT)
    title: str = Field(min_length=1)
    due: dt.datetime
    submission: str = Field(
        "Submit one .py file per exercise (or one .py / .ipynb holding all the functions).",
        description="how students hand in, printed on the handout",
    )
    exercises: list[str] = Field(description="exercise ids in handout order (empty while a new course is written)")

    @field_validator("due", mode="before")
    @classmethod
    def _aware(cls, v):
        """A due date without a zone is ambiguous by hours (and late penalties count hours): refused."""
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            raise ValueError("needs a time and a time zone, e.g. 2026-12-15T23:59:00+00:00")
        if isinstance(v, str):
            try:
                v = dt.datetime.fromisoformat(v.strip())
            except ValueError:
                return v  # pydantic names the format
        if isinstance(v, dt.datetime) and v.tzinfo is None:
            raise ValueError("has no time zone; write it with one, e.g. 2026-12-15T23:59:00+00:00")
        return v

    @field_validator("exercises")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("an exercise is listed twice")
        return v


class GradingSpec(Strict):
    seed: int = Field(ge=0, description="base seed: inputs are drawn from (seed, student, exercise, check)")
    time_limit: float = Field(5.0, gt=0, description="seconds of wall clock per student function call")
    cpu_limit: float = Field(60.0, gt=0, description="CPU seconds for one student's whole grading child")
    memory_limit_mb: int = Field(2048, ge=1024, description="address-space cap of the grading child (torch needs ~1 GiB)")
    output_limit_kb: int = Field(64, gt=0, description="captured student output kept per child")
    hidden_feedback: Literal["after_due", "always", "never"] = Field(
        "after_due", description="when students see the details of hidden checks"
    )
    allowed_imports: list[str] = Field(
        default_factory=lambda: list(DEFAULT_IMPORTS),
        description="modules submissions may import (the submission policy's allowlist)",
    )

    @field_validator("allowed_imports")
    @classmethod
    def _module_names(cls, v: list[str]) -> list[str]:
        bad = [m for m in v if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$", m)]
        if bad:
            raise ValueError(f"not module names: {bad}")
        return v


class LateSpec(Strict):
    """Late days are started days after the (possibly extended) due, once past due + grace."""

    grace_minutes: float = Field(0, ge=0, description="on time up to due + grace")
    penalty_per_day: float = Field(ge=0, le=100, description="percent of the score lost per started day late")
    max_days_late: int = Field(ge=0, description="later than this many days: scored 0, still graded and reported")


class PolicySpec(Strict):
    late: LateSpec | None = None
    extensions: str | None = Field(None, min_length=1,
                                   description="CSV beside course.yml: student,due (with zone) or student,days")
    adjustments: str = Field("adjustments.csv", min_length=1,
                             description="CSV beside course.yml: student,target,delta,comment (optional file)")


class SimilaritySpec(Strict):
    threshold: float = Field(0.6, gt=0, le=1, description="pairs at or above this similarity (0..1) need a look")
    noise_tokens: int = Field(20, ge=1, description="matches shorter than this many tokens are ignored")
    guarantee_tokens: int = Field(25, ge=1, description="matches this long are always found")

    @model_validator(mode="after")
    def _order(self) -> "SimilaritySpec":
        if self.guarantee_tokens < self.noise_tokens:
            raise ValueError("guarantee_tokens: must be at least noise_tokens")
        return self


class CourseSpec(Strict):
    """`assignment:` (one) or `assignments:` (a list), never both.

    A loaded `Course` is always narrowed to one assignment: `spec.assignment` is the one being
    worked on (`--assignment ID`), and `spec.assignments` keeps the whole list (None for a course
    written with `assignment:`).
    """

    course: CourseInfo
    assignment: AssignmentSpec | None = None
    assignments: list[AssignmentSpec] | None = Field(
        None, min_length=1, description="several assignments, each with its own id, due date and exercises")
    grading: GradingSpec
    policy: PolicySpec = PolicySpec()
    similarity: SimilaritySpec = SimilaritySpec()

    @model_validator(mode="after")
    def _one_way_to_list_assignments(self) -> "CourseSpec":
        if self.assignment is None and self.assignments is None:
            raise ValueError("needs `assignment:` (one assignment) or `assignments:` (a list of them)")
        if self.assignment is not None and self.assignments is not None:
            raise ValueError("has both `assignment:` and `assignments:`; keep one (a list under `assignments:` "
                             "for several)")
        if self.assignments is None:
            return self
        ids = [a.id for a in self.assignments]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"assignments: assignment id(s) {repeated} used more than once; give each its own id")
        # An exercise belongs to one assignment: inputs are drawn from (seed, student, exercise, check), so a
        # shared exercise would be the same work graded twice, and `check` could not tell which assignment a
        # student's file is for. Copy it under a new id instead.
        owner: dict[str, str] = {}
        for a in self.assignments:
            for ex in a.exercises:
                if ex in owner:
                    raise ValueError(f"assignments: exercise '{ex}' is listed in both '{owner[ex]}' and '{a.id}'; "
                                     "an exercise belongs to one assignment (copy it under a new id to reuse it)")
                owner[ex] = a.id
        return self

    @property
    def assignment_ids(self) -> list[str]:
        """Every assignment's id, in course.yml order."""
        return [a.id for a in self.assignments] if self.assignments is not None else [self.assignment.id]


def vocabulary() -> list[str]:
    """Every field name of the schema, for 'did you mean' suggestions."""
    models = [Tolerance, FunctionSpec, CheckSpec, ExerciseSpec, CourseInfo, AssignmentSpec, GradingSpec, LateSpec,
              PolicySpec, SimilaritySpec, CourseSpec]
    return sorted({name for m in models for name in m.model_fields})
