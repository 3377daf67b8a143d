"""The grading pipeline for one submission, its stages listed in one place.

    spec (course)  ->  run student code (sandboxed child, raw observations)
                   ->  run reference (this process, same trials, same seeds)
                   ->  judge (compare records)  ->  StudentResult

The student's code only ever runs in a child forked from a zygote that never
held reference solutions or expected values; verdicts are decided here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from tensorgrade import seeds
from tensorgrade.judge.verdict import judge, unimplemented_verdict
from tensorgrade.results.model import CheckResult, ExerciseResult, StudentResult
from tensorgrade.run.reference import Reference
from tensorgrade.run.sandbox import Limits, Outcome
from tensorgrade.run.submission import Submission
from tensorgrade.run.suspicious import suspicious
from tensorgrade.spec.course import Course

STOPPED = {
    "timeout": "stopped: no progress within the time limit of {limit:g} s",
    "cpu": "stopped: used up the CPU time limit",
    "memory": "stopped: ran out of memory (limit {memory} MiB)",
    "crashed": "stopped: the Python process crashed",
    "exit": "stopped: the code ended the Python process (os._exit / sys.exit at import, ...)",
    "protocol": "stopped: the code interfered with the grader's channel",
}


class Runner(Protocol):
    def run(self, job: dict, limits: Limits) -> Outcome: ...


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


def limits_for(course: Course) -> Limits:
    g = course.spec.grading
    return Limits(
        idle_seconds=g.time_limit,
        cpu_seconds=g.cpu_limit,
        memory_bytes=g.memory_limit_mb * 1024**2,
        output_bytes=g.output_limit_kb * 1024,
        total_seconds=max(120.0, 10 * g.time_limit * len(course.exercises)),
    )


def grader_init(course: Course) -> dict:
    """What a zygote needs to run trials: the graders' source and banned APIs, no solutions."""
    return {
        "graders": {
            ex.id: {
                "source": ex.grader.read_text(encoding="utf-8"),
                "filename": f"graders/{ex.id}.py",
                "banned": {f.name: f.banned for f in ex.spec.functions if f.banned},
            }
            for ex in course.exercises
        }
    }


