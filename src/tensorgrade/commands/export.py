"""`tensorgrade export canvas|gradescope-csv OUT ...`: final scores in the file an LMS imports.

Scores are the final ones (late policy and adjustments applied), computed from the stored records
exactly as grades.csv is; nothing is graded again.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from tensorgrade.commands.common import UsageError, add_course_option, load


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="write final scores for Canvas or Gradescope to import",
                       description="Write the final scores (late policy and adjustments applied) of the stored "
                                   "records in OUT in a format an LMS imports.")
    which = p.add_subparsers(title="formats", metavar="FORMAT")
    c = which.add_parser(
        "canvas", help="Canvas gradebook import CSV, from the roster Canvas exported",
        description="Read ROSTER (Canvas: Grades > Export, a CSV with Student, ID, SIS User ID, SIS Login ID, "
                    "Section), match each graded student by SIS User ID, SIS Login ID or Canvas ID (the student "
                    "id or the email the intake read), and write the import file: the roster's five columns, the "
                    "Points Possible row and one assignment column. Roster students without a score get a blank "
                    "cell (Canvas leaves those unchanged). Unmatched students are listed both ways.")
    c.add_argument("out", type=Path, metavar="OUT", help="the output folder of `tensorgrade grade`")
    c.add_argument("--roster", type=Path, required=True, metavar="CSV", help="the gradebook CSV Canvas exported")
    c.add_argument("-o", "--output", type=Path, required=True, metavar="CSV", help="the file to import into Canvas")
    c.add_argument("--column", metavar="NAME",
                   help="the assignment column's name (default: the roster's column named like the assignment, "
                        "e.g. 'Homework 3 (1234)', else the assignment title from course.yml)")
    add_course_option(c)
    c.set_defaults(run=run_canvas)
    g = which.add_parser("gradescope-csv", help="a Name, SID, Email, Score CSV (Gradescope's score upload)",
                         description="Write Name, SID, Email, Score (final) for every stored record.")
    g.add_argument("out", type=Path, metavar="OUT", help="the output folder of `tensorgrade grade`")
    g.add_argument("-o", "--output", type=Path, required=True, metavar="CSV", help="the file to write")
    add_course_option(g)
    g.set_defaults(run=run_gradescope_csv)
    p.set_defaults(run=lambda args: (p.print_help(), 2)[1])


def final_scores(out: Path, course):
    """(record, standing) for every stored record in OUT, sorted by student."""
    from tensorgrade.results.store import load_records
    from tensorgrade.term import load_term, standing

    term = load_term(course)
    records, problems = load_records(out)
    for line in problems:
        print(f"warning: {line}", file=sys.stderr)
    return [(r, standing(r, term)) for r in sorted(records, key=lambda r: r.student)]


def _scored(args, cmd: str):
    """(course, final scores) of the stored records in args.out; a UsageError (exit 2) when there are none."""
    course = load(args)
    if not args.out.is_dir():
        raise UsageError(f"export {cmd}: {args.out} is not a folder")
    scored = final_scores(args.out, course)
    if not scored:
        raise UsageError(f"export {cmd}: no record.json files in {args.out}/<student>/ (run tensorgrade grade first)")
    return course, scored


def run_canvas(args) -> int:
    from tensorgrade.results.canvas import Score, build_export, default_column, read_roster
    from tensorgrade.results.store import write_atomic

    course, scored = _scored(args, "canvas")
    roster = read_roster(args.roster)  # a RosterError is a SpecError: one line, exit 2
    a = course.spec.assignment
    column = args.column or default_column(roster, a.title, a.id)
    export = build_export(roster, [Score(r.student, r.email, st.total) for r, st in scored], column, course.points)
    write_atomic(args.output, export.text())
    print(f"Wrote {args.output}: column '{column}', {len(export.matched)} of {len(roster.rows)} roster "
          f"student(s) scored")
    if export.unmatched_scores:
        print(f"Graded but not in the roster ({len(export.unmatched_scores)}): "
              + ", ".join(export.unmatched_scores))
    if export.unmatched_roster:
        print(f"In the roster without a score, left blank ({len(export.unmatched_roster)}): "
              + ", ".join(export.unmatched_roster))
    return 0


def run_gradescope_csv(args) -> int:
    from tensorgrade.results.store import write_atomic
    from tensorgrade.results.text import csv_cell

    course, scored = _scored(args, "gradescope-csv")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["Name", "SID", "Email", "Score"])
    for r, st in scored:
        w.writerow([csv_cell(r.name), csv_cell(r.student), csv_cell(r.email), f"{round(st.total, 2):g}"])
    write_atomic(args.output, buf.getvalue())
    print(f"Wrote {args.output}: {len(scored)} student(s), final scores out of {course.points:g}")
    return 0
