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
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from tensorgrade import __version__
from tensorgrade.grading import Grader, Plan, grader_init, zero_result
from tensorgrade.results.gradebook import write_gradebook
from tensorgrade.results.model import StudentResult
from tensorgrade.results.otter import gradescope_dict
from tensorgrade.results.store import RESULTS, load_record, save_record, student_dir, sweep_partial, write_json
from tensorgrade.run.sandbox import Zygote
from tensorgrade.intake.submission import Submission, discover
from tensorgrade.spec.course import Course

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
    """Run `grade_one` on `workers` threads; yield (submission, record or exception) as each finishes."""
    with ThreadPoolExecutor(workers) as ex:
        futures = {ex.submit(grade_one, s): s for s in subs}
        for fut in as_completed(futures):
            try:
                yield futures[fut], fut.result()
            except Exception as exc:  # infrastructure trouble: recorded, the batch goes on
                yield futures[fut], exc


def infrastructure_failure(sub: Submission, exc: BaseException, course: Course) -> StudentResult:
    """A zero record for a student whose grading failed through no fault of their code (retried next run)."""
    return zero_result(course, sub.student, "error", f"grading infrastructure failed: {type(exc).__name__}: {exc}")


class LocalPool:
    """`workers` threads, each driving its own sandbox zygote; the reference runs in this process."""

    def __init__(self, course: Course, plan: Plan, workers: int, hide: list[Path]):
        from tensorgrade.run.reference import Reference

        self.course, self.plan = course, plan
        init = grader_init(course)
        hidden = [str(course.root), *map(str, hide)]
        with ThreadPoolExecutor(workers) as ex:  # zygotes start while the reference loads
            zygotes = [ex.submit(Zygote, "tensorgrade.run.child", init, hide=hidden) for _ in range(workers)]
            self.reference = Reference(course)
            self.zygotes = [z.result() for z in zygotes]
        self.free: queue.Queue[Zygote] = queue.Queue()
        for z in self.zygotes:
            self.free.put(z)
        self.workers = workers

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
        for z in self.zygotes:
            z.close()


@dataclass
class BatchReport:
    results: list[StudentResult]
    graded: int
    reused: int
    infrastructure_failures: int
    seconds: float
    gradebook: Path


def write_student(out: Path, result: StudentResult, course: Course, *, pdf: bool = True) -> None:
    """results.json and the report first, record.json last: a stored record means all outputs exist."""
    from tensorgrade.render.report import write_student_report

    write_json(student_dir(out, result.student) / RESULTS, gradescope_dict(result, course))
    write_student_report(out, result, course, pdf=pdf)
    save_record(out, result)


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
    on_start: Callable[[int, int], None] = lambda total, reused: None,
    on_result: Callable[[StudentResult], None] = lambda r: None,
) -> BatchReport:
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    sweep_partial(out)  # leftovers of a run that was killed mid-write
    subs = discover(submissions, [e.id for e in course.exercises])
    todo, reused = plan_jobs(course, subs, out, plan, regrade)
    on_start(len(subs), len(reused))
    results = list(reused)
    failures = 0
    if todo:
        factory = pool_factory or (lambda: LocalPool(course, plan, workers, hide=[submissions, out]))
        pool = factory()
        digests = {id(j.submission): j.digest for j in todo}
        last_book = time.monotonic()
        try:
            for sub, outcome in pool.grade([j.submission for j in todo]):
                if isinstance(outcome, BaseException):
                    failures += 1
                    outcome = infrastructure_failure(sub, outcome, course)
                else:
                    outcome.digest = digests[id(sub)]
                write_student(out, outcome, course, pdf=pdf)
                results.append(outcome)
                on_result(outcome)
                if time.monotonic() - last_book > 10:  # a readable gradebook even during long runs
                    write_gradebook(out / GRADEBOOK, results, course)
                    last_book = time.monotonic()
        finally:
            pool.close()
    write_gradebook(out / GRADEBOOK, results, course)
    from tensorgrade.render.summary import write_summary

    write_summary(out, results, course)
    return BatchReport(results=sorted(results, key=lambda r: r.student), graded=len(todo), reused=len(reused),
                       infrastructure_failures=failures, seconds=time.perf_counter() - start,
                       gradebook=out / GRADEBOOK)


