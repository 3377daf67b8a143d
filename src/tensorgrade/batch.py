"""Grade a whole class: discover submissions, skip unchanged ones, grade the rest in parallel, write outputs.

The stages for a class, in order:
    discover (intake/layouts)  ->  resume (results/store)  ->  grade (grading.Grader on a pool)
    ->  write per student (record.json, results.json)  ->  gradebook (grades.csv)

A pool is anything with `grade(subs) -> iterator of StudentResult` in completion
order: `LocalPool` (threads, one sandbox zygote each) here; a Dask pool plugs in
the same way.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from tensorgrade import __version__
from tensorgrade.grading import Grader, Plan, zero_result
from tensorgrade.intake.layouts import Intake, discover
from tensorgrade.intake.submission import Submission
from tensorgrade.results import status
from tensorgrade.results.gradebook import write_gradebook
from tensorgrade.results.intake import INTAKE, render_intake_csv
from tensorgrade.results.model import StudentResult
from tensorgrade.results.otter import gradescope_dict
from tensorgrade.results.store import (RECORD, RESULTS, load_record, load_records, save_record, student_dir,
                                       sweep_partial, write_atomic, write_json)
from tensorgrade.run.sandbox import Zygote
from tensorgrade.run.start import Starting, close_when_up
from tensorgrade.spec.course import Course
from tensorgrade.term import Term, load_term

GRADEBOOK = "grades.csv"


@dataclass(frozen=True)
class Job:
    submission: Submission
    digest: str


def job_digest(sub: Submission, course_version: str, plan: Plan) -> str:
    """Changes when the submission, the course's grading files, the plan or tensorgrade change."""
    text = f"{sub.digest()}\0{course_version}\0{plan.seed_by}\0{plan.engine}\0{__version__}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def grade_concurrently(grade_one: Callable[[Submission], StudentResult], subs: Iterable[Submission],
                       workers: int) -> Iterator[tuple[Submission, StudentResult | BaseException]]:
    """Run `grade_one` on `workers` threads; yield (submission, record or exception) as each finishes.

    Closing the iterator early (Ctrl-C, an error in the caller) cancels the students not yet started:
    only the ones being graded are finished."""
    ex = ThreadPoolExecutor(workers)
    try:
        futures = {ex.submit(grade_one, s): s for s in subs}
        for fut in as_completed(futures):
            try:
                yield futures[fut], fut.result()
            except Exception as exc:  # infrastructure trouble: recorded, the batch goes on
                yield futures[fut], exc
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


def infrastructure_failure(sub: Submission, exc: BaseException, course: Course) -> StudentResult:
    """A zero record for a student whose grading failed through no fault of their code (retried next run)."""
    return zero_result(course, sub.student, status.INFRASTRUCTURE,
                       f"grading infrastructure failed: {type(exc).__name__}: {exc}")


class LocalPool:
    """`workers` threads, each driving its own sandbox zygote; the reference runs in this process.

    Grading starts as soon as the first zygote is up; the others join the pool as they come.
    `starting`: zygotes already on their way up (the command started one before reading the class),
    hiding what `hide` names (it is used only when the pool starts its own)."""

    def __init__(self, course: Course, plan: Plan, workers: int, hide: list[Path], starting: Starting | None = None):
        from tensorgrade.run.reference import Reference

        self.course, self.plan, self.workers = course, plan, workers
        self.free: queue.Queue[Zygote] = queue.Queue()
        self.zygotes: list[Zygote] = []
        self._closed, self._lock = False, threading.Lock()
        starting = starting or Starting(course, 1, hide=hide)
        first = starting.take(1)
        try:
            self.reference = Reference(course)  # while the first zygote starts
            self.reference.warm_up()
            self._arrived(first[0].result())  # a sandbox that cannot start stops the run here
        except BaseException:
            close_when_up(first)
            raise
        # The others only now: started alongside the first, they took a core from it (the first came
        # up about a second later, and with it the first result); the last arrives about as soon.
        for future in starting.take(workers - 1):
            future.add_done_callback(self._on_started)

    def _on_started(self, future) -> None:
        if future.exception() is None:  # one that fails later leaves the pool a worker short, no more
            self._arrived(future.result())

    def _arrived(self, zygote: Zygote) -> None:
        with self._lock:
            if self._closed:
                zygote.close()
                return
            self.zygotes.append(zygote)
        self.free.put(zygote)

    @property
    def isolation(self) -> dict[str, bool]:
        return self.zygotes[0].isolation

    def _grade_one(self, sub: Submission) -> StudentResult:
        zygote = self.free.get()
        try:
            return Grader(self.course, zygote, self.reference, self.plan).grade(sub)
        finally:
            self.free.put(zygote)

    def grade(self, subs: Iterable[Submission]) -> Iterator[tuple[Submission, StudentResult | BaseException]]:
        return grade_concurrently(self._grade_one, subs, self.workers)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            zygotes = list(self.zygotes)
        for z in zygotes:
            z.close()


