"""grades.csv: one row per student, one column per exercise, written from the records.

The exercise columns and `raw_total` are the grading as recorded; `penalty` (late policy, points) and
`adjustment` (adjustments.csv, points) lead to `total` and `percent`, the final numbers that results.json
and the reports show too (see tensorgrade.term).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tensorgrade.results.model import StudentResult
from tensorgrade.results.store import write_atomic
from tensorgrade.results.text import csv_cell
from tensorgrade.spec.course import Course
from tensorgrade.term import Standing, Term, load_term, standing


def status_of(result: StudentResult) -> str:
    """'ok', or why not: the submission's status, else the exercises that did not run normally."""
    if result.status != "ok":
        return f"{result.status}: {result.detail}"
    faults = [f"{e.status} in {e.id}" for e in result.exercises if e.status not in ("ok",)]
    return "; ".join(faults) if faults else "ok"


def columns(course: Course) -> list[str]:
    return ["student", "name", "email", *[e.id for e in course.exercises], "raw_total", "submitted_at", "late_days",
            "penalty", "adjustment", "total", "possible", "percent", "status", "review"]


def points(x: float) -> str:
    """Points as text without float noise (2/3 of a point -> 0.6667); never '-0'."""
    x = round(x, 4)
    return f"{x + 0.0:g}"


def row(result: StudentResult, course: Course, st: Standing, review: list[str] = ()) -> list[str]:
    scores = {e.id: e.score for e in result.exercises}
    return [
        csv_cell(result.student),
        csv_cell(result.name),
        csv_cell(result.email),
        *[f"{scores.get(e.id, 0.0):g}" for e in course.exercises],
        f"{result.total:g}",
        csv_cell(result.submitted_at),
        str(st.late_days),
        points(st.penalty),
        points(st.adjustment),
        points(st.total),
        f"{result.possible:g}",
        f"{st.percent:.1f}",
        csv_cell(status_of(result)),
        csv_cell("; ".join([*result.flags, *review])),
    ]


def render_csv(results: list[StudentResult], course: Course, term: Term | None = None,
               review: dict[str, list[str]] | None = None) -> str:
    """`review`: more reasons to look per student (e.g. a similar partner), after the record's flags."""
    term = term if term is not None else load_term(course)
    review = review or {}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns(course))
    for result in sorted(results, key=lambda r: r.student):
        writer.writerow(row(result, course, standing(result, term), review.get(result.student, [])))
    return buf.getvalue()


def write_gradebook(path: Path, results: list[StudentResult], course: Course, term: Term | None = None,
                    review: dict[str, list[str]] | None = None) -> None:
    """`review` defaults to the similar partners found by the last comparison (OUT/similarity.json)."""
    if review is None:
        from tensorgrade.similarity.store import review_notes

        review = review_notes(path.parent)
    write_atomic(path, render_csv(results, course, term, review))
