"""The grading pipeline for one submission, its stages listed in one place.

    spec (course)  ->  run student code (sandboxed child, raw observations)
                   ->  run reference (this process, same trials, same seeds)
                   ->  judge (compare records)  ->  StudentResult

The student's code only ever runs in a child forked from a zygote that never
held reference solutions or expected values; verdicts are decided here.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from tensorgrade import seeds, wire
from tensorgrade.judge.verdict import ReferenceFailed, Verdict, judge, unimplemented_verdict
from tensorgrade.results import status as statuses
from tensorgrade.results.model import CheckResult, ExerciseResult, StudentResult
from tensorgrade.run.init import Plan, grader_init  # noqa: F401 - re-exported: batch and the benchmarks use them
from tensorgrade.run.reference import Reference
from tensorgrade.run.sandbox import Limits, Outcome
from tensorgrade.intake.submission import Submission
from tensorgrade.intake.suspicious import suspicious
from tensorgrade.spec.course import Course


@dataclass(frozen=True)
class GraderBug:
    """The reference run of a check failed: the course's grader (or solution) is at fault, not the student."""

    exercise: str
    check: str
    where: str  # "graders/<id>.py, line N", or "" when no grader line was on the stack
    error: str
    message: str
    traceback: str = ""  # the whole traceback, for the instructor (validate)
    solution: bool = False  # the reference solution raised (rather than the grader's code)

    def text(self) -> str:
        """The instructor's one line: 'grader bug in graders/<id>.py line N: ...' (a record flag)."""
        if self.solution:
            return (f"{statuses.COURSE_BUG}solutions/{self.exercise}.py: the reference solution fails check "
                    f"{self.check}: {self.message}")[:600]
        place = self.where.replace(", line ", " line ") if self.where else f"graders/{self.exercise}.py"
        return f"{statuses.GRADER_BUG}{place} (check {self.check}): {self.error}: {self.message}"[:600]


def grader_bug(exercise: str, check: str, reference: wire.TrialRecord) -> GraderBug | None:
    """The grader bug a reference record shows (an error or a broken observation), else None."""
    for obs in reference.observations:
        if isinstance(obs, wire.Broken):
            return GraderBug(exercise, check, obs.where or "", obs.error, obs.message, obs.traceback or "")
        if isinstance(obs, wire.Raised):
            where = f" ({obs.where})" if obs.where else ""
            return GraderBug(exercise, check, "", obs.error, f"{obs.function}() raised {obs.error}: {obs.message}{where}",
                             solution=True)
    return None


# One student's reference-and-judge stage at a time in this process. The pool's threads would
# otherwise run their students' reference trials side by side, and torch lets go of the GIL in
# every backward: the threads then hand it back and forth dozens of times per student, which
# cost about a tenth of the class's CPU (docs/performance.md, fifth session). A thread waiting
# here is done with its child; its zygote (one per thread) idles meanwhile.
_JUDGING = threading.Lock()

GRADER_FEEDBACK = ("this check could not be graded because of a problem in the course's grader, not in your "
                   "code; your instructor is told")


class Runner(Protocol):
    def run(self, job: dict, limits: Limits) -> Outcome: ...


def limits_for(course: Course) -> Limits:
    g = course.spec.grading
    return Limits(
        idle_seconds=g.time_limit,
        cpu_seconds=g.cpu_limit,
        memory_bytes=g.memory_limit_mb * 1024**2,
        output_bytes=g.output_limit_kb * 1024,
        total_seconds=max(120.0, 10 * g.time_limit * len(course.exercises)),
    )


@dataclass
class _Run:
    """What the student's children reported, filed per exercise and check."""

    records: dict = field(default_factory=dict)  # (exercise, check) -> record
    outputs: dict = field(default_factory=dict)  # (exercise, check) -> printed output
    states: dict = field(default_factory=dict)  # exercise -> (status, detail)
    grader_bugs: list = field(default_factory=list)  # GraderBug, one per check whose reference run failed
    stopped: dict = field(default_factory=dict)  # (exercise, check) -> why no record came
    refusals: list = field(default_factory=list)
    import_output: list = field(default_factory=list)
    raw_output: list = field(default_factory=list)