@dataclass
class BatchReport:
    results: list[StudentResult]
    graded: int
    reused: int
    infrastructure_failures: int
    seconds: float
    gradebook: Path
    intake: Intake | None = None


class WriteFailed(RuntimeError):
    """Rendering or writing one student's outputs failed: tensorgrade's fault, retried on the next run."""


def identify(result: StudentResult, sub: Submission) -> StudentResult:
    """Who and when, from the intake: applied to fresh and reused records alike (a roster may change)."""
    result.name, result.email, result.submitted_at = sub.name, sub.email, sub.submitted_at
    result.intake_notes = list(sub.intake_notes)
    return result


def write_student(out: Path, result: StudentResult, course: Course, *, pdf: bool = True,
                  term: Term | None = None) -> None:
    """results.json and the report first, record.json last: a stored record means all outputs exist."""
    from tensorgrade.render.report import write_student_report

    term = term if term is not None else load_term(course)
    write_json(student_dir(out, result.student) / RESULTS, gradescope_dict(result, course, term=term))
    write_student_report(out, result, course, pdf=pdf, term=term)
    save_record(out, result)


class UnknownStudents(ValueError):
    """`--only` named students the submissions folder does not hold."""


def select(subs: list[Submission], only: Iterable[str]) -> list[Submission]:
    """The submissions of the students in `only`; UnknownStudents naming any id without one."""
    wanted = list(dict.fromkeys(only))
    have = {s.student for s in subs}
    missing = [w for w in wanted if w not in have]
    if missing:
        raise UnknownStudents(f"--only: no submission for {', '.join(missing)} in this folder")
    return [s for s in subs if s.student in set(wanted)]


def kept_records(out: Path, graded_now: set[str]) -> list[StudentResult]:
    """Stored records of students not in this run: they stay in the gradebook and the summary."""
    return [r for r in load_records(out)[0] if r.student not in graded_now]


def write_pdfs(out: Path, fresh: list[StudentResult], stored: list[StudentResult], course: Course,
               term: Term, workers: int = 1) -> int:
    """Report PDFs after grading, off the critical path: for this run's records and for stored ones
    still without a PDF (a run killed after grading), split over `workers` processes for a class
    (render/pdfs.py). A failure unstores that record (graded again next run) and counts as an
    infrastructure failure; returns how many failed."""
    from tensorgrade.render import pdfs
    from tensorgrade.render.report import PDF

    missing = [r for r in stored if not (student_dir(out, r.student) / PDF).exists()]
    failed = pdfs.write_pdfs(out, [*fresh, *missing], course, term, workers)
    for student in failed:
        (student_dir(out, student) / RECORD).unlink(missing_ok=True)
    return len(failed)


def plan_jobs(course: Course, subs: list[Submission], out: Path, plan: Plan, regrade: bool):
    """Split submissions into (to grade, reused records) by comparing digests with stored records."""
    version = course.version()
    todo, reused = [], []
    for sub in subs:
        digest = job_digest(sub, version, plan)
        old = None if regrade else load_record(out, sub.student)
        if old is not None and old.digest == digest:
            reused.append(old)
        else:
            todo.append(Job(sub, digest))
    return todo, reused


