"""The worker side of cluster grading: runs inside each Dask worker process.

Each worker process keeps, per course (keyed by the bundle's digest and the hide
list), one `Reference` and a small pool of sandbox `Zygote`s built from the course
files shipped with the task, written to a private folder under the worker's own
directory.  Nothing here needs a shared file system, and nothing returned is a
tensor: a task returns `StudentResult.to_dict()` dicts (plain JSON values).

Everything in this module runs on the worker; `tensorgrade.cluster` (the
coordinator side) only refers to `grade_batch` by name.
"""

from __future__ import annotations

import atexit
import hashlib
import multiprocessing.util
import os
import queue
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class CourseBundle:
    """A course's grading files as text ({relative path: text}), travelling to the workers once."""

    digest: str
    files: dict[str, str] = field(hash=False, compare=False)

    @classmethod
    def from_files(cls, files: dict[str, str]) -> "CourseBundle":
        h = hashlib.sha256()
        for name in sorted(files):
            h.update(name.encode() + b"\0" + files[name].encode() + b"\0")
        return cls(digest=h.hexdigest()[:16], files=dict(files))

    def write(self, folder: Path) -> None:
        root = folder.resolve()
        for name, text in self.files.items():
            rel = PurePosixPath(name)
            if rel.is_absolute() or ".." in rel.parts:
                raise ValueError(f"course bundle: unsafe path {name!r}")
            path = root.joinpath(*rel.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def ship_course(bundle: CourseBundle) -> CourseBundle:
    """The task that brings the course bundle to the cluster (re-run by Dask if its holders die)."""
    return bundle


def _worker_directory() -> str | None:
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except (ImportError, ValueError):
        return None


def _worker_threads() -> int:
    try:
        from distributed import get_worker

        return max(1, get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return 1


class CourseOnWorker:
    """One course on one worker process: its files on disk, the reference, zygotes (one per task thread)."""

    def __init__(self, bundle: CourseBundle, hide: tuple[str, ...]):
        from tensorgrade.run.reference import Reference
        from tensorgrade.run.start import Starting, close_when_up
        from tensorgrade.spec.course import load_course

        workdir = _worker_directory()
        self.folder = Path(tempfile.mkdtemp(prefix=f"tensorgrade-course-{bundle.digest[:8]}-", dir=workdir))
        bundle.write(self.folder)
        self.course = load_course(self.folder)
        # The course folder first (Starting hides the course's root: it holds the solutions), then the worker's
        # own directory (Dask's spill files, other courses), then whatever the coordinator wants hidden here.
        self._starting = Starting(self.course, 1, hide=[*([workdir] if workdir else []),
                                                        *(p for p in hide if os.path.exists(p))])
        self._new_zygote = lambda: self._starting.take(1)[0].result()
        first = self._starting.take(1)[0]  # it starts while the reference loads
        try:
            self.reference = Reference(self.course)
            self.reference.warm_up()
        except BaseException:
            close_when_up([first])
            raise
        self.zygotes = [first.result()]
        self.free: queue.Queue = queue.Queue()
        self.free.put(self.zygotes[0])
        self.lock = threading.Lock()

    def grade(self, sub, plan):
        from tensorgrade.grading import Grader

        zygote = self._take()
        try:
            return Grader(self.course, zygote, self.reference, plan).grade(sub)
        finally:
            self.free.put(zygote)

    def _take(self):
        try:
            return self.free.get_nowait()
        except queue.Empty:
            pass
        with self.lock:  # more task threads than zygotes: start one more (up to the thread count)
            if len(self.zygotes) < _worker_threads():
                z = self._new_zygote()
                self.zygotes.append(z)
                return z
        return self.free.get()

    def close(self) -> None:
        for z in self.zygotes:
            z.close()
        shutil.rmtree(self.folder, ignore_errors=True)


_courses: dict[tuple, CourseOnWorker] = {}  # least recently used first
_courses_lock = threading.Lock()
KEEP_COURSES = 3  # (course, hide list) pairs kept warm per worker process; older ones are closed


def course_on_worker(bundle: CourseBundle, hide: tuple[str, ...] = ()) -> CourseOnWorker:
    key = (bundle.digest, hide)
    with _courses_lock:
        course = _courses.pop(key, None) or CourseOnWorker(bundle, hide)
        _courses[key] = course
        while len(_courses) > KEEP_COURSES:
            _courses.pop(next(iter(_courses))).close()
        return course


def isolation_report() -> dict[str, dict[str, bool]]:
    """{course digest: the isolation layers active in this worker's zygotes} (run with `client.run`)."""
    with _courses_lock:
        return {key[0]: c.zygotes[0].isolation for key, c in _courses.items()}


def close_all() -> None:
    with _courses_lock:
        for c in _courses.values():
            c.close()
        _courses.clear()


atexit.register(close_all)
# Dask worker processes end through multiprocessing (os._exit: no atexit); its finalizers do run.
multiprocessing.util.Finalize(None, close_all, exitpriority=50)


def grade_batch(bundle: CourseBundle, plan: dict, subs: list[dict], hide: tuple[str, ...] = (),
                crash_on: frozenset[str] = frozenset()) -> list[dict]:
    """The Dask task: grade a few submissions; one {"student", "result"} or {"student", "error"} each.

    A Python exception grading one submission is returned as that student's "error" (the
    coordinator records it as an infrastructure failure); it never fails the other students.
    `crash_on` is a test-only fault injection: the worker process is killed (as by the OOM
    killer) when it is asked to grade one of these students.
    """
    from tensorgrade.grading import Plan
    from tensorgrade.intake.submission import Submission

    if crash_on and any(s["student"] in crash_on for s in subs):
        os.kill(os.getpid(), signal.SIGKILL)
    course = course_on_worker(bundle, tuple(hide))
    plan_ = Plan(**plan)
    out = []
    for data in subs:
        try:
            result = course.grade(Submission(**data), plan_)
            out.append({"student": data["student"], "result": result.to_dict()})
        except Exception as exc:  # infrastructure trouble on this worker: reported, the batch goes on
            out.append({"student": data["student"], "error": f"{type(exc).__name__}: {exc}"})
    return out