class Grader:
    """Grades submissions of one course: a runner for student code, the reference, the judge."""

    def __init__(self, course: Course, runner: Runner, reference: Reference, plan: Plan = Plan()):
        self.course, self.runner, self.reference, self.plan = course, runner, reference, plan
        self.limits = limits_for(course)

    def checks(self, exercise) -> list:
        return [c for c in exercise.spec.checks if not self.plan.public_only or c.visibility == "public"]

    def seed(self, student: str, exercise: str, check: str) -> int:
        key = self.plan.student_key(student)
        return seeds.check_seed(self.course.spec.grading.seed, key, exercise, check)

    def grade(self, sub: Submission) -> StudentResult:
        start = time.perf_counter()
        result = StudentResult(student=sub.student, exercises=[], status=sub.status, detail=sub.detail)
        if sub.status != "ok":
            result.exercises = [self._zero(ex, sub.status, sub.detail) for ex in self.course.exercises]
            result.seconds = time.perf_counter() - start
            return result
        result.flags = sorted({reason for src in sub.files.values() for reason in suspicious(src)})
        records, states, output = self._run_student(sub, result)
        for ex in self.course.exercises:
            if ex.id in sub.unreadable:
                result.exercises.append(self._zero(ex, "unreadable", sub.unreadable[ex.id]))
            elif ex.id not in sub.modules:
                result.exercises.append(self._zero(ex, "missing", f"no file {ex.id}.py in the submission"))
            else:
                status, detail = states.get(ex.id, ("ok", ""))
                result.exercises.append(self._judge_exercise(sub.student, ex, records, status, detail))
        result.output = output
        result.seconds = time.perf_counter() - start
        return result

    # -- stage: run student code ------------------------------------------
    def _job(self, sub: Submission, exercises: list) -> dict:
        return {
            "files": sub.files,
            "exercises": [
                {
                    "id": ex.id,
                    "module": sub.modules[ex.id],
                    "checks": [{"id": c.id, "seed": self.seed(sub.student, ex.id, c.id)} for c in self.checks(ex)],
                }
                for ex in exercises
            ],
        }

    def _run_student(self, sub: Submission, result: StudentResult):
        """Run every exercise in a child; after a fatal fault continue with the rest in a fresh child."""
        pending = [ex for ex in self.course.exercises if ex.id in sub.modules and ex.id not in sub.unreadable]
        records: dict[tuple[str, str], dict] = {}
        states: dict[str, tuple[str, str]] = {}
        outputs = []
        while pending:
            outcome = self.runner.run(self._job(sub, pending), self.limits)
            if outcome.output:
                outputs.append(outcome.output)
            current = self._absorb(outcome.messages, records, states, result)
            done = {ex_id for ex_id in states} | {ex for ex, _ in records}
            if outcome.status == "ok":
                break
            culprit = current or pending[0].id
            call = self._last_call(outcome)
            fault = (_status_name(outcome.status), self._stopped(outcome, current_call=call))
            # A fault while importing a file hits every exercise that file holds.
            hit = [ex.id for ex in pending if sub.modules[ex.id] == sub.modules[culprit]] if call is None else [culprit]
            for ex_id in hit:
                if not any(key[0] == ex_id for key in records):
                    states[ex_id] = fault
                    done.add(ex_id)
            states[culprit] = fault
            done.add(culprit)
            pending = [ex for ex in pending if ex.id not in done]
        return records, states, "\n".join(outputs)

    @staticmethod
    def _absorb(messages, records, states, result) -> str | None:
        """File the child's messages; return the exercise that was running last."""
        current = None
        for msg in messages:
            if not isinstance(msg, dict):
                continue
            ev = msg.get("ev")
            if ev == "exercise":
                current = str(msg.get("exercise"))
            elif ev == "import_error":
                where = f" ({msg.get('where')})" if msg.get("where") else ""
                states[str(msg.get("exercise"))] = (
                    "error", f"importing your code raised {msg.get('error')}: {msg.get('message')}{where}")
            elif ev == "record" and isinstance(msg.get("record"), dict):
                records[(str(msg.get("exercise")), str(msg.get("check")))] = msg["record"]
            elif ev == "tampered":
                names = [str(n) for n in msg.get("names", [])][:10]
                result.flags.append("patched " + ", ".join(names))
            elif ev == "done":
                current = None
        return current

    @staticmethod
    def _last_call(outcome: Outcome) -> str | None:
        for msg in reversed(outcome.messages):
            if isinstance(msg, dict) and msg.get("ev") == "call":
                return str(msg.get("function"))
            if isinstance(msg, dict) and msg.get("ev") in ("record", "exercise"):
                return None
        return None

    def _stopped(self, outcome: Outcome, current_call: str | None) -> str:
        text = STOPPED.get(outcome.status, "stopped: {detail}").format(
            limit=self.limits.idle_seconds, memory=self.limits.memory_bytes // 1024**2, detail=outcome.detail)
        where = f" while running {current_call}()" if current_call else " while importing your code"
        return f"{text}{where} ({outcome.detail})" if outcome.detail else text + where

    # -- stages: reference + judge ------------------------------------------
    def _judge_exercise(self, student: str, ex, records, status: str, detail: str) -> ExerciseResult:
        checks = []
        for spec in self.checks(ex):
            record = records.get((ex.id, spec.id))
            verdict = unimplemented_verdict(record)  # needs no expected values: skip the reference run
            if verdict is None:
                expected = self.reference.record(ex.id, spec.id, self.seed(student, ex.id, spec.id))
                verdict = judge(spec, ex.spec.tolerance_for(spec.id), expected, record, stopped=detail or None)
            checks.append(CheckResult(
                id=spec.id, function=spec.function, points=spec.points,
                score=spec.points if verdict.passed else 0.0, visibility=spec.visibility,
                verifies=spec.verifies, feedback=verdict.feedback()))
        return ExerciseResult(id=ex.id, title=ex.spec.title, checks=checks, status=status, detail=detail)

    def _zero(self, ex, status: str, detail: str) -> ExerciseResult:
        return zero_exercise(ex, self.checks(ex), status, detail)


def zero_exercise(ex, checks, status: str, detail: str) -> ExerciseResult:
    """An exercise that could not be run: every check scores zero, with the reason as feedback."""
    results = [CheckResult(id=c.id, function=c.function, points=c.points, score=0.0, visibility=c.visibility,
                           verifies=c.verifies, feedback=detail) for c in checks]
    return ExerciseResult(id=ex.id, title=ex.spec.title, checks=results, status=status, detail=detail)


def zero_result(course: Course, student: str, status: str, detail: str) -> StudentResult:
    exercises = [zero_exercise(ex, ex.spec.checks, status, detail) for ex in course.exercises]
    return StudentResult(student=student, exercises=exercises, status=status, detail=detail)


def _status_name(sandbox_status: str) -> str:
    return {"crashed": "crash"}.get(sandbox_status, sandbox_status)
