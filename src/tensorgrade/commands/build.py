"""`tensorgrade build`: the student distribution and the Gradescope (otter) autograder, from the YAML specs."""

from __future__ import annotations

from pathlib import Path

from tensorgrade.commands.common import UsageError, add_course_option, load


def add_parser(sub) -> None:
    p = sub.add_parser(
        "build",
        help="build dist/student/ (hand-out with notebook) and dist/autograder/autograder.zip (instructors)",
        description="Write OUT/student/ (the stubs, the handout PDF, a Jupyter notebook with the prompts and otter check cells, "
                    "public-only otter tests and the public checks' expected values: no solutions, no hidden "
                    "checks) and OUT/autograder/autograder.zip (an otter-grader autograder for Gradescope, "
                    "built with otter's own generator, with tensorgrade bundled as a wheel).",
    )
    p.add_argument("-o", "--out", type=Path, default=Path("dist"), metavar="OUT", help="output folder (default: dist)")
    p.add_argument("--wheel", type=Path, default=None, metavar="WHL",
                   help="tensorgrade wheel to bundle (default: build one from the installed source tree)")
    add_course_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from tensorgrade.otter.build import build

    from rich.console import Console

    console = Console(highlight=False)
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"-o {args.out}: is a file; give a folder for the distributions (created if needed)")
    course = load(args)
    out = args.out if args.out.is_absolute() else Path.cwd() / args.out
    report = build(course, out, wheel=args.wheel)
    from tensorgrade.render.handout import render_handout
    from tensorgrade.results.store import write_atomic

    handout = report.student / f"{course.spec.assignment.id}.pdf"
    write_atomic(handout, render_handout(course))
    console.print(f"Student distribution: [bold]{report.student}[/] (notebook {report.notebook.name}, "
                  f"handout {handout.name})")
    console.print(f"Gradescope autograder: [bold]{report.autograder_zip}[/] (upload as an otter autograder)")
    return 0
