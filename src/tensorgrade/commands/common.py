"""What every command needs: finding the course, and starting the sandbox and the reference.

Imports here and at the top of every command module stay light (standard library, argparse):
`tensorgrade --help` builds every command's parser, and must not pay for torch, pydantic or otter.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from tensorgrade.spec.names import COURSE_FILE

if TYPE_CHECKING:
    from tensorgrade.grading import Plan
    from tensorgrade.spec.course import Course



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
    from tensorgrade.spec.errors import SpecError

    raise SpecError(f"no {COURSE_FILE} here or in any parent folder; pass --course DIR")


def add_course_option(parser) -> None:
    parser.add_argument("--course", type=Path, default=None, metavar="DIR",
                        help="course folder holding course.yml (default: the nearest one at or above the current folder)")


def load(args) -> "Course":
    from tensorgrade.spec.course import load_course

    return load_course(find_course_root(args.course))


@contextlib.contextmanager
def grader(course: "Course", plan: "Plan", *, reference=None, hide: list[Path] = (), warm_func: bool = True):
    """A Grader with one warm sandbox zygote; the zygote is gone when the block ends.

    The zygote is started first, on a thread, before this process imports torch: the two
    imports overlap. `reference` gives expected records: the course's solutions by default,
    or a callable returning stored records (the student distribution has no solutions).
    """
    from concurrent.futures import ThreadPoolExecutor

    from tensorgrade.run.init import grader_init
    from tensorgrade.run.sandbox import Zygote  # standard library only

    hidden = [str(course.root), *map(str, hide)]
    with ThreadPoolExecutor(1) as starter:
        starting = starter.submit(Zygote, "tensorgrade.run.child", grader_init(course, warm_func=warm_func),
                                  hide=hidden)
        try:
            from tensorgrade.grading import Grader
            from tensorgrade.run.reference import Reference

            expected = reference() if callable(reference) else reference
            expected = expected if expected is not None else Reference(course)
        except BaseException:
            with contextlib.suppress(Exception):
                starting.result().close()
            raise
        zygote = starting.result()
    with zygote:
        yield Grader(course, zygote, expected, plan)
