"""A class's report PDFs, split over worker processes: Typst's layout holds a core for each report
(25-35 ms), so after grading, with the sandboxes closed, `workers` interpreters share them.

A worker is a fresh interpreter (`python -m tensorgrade.render.pdfs`): never a fork of the grading
process (it holds torch and threads) and never multiprocessing's spawn (which runs the caller's main
script again). It reads (out, results, course, term) pickled on stdin, from this process only, and
prints the students whose PDF failed as a JSON list. It imports the rendering modules alone (no
torch, no otter): about half a second to start.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

from tensorgrade.render.report import write_student_pdf
from tensorgrade.results.model import StudentResult
from tensorgrade.spec.course import Course
from tensorgrade.term import Term

PARALLEL = 40  # from this many reports on, workers are worth their start


def write_pdfs_here(out: Path, results: list[StudentResult], course: Course, term: Term) -> list[str]:
    """Write these students' report PDFs in this process; the students whose PDF failed."""
    failed = []
    for result in results:
        try:
            write_student_pdf(out, result, course, term=term)
        except Exception:  # noqa: BLE001 - the caller unstores the record, so the next run retries
            failed.append(result.student)
    return failed


def write_pdfs(out: Path, results: list[StudentResult], course: Course, term: Term, workers: int) -> list[str]:
    """The students whose PDF failed; split over `workers` processes from PARALLEL reports on. Every
    student of a worker that fails to start or dies counts as failed."""
    if workers < 2 or len(results) < PARALLEL:
        return write_pdfs_here(out, results, course, term)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p or os.getcwd() for p in sys.path)}  # the same tensorgrade
    started = []
    for chunk in (results[i::workers] for i in range(workers)):
        proc = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                env=env)
        started.append((proc, chunk))
    for proc, chunk in started:  # all are started before any is written to: they import side by side
        try:
            proc.stdin.write(pickle.dumps((Path(out), chunk, course, term)))
            proc.stdin.close()
        except BrokenPipeError:  # it died at start; counted below
            pass
    failed: list[str] = []
    for proc, chunk in started:
        said = proc.stdout.read()
        if proc.wait() == 0:
            failed += json.loads(said)
        else:
            failed += [r.student for r in chunk]
    return failed


def main() -> None:
    out, results, course, term = pickle.load(sys.stdin.buffer)
    print(json.dumps(write_pdfs_here(out, results, course, term)))


if __name__ == "__main__":
    main()
