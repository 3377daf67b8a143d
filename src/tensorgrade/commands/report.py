"""`tensorgrade report OUT`: rebuild every output from stored records, without running student code.

Reads OUT/<student>/record.json (written by `tensorgrade grade`) and the course's current late policy,
extensions.csv and adjustments.csv, then writes OUT/grades.csv, OUT/summary.html and, per student,
results.json, report.html and report.pdf. Useful after editing adjustments or extensions, after
editing templates/, or after the due date (hidden details open). A file whose bytes would not change
is not rewritten, so only the affected students' files change.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tensorgrade.commands.common import add_course_option, load
from tensorgrade.results.store import RECORD, RESULTS, load_records, student_dir, write_atomic
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tensorgrade.spec.course import Course

GRADEBOOK = "grades.csv"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="rebuild grades.csv, results.json, reports and the summary from stored results (no regrading)",
        description="Rebuild OUT/grades.csv, OUT/summary.html and, for every stored OUT/<student>/record.json, "
                    "results.json, report.html and report.pdf, applying the course's current late policy, "
                    "extensions.csv and adjustments.csv and its templates/. No student code runs. "
                    "Files whose content does not change are left untouched.",
    )
    p.add_argument("out", type=Path, metavar="OUT", help="the output folder of `tensorgrade grade`")
    p.add_argument("--no-pdf", action="store_true", help="write only the HTML reports")
    add_course_option(p)
    p.set_defaults(run=run)


def write_if_changed(path: Path, data: str | bytes) -> bool:
    """Write atomically unless the file already holds exactly these bytes; True when written."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if path.read_bytes() == raw:
            return False
    except OSError:
        pass
    write_atomic(path, raw)
    return True


def term_warnings(course: Course, out: Path) -> list[str]:
    """Extension and adjustment rows naming students without a stored record in OUT."""
    from tensorgrade.term import load_term

    students = {r.student for r in load_records(out)[0]}
    return load_term(course).unknown_students(students)


def rebuild(out: Path, course: Course, *, pdf: bool) -> tuple[int, int]:
    """Every output from the stored records; returns (records, files written)."""
    import json

    from tensorgrade.render.report import render_report_html, render_report_pdf
    from tensorgrade.render.summary import render_summary_html
    from tensorgrade.results.gradebook import render_csv
    from tensorgrade.results.otter import gradescope_dict
    from tensorgrade.term import load_term

    term = load_term(course)
    results, problems = load_records(out)
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    written = 0
    for r in results:
        folder = student_dir(out, r.student)
        text = json.dumps(gradescope_dict(r, course, term=term), indent=2, ensure_ascii=False, default=str) + "\n"
        written += write_if_changed(folder / RESULTS, text)
        written += write_if_changed(folder / "report.html", render_report_html(r, course, term=term))
        if pdf:
            written += write_if_changed(folder / "report.pdf", render_report_pdf(r, course, term=term))
    if results:
        from tensorgrade.similarity.store import review_notes

        written += write_if_changed(out / GRADEBOOK, render_csv(results, course, term, review_notes(out)))
        written += write_if_changed(out / "summary.html", render_summary_html(results, course, out, term=term))
    return len(results), written


def run(args) -> int:
    from tensorgrade.render.typst import available

    course = load(args)
    out = Path(args.out)
    if not out.is_dir():
        print(f"tensorgrade report: {out} is not a folder", file=sys.stderr)
        return 2
    if not any(out.glob(f"*/{RECORD}")):
        print(f"tensorgrade report: no {RECORD} files in {out}/<student>/ (run tensorgrade grade first)",
              file=sys.stderr)
        return 1
    pdf = not args.no_pdf
    if pdf and not available():
        print("warning: the typst package is not installed; writing HTML reports only", file=sys.stderr)
        pdf = False
    start = time.perf_counter()
    count, written = rebuild(out, course, pdf=pdf)
    for line in term_warnings(course, out):
        print(f"warning: {line}", file=sys.stderr)
    print(f"Rebuilt {out / GRADEBOOK}, {out / 'summary.html'} and {count} student(s)' results.json and "
          f"report{' (HTML and PDF)' if pdf else ' (HTML)'}: {written} file(s) changed, in "
          f"{time.perf_counter() - start:.1f} s")
    return 0

