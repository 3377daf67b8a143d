"""`tensorgrade check`: the student's self-check on the public checks, with feedback.

In a course folder the expected values come from the reference solutions. In the
student distribution written by `tensorgrade build` (no solutions/, a
tensorgrade_otter.json instead) they come from the public expected records stored
at build time; the grading path (sandbox, Grader, judge) is the same.
"""

from __future__ import annotations

from pathlib import Path

from tensorgrade.commands.common import UsageError, add_course_option, find_course_root, grader, load
from tensorgrade.intake.layouts import read_submission


def add_parser(sub) -> None:
    p = sub.add_parser(
        "check",
        help="check your work on the public checks (students)",
        description="Run the public checks against your exercise files and explain every failure. "
                    "Exits 0 only when every public check passes. Hidden checks run only when grading.",
    )
    p.add_argument("exercises", nargs="*", metavar="EXERCISE", help="exercise ids to check (default: all)")
    p.add_argument("--path", type=Path, default=None, metavar="PATH",
                   help="your files: a folder of <exercise>.py files, or one .py/.ipynb/.zip "
                        "(default: the course's exercises/ folder)")
    add_course_option(p)
    p.set_defaults(run=run)


def is_student_distribution(root: Path) -> bool:
    from tensorgrade.otter.expected import BUNDLE

    return not (root / "solutions").is_dir() and (root / BUNDLE).is_file()


def stored_reference(course):
    """The public checks' expected records shipped with the student distribution."""
    from tensorgrade.otter.expected import BUNDLE, StoredReference

    return StoredReference(course.root / BUNDLE)


def run(args) -> int:
    root = find_course_root(args.course)  # before the imports below: "no course here" is instant
    from rich.console import Console

    from tensorgrade.render.terminal import show_check
    from tensorgrade.run.init import WARM_BEFORE, WARM_NEVER, Plan, may_need_torch_func

    console = Console(highlight=False)
    student_dist = is_student_distribution(Path(root).resolve())
    # several assignments: --assignment, else the one owning the exercises named or the files in --path
    course = load(args, layout="student" if student_dist else "course", guess=True)
    repeated = sorted({e for e in args.exercises if args.exercises.count(e) > 1})
    if repeated:
        raise UsageError(f"exercise {', '.join(repeated)} given more than once; name each exercise once")
    chosen = [course.exercise(e) for e in args.exercises] if args.exercises else list(course.exercises)
    path = args.path if args.path is not None else course.root / "exercises"
    if not path.exists():
        console.print(f"[red]{path}: no such file or folder[/]")
        return 2
    course = type(course)(root=course.root, spec=course.spec, exercises=tuple(chosen))
    sub = read_submission(path.resolve(), [e.id for e in course.exercises])
    sub.student = "you"
    console.print(f"Checking {len(chosen)} exercise(s) from [bold]{path}[/] on the public checks ...")
    reference = (lambda: stored_reference(course)) if student_dist else None
    with grader(course, Plan(public_only=True), reference=reference, many_children=False,
                warm_func=WARM_BEFORE if may_need_torch_func(sub.files.values()) else WARM_NEVER,
                prepare_for=sub.student) as g:
        result = g.grade(sub)
    if sub.status != "ok":
        console.print(f"[red]Cannot read your submission: {sub.detail}[/]")
        return 1
    show_check(console, result)
    return 0 if result.total == result.possible else 1
