"""`tensorgrade report OUT`: re-render every report and the class summary from stored records, without regrading.

Reads OUT/<student>/record.json (written by `tensorgrade grade`), writes
OUT/<student>/report.html and report.pdf next to it, and OUT/summary.html.
Useful after editing templates/ or after the due date (hidden details open).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from tensorgrade.commands.common import add_course_option, load
from tensorgrade.results.model import StudentResult
from tensorgrade.results.store import RECORD


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="re-render student reports and the class summary from stored results (no regrading)",
        description="Render OUT/<student>/report.html and report.pdf for every stored record.json in OUT, "
                    "and OUT/summary.html, with the course's templates/.",
    )
    p.add_argument("out", type=Path, metavar="OUT", help="the output folder of `tensorgrade grade`")
    p.add_argument("--no-pdf", action="store_true", help="write only the HTML reports")
    add_course_option(p)
    p.set_defaults(run=run)


def load_records(out: Path) -> tuple[list[StudentResult], list[str]]:
    results, problems = [], []
    for path in sorted(out.glob(f"*/{RECORD}")):
        try:
            results.append(StudentResult.from_dict(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{path}: unreadable record ({type(exc).__name__}: {exc})")
    return results, problems


def run(args) -> int:
    from tensorgrade.render.report import write_student_report
    from tensorgrade.render.summary import write_summary
    from tensorgrade.render.typst import available

    course = load(args)
    out = Path(args.out)
    if not out.is_dir():
        print(f"tensorgrade report: {out} is not a folder", file=sys.stderr)
        return 2
    results, problems = load_records(out)
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    if not results:
        print(f"tensorgrade report: no {RECORD} files in {out}/<student>/ (run tensorgrade grade first)",
              file=sys.stderr)
        return 1
    pdf = not args.no_pdf
    if pdf and not available():
        print("warning: the typst package is not installed; writing HTML reports only", file=sys.stderr)
        pdf = False
    start = time.perf_counter()
    for r in results:
        write_student_report(out, r, course, pdf=pdf)
    write_summary(out, results, course)
    took = time.perf_counter() - start
    print(f"Rendered {len(results)} report(s){' (HTML and PDF)' if pdf else ' (HTML)'} and {out / 'summary.html'} "
          f"in {took:.1f} s")
    return 0
