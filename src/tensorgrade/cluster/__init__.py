"""Grade a class on a Dask cluster: `DaskPool`, a pool for `tensorgrade.batch.run_batch`.

    coordinator (this process)                           each Dask worker process
    ──────────────────────────                           ────────────────────────
    course files ─► CourseBundle ─► one task all tasks depend on ───► cached per process:
    submissions (source text) ─► a few per task ──────────────────►   course folder, Reference,
    run_batch writes outputs ◄── as_completed ◄── StudentResult dicts ◄─ sandbox Zygote(s)

Workers run exactly the grading of a local run (`grading.Grader` with a sandbox zygote
and the reference), so results are identical; the coordinator stays the only writer
of the gradebook, per-student records and reports (that is `run_batch`'s job).

Faults: a worker that dies mid-task has its task re-run elsewhere by Dask.  A task
that keeps killing workers fails with `KilledWorker` after
`distributed.scheduler.allowed-failures` retries; its submissions are then re-sent
one per task, so only the culprit ends as a per-student failure (a final record with
status "error", detail `WorkerKilled: ...`, flagged for review; not a failed batch).

dask is an optional dependency (`pip install "tensorgrade[dask]"`): it is imported
only when a pool is created.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections import deque
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from tensorgrade.cluster.worker import CourseBundle, grade_batch, ship_course
from tensorgrade.grading import Plan, zero_result
from tensorgrade.results.model import StudentResult
from tensorgrade.intake.submission import Submission
from tensorgrade.spec.course import COURSE_FILE, Course

__all__ = ["CourseBundle", "DaskPool", "WorkerKilled", "course_bundle", "parse_local", "pool_factory"]

# Measured (benchmarks/bench_cluster.py, docs/cluster.md): a submission takes ~0.3 s to grade
# and a task costs ~5 ms, so batching gains little; small batches keep load balancing,
# streaming and re-grading after a worker death fine-grained.
MAX_BATCH = 4
TASKS_PER_THREAD = 4  # aim for at least this many tasks per worker thread before batching
LOST_RETRIES = 3  # a task whose result or course bundle was lost is sent again this many times
NO_WORKER_SECONDS = 600.0  # no worker at all for this long: the remaining submissions fail, named, not a hang (workers
# restarting under heavy load, each importing torch, were measured to take more than 2 minutes)


class NoWorkers(RuntimeError):
    """The cluster lost every worker and none came back."""


class WorkerKilled(RuntimeError):
    """Grading one submission killed Dask workers repeatedly (KilledWorker after allowed-failures).

    Reported as that student's final record (status "error", flagged for review), not raised.
    """


def course_bundle(course: Course) -> CourseBundle:
    """The files a worker needs to load the course: course.yml, exercises/*.yml + stubs, solutions, graders."""
    paths = []
    for ex in course.exercises:
        paths += [course.root / "exercises" / f"{ex.id}.yml", ex.stub, ex.grader]
        if ex.solution is not None:
            paths.append(ex.solution)
    files = {COURSE_FILE: course.course_yaml()}  # of this assignment alone: the worker loads it as is
    return CourseBundle.from_files({**files, **{p.relative_to(course.root).as_posix(): p.read_text(encoding="utf-8")
                                               for p in paths}})


def parse_local(spec: str, default: int) -> int:
    """`local` or `local:N` (the value of --cluster) -> number of workers."""
    name, _, n = spec.partition(":")
    if name != "local" or (n and not n.isdigit()) or (n and int(n) < 1):
        raise ValueError(f"--cluster: expected local or local:N (N >= 1), got {spec!r}")
    return int(n) if n else default


def _require_dask():
    try:
        import distributed
    except ImportError:
        raise RuntimeError('cluster grading needs dask.distributed: pip install "tensorgrade[dask]"') from None
    return distributed


def local_cluster(workers: int):
    """A `LocalCluster` of single-threaded worker processes, preloaded with torch."""
    import dask
    import distributed

    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
        return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, preload=["tensorgrade.cluster.preload"])


class DaskPool:
    """A pool for `run_batch` that grades on a Dask cluster.

    scheduler: address of an existing scheduler (tcp://host:port), or
    local_workers: start a `LocalCluster` with that many single-threaded worker processes
    (closed again by `close()`), or
    client: an existing `distributed.Client` (left open by `close()`).
    hide: folders the sandbox must not see on workers that share this machine's file
    system (course root, class folder, output); paths missing on a worker are skipped.
    batch_size: submissions per task (default: up to MAX_BATCH, fewer for small classes);
    inflight: tasks handed to Dask at once (default: the cluster's worker threads).
    crash_on: test-only fault injection, students whose task kills its worker process.
    """

    def __init__(self, course: Course, plan: Plan = Plan(), *, scheduler: str | None = None,
                 local_workers: int | None = None, client=None, batch_size: int | None = None,
                 inflight: int | None = None, hide: Sequence[str | Path] = (), crash_on: Iterable[str] = (),
                 connect_timeout: float = 30):
        distributed = _require_dask()
        if sum(x is not None for x in (scheduler, local_workers, client)) != 1:
            raise ValueError("DaskPool: give exactly one of scheduler, local_workers, client")
        self.course, self.plan = course, plan
        self.batch_size, self.inflight = batch_size, inflight
        self._threads, self._threads_at = 1, -1.0
        self.hide = tuple(str(Path(p).resolve()) for p in (course.root, *hide))
        self.crash_on = frozenset(crash_on)
        self.cluster = None
        self._own_client = client is None
        if local_workers is not None:
            self.cluster = local_cluster(local_workers)
            client = distributed.Client(self.cluster)
        elif scheduler is not None:
            client = distributed.Client(scheduler, timeout=connect_timeout)
        self.client = client
        try:
            self.bundle_data = course_bundle(course)
            self._ship_course()
        except BaseException:
            self.close()
            raise

    def _ship_course(self) -> None:
        """Send the course once; tasks depend on it and workers fetch it from each other.

        Not `client.scatter(..., broadcast=True)`: scattered data cannot be recomputed, so when
        every worker holding it dies at once (two workers and a submission that kills its
        worker: it happens) the scheduler cancels every task that needs it, and with them Dask's
        count of worker deaths that turns a culprit into KilledWorker.  A task that returns the
        bundle is held by the scheduler and simply re-run on a new worker.
        """
        self.bundle = self.client.submit(ship_course, self.bundle_data, pure=False,
                                         key=f"tensorgrade-course-{self.bundle_data.digest}-{uuid.uuid4().hex[:8]}")

    @property
    def threads(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def batch_for(self, n: int) -> int:
        if self.batch_size:
            return self.batch_size
        return max(1, min(MAX_BATCH, n // (self.threads * TASKS_PER_THREAD)))

    def _submit(self, chunk: list[Submission]):
        # One key prefix for all tasks: one task group, which the scheduler queues as root-ish work.
        return self.client.submit(grade_batch, self.bundle, dataclasses.asdict(self.plan),
                                  [dataclasses.asdict(s) for s in chunk], self.hide, self.crash_on,
                                  key=f"tensorgrade-grade-{uuid.uuid4().hex}", pure=False)

    def _inflight_limit(self) -> int:
        """Tasks handed to Dask at once: one per worker thread (re-read as workers come and go).

        Keeping the rest here means a worker that dies holds few tasks besides the one it was running;
        who was to blame is then decided by running each suspect alone (see `grade`).
        """
        now = time.monotonic()
        if now - self._threads_at > 1.0:
            self._threads, self._threads_at = self.threads, now
        return self.inflight or self._threads

    def grade(self, subs: Iterable[Submission]) -> Iterator[tuple[Submission, StudentResult | BaseException]]:
        from distributed import KilledWorker, as_completed

        subs = list(subs)
        if not subs:
            return
        size = self.batch_for(len(subs))
        waiting = deque(subs[i:i + size] for i in range(0, len(subs), size))
        suspects: deque[list[Submission]] = deque()  # one submission each, whose worker died while it was there
        running: dict[str, tuple[object, list[Submission]]] = {}
        alone: set[str] = set()  # the key of a suspect running with nothing else on the cluster
        lost: dict[int, int] = {}  # id(first submission) -> resubmissions after losing a result or the bundle
        ac = as_completed()
        self._threads_at = -1.0

        def submit(chunk: list[Submission]) -> str:
            fut = self._submit(chunk)
            running[fut.key] = (fut, chunk)
            ac.add(fut)
            return fut.key

        def top_up() -> None:
            """Hand Dask more work. A suspect runs only alone: a worker's death is then its own doing.

            Dask counts a death against every task the worker held, queued ones too; a batch-mate
            queued behind the culprit must never be judged by that count.
            """
            if alone or starved.is_set():
                return
            if suspects:
                if not running:
                    alone.add(submit(suspects.popleft()))
                return
            limit = self._inflight_limit()
            while waiting and len(running) < limit:
                submit(waiting.popleft())

        starved = threading.Event()  # set by the watchdog: the cluster has had no worker for too long
        no_workers = NoWorkers(f"the Dask cluster had no worker for {NO_WORKER_SECONDS:g} s (workers that could not "
                               "restart? see the workers' logs); run the command again to retry")
        watchdog = threading.Thread(target=self._watch_workers, args=(starved, running), daemon=True)
        top_up()
        watchdog.start()
        try:
            for fut in ac:
                _, chunk = running[fut.key]
                try:  # a finished task's result can still be lost (its worker died before we fetched it);
                    items, exc = fut.result(), None  # it stays in `running` meanwhile: the watchdog can cancel it
                except (KilledWorker, CancelledError, Exception) as e:
                    exc = e
                running.pop(fut.key)
                was_alone = fut.key in alone
                alone.discard(fut.key)
                fut.release()
                if exc is None:
                    top_up()
                    yield from self._unpack(chunk, items)
                    continue
                if starved.is_set():
                    for sub in chunk:
                        yield sub, no_workers
                elif isinstance(exc, KilledWorker):
                    if was_alone:  # it killed its workers with nothing else running: the culprit
                        yield chunk[0], self._killer_record(chunk[0])
                    else:  # find the culprit: each submission of the task again, alone on the cluster
                        suspects.extend([sub] for sub in chunk)
                elif lost.get(id(chunk[0]), 0) < LOST_RETRIES:
                    # grade_batch returns every student's exception as data, so a task that raises here lost
                    # its result (the worker holding it died before it was fetched: "couldn't gather keys")
                    # or the course bundle (cancelled): the same task again, never a batch-mate's failure
                    lost[id(chunk[0])] = lost.get(id(chunk[0]), 0) + 1
                    if isinstance(exc, CancelledError):
                        self._ship_course()
                    waiting.appendleft(chunk)
                else:
                    for sub in chunk:
                        yield sub, exc
                top_up()
            if starved.is_set():  # what was never handed to Dask fails the same way, named, retried next run
                for chunk in [*waiting, *suspects]:
                    for sub in chunk:
                        yield sub, no_workers
        finally:
            starved.set()  # also stops the watchdog
            for fut, _ in running.values():
                fut.cancel()

    def _watch_workers(self, starved: threading.Event, running: dict) -> None:
        """Cancel what is running when no worker has been seen for NO_WORKER_SECONDS (never hang)."""
        last_seen = time.monotonic()
        while not starved.wait(1.0):
            try:
                if self.client.nthreads():
                    last_seen = time.monotonic()
            except Exception:  # noqa: BLE001 - the scheduler is unreachable: counts as no worker
                pass
            if time.monotonic() - last_seen > NO_WORKER_SECONDS:
                starved.set()
                for fut, _ in list(running.values()):
                    fut.cancel()

    def _killer_record(self, sub: Submission) -> StudentResult:
        """A final per-student failure: the batch goes on and later runs do not retry it (--regrade does)."""
        detail = (f"{WorkerKilled.__name__}: every Dask worker process that graded this submission died "
                  "(KilledWorker after distributed.scheduler.allowed-failures retries); look at the workers' "
                  "memory and logs (e.g. the OOM killer)")
        result = zero_result(self.course, sub.student, "error", detail)
        result.flags.append("killed its grading worker repeatedly: review by hand")
        return result

    @staticmethod
    def _unpack(chunk: list[Submission], items: list[dict]):
        by_student = {item["student"]: item for item in items}
        for sub in chunk:
            item = by_student.get(sub.student)
            if item is None:
                yield sub, RuntimeError("the worker returned no result for this submission")
            elif "error" in item:
                yield sub, RuntimeError(f"on the Dask worker: {item['error']}")
            else:
                yield sub, StudentResult.from_dict(item["result"])

    def isolation(self) -> dict[str, dict[str, bool]]:
        """{worker address: isolation layers of its zygote for this course} (workers that graded it)."""
        from tensorgrade.cluster.worker import isolation_report

        reports = self.client.run(isolation_report)
        return {addr: r[self.bundle_data.digest] for addr, r in reports.items() if self.bundle_data.digest in r}

    def close(self) -> None:
        if self._own_client and self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None


def pool_factory(course: Course, plan: Plan, *, scheduler: str | None = None, local_workers: int | None = None,
                 hide: Sequence[str | Path] = (), **kwargs):
    """A zero-argument factory for `run_batch(pool_factory=...)`: the pool starts only if there is work."""
    _require_dask()  # fail before grading starts if the extra is missing
    return lambda: DaskPool(course, plan, scheduler=scheduler, local_workers=local_workers, hide=hide, **kwargs)
