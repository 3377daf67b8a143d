"""`tensorgrade handout`: the assignment handout as a PDF (Typst, from templates/handout.typ.j2)."""

from __future__ import annotations

from pathlib import Path

from tensorgrade.commands.common import UsageError, add_course_option, load
from tensorgrade.results.store import write_atomic


def add_parser(sub) -> None:
    p = sub.add_parser(
        "handout",
        help="write the assignment handout PDF (instructors)",
        description="Render the assignment handout (course, due date, how to submit, every exercise's prompt "
                    "with typeset math, function signatures, starter code and points) to a PDF with Typst, "
                    "from the course's templates/handout.typ.j2.",
    )
    p.add_argument("-o", "--output", type=Path, default=None, metavar="FILE.pdf",
                   help="where to write the PDF (default: <assignment id>-handout.pdf in the current folder)")
    add_course_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from tensorgrade.render.handout import render_handout

    if args.output is not None and args.output.is_dir():
        raise UsageError(f"-o {args.output}: is a folder; give the PDF's file name, e.g. {args.output / 'handout.pdf'}")
    course = load(args)
    out = args.output or Path(f"{course.spec.assignment.id}-handout.pdf")
    pdf = render_handout(course)
    write_atomic(out, pdf)
    print(f"Handout: {out} ({len(pdf) // 1024} KiB)")
    return 0