class Grader:
    """Grades submissions of one course: a runner for student code, the reference, the judge."""

    def __init__(self, course: Course, runner: Runner, reference: Reference, plan: Plan = Plan()):
        self.course, self.runner, self.reference, self.plan = course, runner, reference, plan
        self.limits = limits_for(course)
        self.grader_bugs: dict[tuple[str, str], GraderBug] = {}  # every one met so far (validate shows them)

    def checks(self, exercise) -> list:
        return [c for c in exercise.spec.checks if not self.plan.public_only or c.visibility == "public"]

    def seed(self, student: str, exercise: str, check: str) -> int:
        key = self.plan.student_key(student)
        return seeds.check_seed(self.course.spec.grading.seed, key, exercise, check)

    def prepare(self, student: str) -> None:
        """Compute the reference's records of every planned check for `student` ahead of grading (they are
        cached): `check` does it while the sandbox starts, so the two overlap."""
        for ex in self.course.exercises:
            for c in self.checks(ex):
                self.reference.record(ex.id, c.id, self.seed(student, ex.id, c.id))

    def grade(self, sub: Submission) -> StudentResult:
        start = time.perf_counter()
        result = StudentResult(student=sub.student, exercises=[], status=sub.status, detail=sub.detail)
        if sub.status != "ok":
            result.exercises = [self._zero(ex, sub.status, sub.detail) for ex in self.course.exercises]
            result.seconds = time.perf_counter() - start
            return result
        result.flags = sorted({reason for src in sub.files.values() for reason in suspicious(src)})
        run = self._run_student(sub)
        with _JUDGING:
            for ex in self.course.exercises:
                if ex.id in sub.unreadable:
                    result.exercises.append(self._zero(ex, "unreadable", sub.unreadable[ex.id]))
                elif ex.id not in sub.modules:
                    result.exercises.append(self._zero(ex, "missing", f"no file {ex.id}.py in the submission"))
                else:
                    status, detail = run.states.get(ex.id, ("ok", ""))
                    result.exercises.append(self._judge_exercise(sub.student, ex, run, status, detail))
        refused = sorted({_refusal_text(r) for r in run.refusals})
        result.flags += [f"refused: {text}" for text in refused[:20]]
        result.flags += [bug.text() for bug in run.grader_bugs]
        hidden_ran = any(c.visibility == "hidden" for ex in self.course.exercises for c in self.checks(ex))
        public = run.import_output + [text for (ex, ch), text in run.outputs.items() if text and not self._hidden(ex, ch)]
        hidden = [text for (ex, ch), text in run.outputs.items() if text and self._hidden(ex, ch)]
        (hidden if hidden_ran else public).extend(run.raw_output)
        result.output = "\n".join(public)
        result.hidden_output = "\n".join(hidden)
        result.seconds = time.perf_counter() - start
        return result

    def _hidden(self, ex_id: str, check_id: str) -> bool:
        return self.course.exercise(ex_id).spec.check(check_id).visibility == "hidden"

    # -- stage: run student code ------------------------------------------
    def _job(self, sub: Submission, pending: list) -> dict:
        return {
            "files": sub.files,
            "notebooks": sorted(sub.notebooks),
            "exercises": [
                {
                    "id": ex.id,
                    "module": sub.modules[ex.id],
                    "checks": [{"id": c.id, "seed": self.seed(sub.student, ex.id, c.id)} for c in checks],
                }
                for ex, checks in pending
            ],
        }

    def _run_student(self, sub: Submission) -> _Run:
        """Run the student's code; once more when a lean child refused it something.

        A zygote of a class forks its first child before it warms torch.func up (run/child.after_first_job:
        the first result a second sooner). There torch's own first import of dynamo, from a student's
        torch.func call, is refused like any load of code from a student's call: that run is thrown away
        and the student graded again in a child forked after the warm-up. Refusals at compile time do not
        depend on it; any other refusal costs at most one more child per zygote."""
        run, lean = self._run_children(sub)
        if lean and any(r.get("kind") != "compile" for r in run.refusals):
            run, _ = self._run_children(sub)
        return run

    def _run_children(self, sub: Submission) -> tuple[_Run, bool]:
        """Run every exercise in a child; after a fault go on from the next check (or exercise) in a fresh child.
        Also says whether any of those children was lean."""
        run, lean = _Run(), False
        pending = [(ex, self.checks(ex)) for ex in self.course.exercises
                   if ex.id in sub.modules and ex.id not in sub.unreadable]
        while pending:
            outcome = self.runner.run(self._job(sub, pending), self.limits)
            lean = lean or outcome.lean
            if outcome.output:
                run.raw_output.append(outcome.output)
            position, fault = _absorb(outcome.messages, pending, run)
            if outcome.status == "ok" and fault is None and position is None:
                break
            ex_pos, check_pos, imported = position if position is not None else (len(pending), 0, False)
            if fault is not None:  # an event out of order or malformed: nothing of this exercise is trusted
                ex, _ = pending[min(ex_pos, len(pending) - 1)]
                self._drop(run, ex.id)
                run.states[ex.id] = ("protocol", f"{statuses.get('protocol').stopped} ({fault})")
                pending = pending[min(ex_pos, len(pending) - 1) + 1:]
                continue
            if ex_pos >= len(pending):
                break
            ex, checks = pending[ex_pos]
            status = statuses.from_sandbox(outcome.status)
            call = outcome.stopped.get("function") if outcome.stopped.get("phase") == "calling" else None
            text = self._stopped(outcome, call, imported)
            if not imported:  # a fault while importing a file hits every exercise that file holds
                module = sub.modules[ex.id]
                for other, _ in pending[ex_pos:]:
                    if sub.modules[other.id] == module:
                        run.states[other.id] = (status, text)
                pending = [(e, c) for e, c in pending[ex_pos:] if sub.modules[e.id] != module]
                continue
            run.states[ex.id] = (status, text)
            run.stopped[(ex.id, checks[check_pos].id)] = text
            rest = checks[check_pos + 1:]
            pending = ([(ex, rest)] if rest else []) + pending[ex_pos + 1:]
        return run, lean

    @staticmethod
    def _drop(run: _Run, ex_id: str) -> None:
        for key in [k for k in run.records if k[0] == ex_id]:
            del run.records[key]
            run.outputs.pop(key, None)

    def _stopped(self, outcome: Outcome, call: str | None, imported: bool) -> str:
        text = statuses.stopped_text(statuses.from_sandbox(outcome.status), limit=self.limits.idle_seconds,
                                     memory=self.limits.memory_bytes // 1024**2, detail=outcome.detail)
        if call:  # the step's label: "square_plus()" for a call, "SquarePlus.backward" for a t.run
            where = f" while running {call}"
        elif imported:
            where = " while the grader was checking what your code returned"
        else:
            where = " while importing your code"
        return f"{text}{where} ({outcome.detail})" if outcome.detail else text + where

    # -- stages: reference + judge ------------------------------------------
    def _judge_exercise(self, student: str, ex, run: _Run, status: str, detail: str) -> ExerciseResult:
        checks = []
        for spec in self.checks(ex):
            record = run.records.get((ex.id, spec.id))
            stopped = run.stopped.get((ex.id, spec.id)) or (detail if record is None else None) or None
            verdict = unimplemented_verdict(record)  # needs no expected values: skip the reference run
            if verdict is None:
                expected = self.reference.record(ex.id, spec.id, self.seed(student, ex.id, spec.id))
                bug = grader_bug(ex.id, spec.id, expected)
                if bug is not None:  # nobody's code can be judged by this check: the student is not blamed
                    self.grader_bugs.setdefault((ex.id, spec.id), bug)
                    run.grader_bugs.append(bug)
                    checks.append(CheckResult(  # a file that could not run says so first: that is the student's to fix
                        id=spec.id, function=spec.function, points=spec.points, score=0.0,
                        visibility=spec.visibility, verifies=spec.verifies,
                        feedback=stopped if record is None and stopped else GRADER_FEEDBACK))
                    continue
                try:
                    verdict = judge(spec, ex.spec.tolerance_for(spec.id), expected, record, stopped=stopped)
                except ReferenceFailed:
                    raise
                except Exception as exc:  # noqa: BLE001 - a record the child should never have sent
                    verdict = Verdict(False, problem=f"the record of this check could not be judged "
                                                     f"({type(exc).__name__}): it is not what the grader records")
                    run.refusals.append({"file": "", "line": 0, "what": f"a malformed record for {ex.id}.{spec.id}",
                                         "kind": "state"})
            checks.append(CheckResult(
                id=spec.id, function=spec.function, points=spec.points,
                score=spec.points if verdict.passed else 0.0, visibility=spec.visibility,
                verifies=spec.verifies, feedback=verdict.feedback()))
        bugs = [b.check for b in run.grader_bugs if b.exercise == ex.id]
        if bugs and status == "ok":
            status, detail = statuses.GRADER, f"check {', '.join(bugs)} could not be graded"
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


def _absorb(messages: list[dict], pending: list, run: _Run):
    """File the child's events, checking they come in the job's order.

    Returns ((exercise index, check index, imported), fault): where the child got
    to (None when it finished everything), and why the events broke the protocol
    (None when they did not).
    """
    events = iter(messages)
    for ex_pos, (ex, checks) in enumerate(pending):
        try:
            event = wire.from_json(next(events))
        except StopIteration:
            return (ex_pos, 0, False), None
        except wire.Malformed as exc:
            return (ex_pos, 0, False), str(exc)
        if event.exercise != ex.id or not isinstance(event, (wire.Imported, wire.ImportError_)):
            return (ex_pos, 0, False), f"expected the import of {ex.id}"
        run.refusals += event.refusals
        if event.output:
            run.import_output.append(event.output)
        if isinstance(event, wire.ImportError_):
            if event.kind == "policy":  # refused at compile time: named in the review column too
                file, _, line = event.where.partition(", line ")
                run.refusals.append({"file": file, "line": int(line) if line.isdigit() else 0,
                                     "what": event.message.removesuffix(" is not allowed in submissions"),
                                     "kind": "compile"})
            run.states[ex.id] = statuses.import_failure(event.kind, event.message, event.where)
            continue
        for check_pos, check in enumerate(checks):
            try:
                event = wire.from_json(next(events))
            except StopIteration:
                return (ex_pos, check_pos, True), None
            except wire.Malformed as exc:
                return (ex_pos, check_pos, True), str(exc)
            if not isinstance(event, wire.Record) or (event.exercise, event.check) != (ex.id, check.id):
                return (ex_pos, check_pos, True), f"expected the record of {ex.id}.{check.id}"
            run.records[(ex.id, check.id)] = event.record
            run.outputs[(ex.id, check.id)] = event.output
            run.refusals += event.refusals
    if next(events, None) is not None:
        return (len(pending), 0, False), "events after the last check"
    return None, None


def _refusal_text(refusal: dict) -> str:
    where = f"{refusal['file']}, line {refusal['line']}: " if refusal.get("line") else (
        f"{refusal['file']}: " if refusal.get("file") else "")
    return f"{where}{refusal['what']}"

