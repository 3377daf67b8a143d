"""What every command needs: finding the course, and starting the sandbox and the reference.

Imports here and at the top of every command module stay light (standard library, argparse):
`tensorgrade --help` builds every command's parser, and must not pay for torch, pydantic or otter.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from tensorgrade.spec.names import COURSE_FILE
from tensorgrade.run.init import WARM_AFTER_FIRST

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
    parser.add_argument("--assignment", default=None, metavar="ID",
                        help="which assignment of course.yml to work on: needed when it lists several under "
                             "`assignments:`, optional with one")


# With several assignments, `grade` writes the assignment's id here in OUT; every command reading OUT
# refuses an OUT that holds another assignment's results (records of two assignments never mix).
OUTPUT_MARKER = "assignment.txt"


def _guess_assignment(spec, exercises, path: Path | None) -> str | None:
    """For `check`: the one assignment owning the named exercises, or else the student's files; None if unclear."""
    owner = {ex: a.id for a in spec.assignments for ex in a.exercises}
    names: set[str] = set(exercises)
    if not names and path is not None:
        if path.is_dir():
            names = {f.stem for f in path.iterdir() if f.suffix == ".py"}
        elif path.suffix == ".py":
            names = {path.stem}
        elif path.suffix == ".zip":
            import zipfile

            try:
                with zipfile.ZipFile(path) as z:
                    names = {Path(n).stem for n in z.namelist() if n.endswith(".py")}
            except (OSError, zipfile.BadZipFile):
                return None  # reported by the reader, with the file's name
    found = {owner[n] for n in names if n in owner}
    return found.pop() if len(found) == 1 else None


def _check_output(course: "Course", args, claim: bool) -> None:
    out = getattr(args, "out", None)
    if not course.several or not isinstance(out, Path):
        return
    marker, mine = out / OUTPUT_MARKER, course.spec.assignment.id
    try:
        theirs = marker.read_text(encoding="utf-8").strip()
    except OSError:
        theirs = None
    if theirs is not None and theirs != mine:
        raise UsageError(f"{out} holds the results of assignment '{theirs}' ({marker}); "
                         f"give assignment '{mine}' its own output folder")
    if claim and theirs is None:
        out.mkdir(parents=True, exist_ok=True)
        marker.write_text(mine + "\n", encoding="utf-8")


def load(args, *, layout: str = "course", guess: bool = False, claim_output: bool = False) -> "Course":
    """The course of `--course`, narrowed to the assignment of `--assignment`.

    A course with several assignments and no --assignment is a UsageError listing their ids, unless `guess`
    (for `check`) finds the one assignment that owns the exercises named (args.exercises) or the student's
    files (args.path). With several assignments, OUT (args.out) is tied to one assignment: `claim_output`
    (for `grade`) writes OUT/assignment.txt, and every command refuses an OUT holding another assignment's.
    """
    from tensorgrade.spec.course import AssignmentChoice, course_spec, load_course

    root = find_course_root(args.course)
    chosen = getattr(args, "assignment", None)
    if chosen is None and guess:
        spec = course_spec(root)
        if spec.assignments is not None:
            chosen = _guess_assignment(spec, getattr(args, "exercises", None) or (), getattr(args, "path", None))
    try:
        course = load_course(root, layout=layout, assignment=chosen)
    except AssignmentChoice as exc:
        raise UsageError(str(exc)) from None
    _check_output(course, args, claim_output)
    return course


@contextlib.contextmanager
def grader(course: "Course", plan: "Plan", *, reference=None, hide: list[Path] = (), many_children: bool = True,
           warm_func: str = WARM_AFTER_FIRST, prepare_for: str | None = None):
    """A Grader with one warm sandbox zygote; the zygote is gone when the block ends.

    The zygote is started first, on a thread, before this process imports torch: the two
    imports overlap. `reference` gives expected records: the course's solutions by default,
    or a callable returning stored records (the student distribution has no solutions).
    `prepare_for` (one student, for `check`) runs the reference's checks while the zygote starts.
    `many_children`, `warm_func`: see run/start.Starting. Closing waits for the zygote to exit, and one
    warming torch.func up after its first child exits once it has: commands of one child (`check`, the otter
    plugin) warm it up before that child (run/init.WARM_BEFORE) or never (WARM_NEVER).
    """
    from tensorgrade.run.start import Starting  # standard library only

    starting = Starting(course, 1, hide=hide, many_children=many_children, warm_func=warm_func)
    try:
        from tensorgrade.grading import Grader
        from tensorgrade.run.reference import Reference

        expected = reference() if callable(reference) else reference
        expected = expected if expected is not None else Reference(course)
        graded = Grader(course, None, expected, plan)
        if prepare_for is not None:
            graded.prepare(prepare_for)
    except BaseException:
        starting.discard()
        raise
    graded.runner = zygote = starting.take(1)[0].result()
    with zygote:
        yield graded