def run_batch(
    course: Course,
    submissions: Path,
    out: Path,
    *,
    plan: Plan = Plan(),
    workers: int = 2,
    regrade: bool = False,
    pdf: bool = True,
    pool_factory: Callable[..., object] | None = None,
    time_from: str = "lms",
    only: Iterable[str] | None = None,
    on_start: Callable[[int, int], None] = lambda total, reused: None,
    on_result: Callable[[StudentResult], None] = lambda r: None,
    sandboxes: Starting | None = None,
) -> BatchReport:
    """Grade the class in `submissions` into `out` (see the module docstring for the stages).

    `sandboxes`: zygotes the caller started before reading the class (they take seconds to come up);
    the local pool takes them, and they are closed if nothing is graded locally."""
    try:
        start = time.perf_counter()
        intake = discover(submissions, [e.id for e in course.exercises], skip=(out,), time_from=time_from)
        out.mkdir(parents=True, exist_ok=True)
        sweep_partial(out)  # leftovers of a run that was killed mid-write
        write_atomic(out / INTAKE, render_intake_csv(intake.ignored))
        subs = intake.submissions
        term = load_term(course)  # a broken extensions.csv / adjustments.csv stops the run before any grading
        if only is not None:  # just these students, graded again; every other row stays as stored
            subs, regrade = select(subs, only), True
        if not subs:  # an empty class: nothing to summarise, and earlier outputs stay as they were
            return BatchReport(results=[], graded=0, reused=0, infrastructure_failures=0,
                               seconds=time.perf_counter() - start, gradebook=out / GRADEBOOK, intake=intake)
        by_student = {s.student: s for s in subs}
        todo, reused = plan_jobs(course, subs, out, plan, regrade)
        reused = [identify(r, by_student[r.student]) for r in reused]
        on_start(len(subs), len(reused))
        results = list(reused)
        kept = kept_records(out, set(by_student))
        failures = 0
        if todo:
            zygotes = min(workers, len(todo))  # one submission never needs two sandboxes
            factory = pool_factory or (lambda: LocalPool(course, plan, zygotes, hide=[submissions, out],
                                                         starting=sandboxes))
            pool = factory()
            digests = {id(j.submission): j.digest for j in todo}
            last_book = time.monotonic()
            graded = pool.grade([j.submission for j in todo])
            try:
                for sub, outcome in graded:
                    if isinstance(outcome, BaseException):
                        failures += 1
                        outcome = infrastructure_failure(sub, outcome, course)
                    else:
                        outcome.digest = digests[id(sub)]
                    identify(outcome, sub)
                    try:
                        write_student(out, outcome, course, pdf=False, term=term)  # PDFs after grading (below)
                    except Exception as exc:  # noqa: BLE001 - tensorgrade failed on this student's outputs: named, retried
                        failures += 1
                        outcome = identify(infrastructure_failure(sub, WriteFailed(f"writing {sub.student}'s outputs "
                                                                                  f"failed: {type(exc).__name__}: {exc}"),
                                                                  course), sub)
                        write_json(student_dir(out, sub.student) / RESULTS, gradescope_dict(outcome, course, term=term))
                    results.append(outcome)
                    on_result(outcome)
                    if time.monotonic() - last_book > 10:  # a readable gradebook even during long runs
                        write_gradebook(out / GRADEBOOK, results + kept, course, term)
                        last_book = time.monotonic()
            finally:
                getattr(graded, "close", lambda: None)()  # stopped early: students not yet started are not graded
                pool.close()
    finally:  # taken by the local pool, or not needed: closed
        if sandboxes is not None:
            sandboxes.discard()
    if pdf:
        failures += write_pdfs(out, results[len(reused):], reused, course, term,  # results: reused, then fresh
                               workers=workers)
    from tensorgrade.similarity.run import update_similarity

    update_similarity(out, course, intake.submissions)  # before the gradebook: its review column names partners
    write_gradebook(out / GRADEBOOK, results + kept, course, term)
    from tensorgrade.render.summary import write_summary

    write_summary(out, results + kept, course, term=term)
    return BatchReport(results=sorted(results, key=lambda r: r.student), graded=len(todo), reused=len(reused),
                       infrastructure_failures=failures, seconds=time.perf_counter() - start,
                       gradebook=out / GRADEBOOK, intake=intake)


