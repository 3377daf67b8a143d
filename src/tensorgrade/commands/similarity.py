"""`tensorgrade similarity SUBMISSIONS -o OUT`: compare the class's code again, without grading.

`grade` already compares after every run; this command is for a changed threshold in course.yml, or
for a class graded before similarity existed. It reads the submissions (as `grade` does, nothing is
executed), writes OUT/similarity.json and OUT/similarity.html, then rewrites OUT/grades.csv and
OUT/summary.html from the stored records so the review column and the summary name the partners.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tensorgrade.commands.common import add_course_option, load


def add_parser(sub) -> None:
    p = sub.add_parser(
        "similarity",
        help="compare submissions for similar code: OUT/similarity.html (never a penalty)",
        description="Compare every exercise's functions across the class with copydetect (winnowing over "
                    "tokens; variable names do not matter), the stub and the reference solution excluded as "
                    "boilerplate. Pairs at or above course.yml's similarity.threshold (default 0.6) are listed "
                    "side by side in OUT/similarity.html, on OUT/summary.html and in the review column of "
                    "OUT/grades.csv. Nothing is deducted. No student code runs.",
    )
    p.add_argument("submissions", type=Path, metavar="SUBMISSIONS", help="the folder or zip `grade` read")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="OUT", help="the output folder of `grade`")
    add_course_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from tensorgrade.intake.layouts import discover
    from tensorgrade.intake.tree import LayoutError
    from tensorgrade.render.summary import write_summary
    from tensorgrade.results.gradebook import write_gradebook
    from tensorgrade.results.store import load_records
    from tensorgrade.similarity.run import update_similarity

    course = load(args)
    if not args.submissions.exists():
        print(f"tensorgrade similarity: {args.submissions}: no such folder or zip", file=sys.stderr)
        return 2
    if args.out.exists() and not args.out.is_dir():
        print(f"tensorgrade similarity: -o {args.out}: is a file, not the output folder", file=sys.stderr)
        return 2
    try:
        intake = discover(args.submissions, [e.id for e in course.exercises], skip=(args.out,))
    except LayoutError as exc:
        print(f"tensorgrade similarity: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    pairs = update_similarity(args.out, course, intake.submissions)
    records = load_records(args.out)[0]
    if records:
        write_gradebook(args.out / "grades.csv", records, course)
        write_summary(args.out, records, course)
    threshold = course.spec.similarity.threshold
    print(f"Compared {len(intake.submissions)} submission(s): {len(pairs)} pair(s) at or above "
          f"{100 * threshold:.0f} % similarity; see {args.out / 'similarity.html'}")
    for p in pairs[:20]:
        print(f"  {p.exercise}: {p.a} and {p.b} ({100 * p.similarity:.0f} %)")
    return 0
