"""grades.csv: one row per student, one column per exercise, written from the records."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tensorgrade.results.model import StudentResult
from tensorgrade.results.store import write_atomic
from tensorgrade.results.text import csv_cell
from tensorgrade.spec.course import Course


def status_of(result: StudentResult) -> str:
    """'ok', or why not: the submission's status, else the exercises that did not run normally."""
    if result.status != "ok":
        return f"{result.status}: {result.detail}"
    faults = [f"{e.status} in {e.id}" for e in result.exercises if e.status not in ("ok",)]
    return "; ".join(faults) if faults else "ok"


def columns(course: Course) -> list[str]:
    return ["student", *[e.id for e in course.exercises], "total", "possible", "percent", "status", "review"]


def row(result: StudentResult, course: Course) -> list[str]:
    scores = {e.id: e.score for e in result.exercises}
    return [
        csv_cell(result.student),
        *[f"{scores.get(e.id, 0.0):g}" for e in course.exercises],
        f"{result.total:g}",
        f"{result.possible:g}",
        f"{result.percent:.1f}",
        csv_cell(status_of(result)),
        csv_cell("; ".join(result.flags)),
    ]


def render_csv(results: list[StudentResult], course: Course) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns(course))
    for result in sorted(results, key=lambda r: r.student):
        writer.writerow(row(result, course))
    return buf.getvalue()


def write_gradebook(path: Path, results: list[StudentResult], course: Course) -> None:
    write_atomic(path, render_csv(results, course))
