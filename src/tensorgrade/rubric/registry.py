"""Graders register their checks on a Rubric; the engine loads graders from files or source text."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Callable

from tensorgrade.rubric.trial import Trial

CheckFn = Callable[[Trial], None]


class Rubric:
    """The checks of one exercise, keyed by check id (the ids declared in the exercise YAML)."""

    def __init__(self, exercise: str):
        self.exercise = exercise
        self.checks: dict[str, CheckFn] = {}

    def check(self, check_id: str) -> Callable[[CheckFn], CheckFn]:
        def register(fn: CheckFn) -> CheckFn:
            if check_id in self.checks:
                raise ValueError(f"check '{check_id}' is defined twice")
            self.checks[check_id] = fn
            return fn

        return register


def rubric_from_source(source: str, filename: str, exercise: str) -> Rubric:
    """Execute a grader module's source and return its Rubric (graders are course code, trusted)."""
    module = types.ModuleType(f"tensorgrade_grader_{exercise}")
    module.__file__ = filename
    exec(compile(source, filename, "exec"), module.__dict__)
    found = [v for v in vars(module).values() if isinstance(v, Rubric)]
    if len(found) != 1:
        raise ValueError(f"a grader must define exactly one Rubric, found {len(found)}")
    if found[0].exercise != exercise:
        raise ValueError(f"the Rubric is for '{found[0].exercise}', expected '{exercise}'")
    return found[0]


def load_rubric(path: Path, exercise: str) -> Rubric:
    return rubric_from_source(Path(path).read_text(encoding="utf-8"), str(path), exercise)
