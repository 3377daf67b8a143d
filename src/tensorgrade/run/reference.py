"""Run the reference solutions through the same checks, in the trusted grading process.

The reference's records are the expected values: never hard-coded, always
computed on exactly the inputs the student got (same check, same seed).
This module may import solutions; the sandboxed child (run/child.py) never does.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from tensorgrade.rubric.registry import Rubric
from tensorgrade.rubric.trial import Trial, run_trial
from tensorgrade.spec.course import Course, load_grader
from tensorgrade.wire import TrialRecord


def _load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Reference:
    """Expected records for (exercise, check, seed), computed from solutions/ on demand."""

    def __init__(self, course: Course):
        import torch

        torch.set_num_threads(1)
        self.course = course
        self.rubrics: dict[str, Rubric] = {ex.id: load_grader(ex.spec, ex.grader, course.relative)
                                           for ex in course.exercises}
        self.solutions = {
            ex.id: vars(_load_module(ex.solution, f"tensorgrade_solution_{ex.id}")) for ex in course.exercises
        }
        # Hits only when seeds repeat (--seed-by fixed, the public self-check): a small cache
        # covers every check of the course without letting memory grow with the class.
        self.record = lru_cache(maxsize=256)(self._record)

    def warm_up(self) -> None:
        """Run every check once on a throwaway seed, uncached: torch's lazy set-up (sympy on the first
        autograd.grad with grad_outputs, about 0.4 s in all) is then paid while the sandboxes start,
        not by the first student's result."""
        for ex in self.course.exercises:
            for check in self.rubrics[ex.id].checks:
                self._record(ex.id, check, 0)

    def _record(self, exercise: str, check: str, seed: int) -> TrialRecord:
        return run_trial(self.rubrics[exercise].checks[check], Trial(self.solutions[exercise], seed))
