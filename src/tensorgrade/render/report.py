"""Per-student reports: OUT/<student>/report.html and report.pdf, from the stored record.

Both are rendered from `context.report_view`, so they agree with each other
and with results.json (which comes from the same StudentResult). The Typst
source of the PDF is rendered by jinja2 once per template version; each
student's data then goes in as JSON, so a report PDF is one Typst compile.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tensorgrade.render import templates
from tensorgrade.render.context import course_view, report_view
from tensorgrade.render.typst import compile_pdf
from tensorgrade.results.model import StudentResult
from tensorgrade.results.store import student_dir, write_atomic
from tensorgrade.spec.course import Course
from tensorgrade.term import Term

HTML_TEMPLATE = "report.html.j2"
PDF_TEMPLATE = "report.typ.j2"


def typst_source(course: Course, name: str) -> str:
    """The jinja2-rendered Typst source of template `name` (data-free: the data goes in as JSON)."""
    return templates.render(course.root, name, course=course_view(course))


def render_report_html(result: StudentResult, course: Course, *, now: dt.datetime | None = None,
                       term: Term | None = None) -> str:
    return templates.render(course.root, HTML_TEMPLATE, r=report_view(result, course, now, term))


def render_report_pdf(result: StudentResult, course: Course, *, now: dt.datetime | None = None,
                      term: Term | None = None) -> bytes:
    source = typst_source(course, PDF_TEMPLATE)
    root = (templates.template_dirs(course.root) or [None])[0]
    shown = templates.source_of(course.root, PDF_TEMPLATE)[0]
    return compile_pdf(source, report_view(result, course, now, term), root=root, template=shown)


PDF = "report.pdf"


def write_student_report(out: Path, result: StudentResult, course: Course, *, pdf: bool = True,
                         term: Term | None = None) -> None:
    """Write student_dir(out, student)/report.html and (when `pdf`) report.pdf, each atomically."""
    folder = student_dir(Path(out), result.student)
    write_atomic(folder / "report.html", render_report_html(result, course, term=term))
    if pdf:
        write_student_pdf(out, result, course, term=term)


def write_student_pdf(out: Path, result: StudentResult, course: Course, *, term: Term | None = None) -> Path:
    path = student_dir(Path(out), result.student) / PDF
    write_atomic(path, render_report_pdf(result, course, term=term))
    return path
