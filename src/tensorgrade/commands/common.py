"""What every command needs: finding the course, and starting the sandbox and the reference."""

from __future__ import annotations

import contextlib
from pathlib import Path

from tensorgrade.grading import Grader, Plan, grader_init
from tensorgrade.run.reference import Reference
from tensorgrade.run.sandbox import Zygote
from tensorgrade.spec.course import COURSE_FILE, Course, load_course
from tensorgrade.spec.errors import SpecError


class UsageError(Exception):
    """A command line that cannot work (a file where a folder is needed, ...): one line, exit code 2."""


def find_course_root(start: Path | None) -> Path:
    """The given folder, or the nearest folder at or above the current one holding course.yml."""
    if start is not None:
        return Path(start)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / COURSE_FILE).is_file():
            return folder
    raise SpecError(f"no {COURSE_FILE} here or in any parent folder; pass --course DIR")


def add_course_option(parser) -> None:
    parser.add_argument("--course", type=Path, default=None, metavar="DIR",
                        help="course folder holding course.yml (default: the nearest one at or above the current folder)")


def load(args) -> Course:
    return load_course(find_course_root(args.course))


@contextlib.contextmanager
def grader(course: Course, plan: Plan, *, reference=None, hide: list[Path] = ()):
    """A Grader with one warm sandbox zygote; the zygote is gone when the block ends.

    `reference` gives expected records: the course's solutions by default, or stored
    records (the student distribution has no solutions).
    """
    reference = reference if reference is not None else Reference(course)
    hidden = [str(course.root), *map(str, hide)]
    with Zygote("tensorgrade.run.child", grader_init(course), hide=hidden) as zygote:
        yield Grader(course, zygote, reference, plan)
