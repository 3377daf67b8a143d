"""`tensorgrade init DIR` and `tensorgrade new exercise ID`: start a course, and add an exercise to it.

`init` writes a course that loads and validates with no exercises yet. `new exercise` writes the
exercise's four files (the task, the stub, the reference solution, the grader) and its mistakes
folder, with every part the author must write marked by a placeholder (`spec.course.PLACEHOLDER`):
a course that still holds one does not load, and the error lists each one by file and line. It adds
the exercise to course.yml's `assignment.exercises`, keeping the file's comments and layout.

Only the standard library at the top (`tensorgrade --help` builds this parser); yaml and the
spec are imported where they are used.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from tensorgrade.commands.common import COURSE_FILE, UsageError, add_course_option, find_course_root

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
GUIDE = "docs/authoring.md (in tensorgrade's source)"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "init",
        help="start a new, empty course in DIR (instructors)",
        description="Write DIR/course.yml (course, assignment, grading settings, all commented) and the empty "
                    "exercises/, solutions/, graders/mistakes/ and graders/idioms/ folders. The course loads "
                    "and validates as it is; add exercises with `tensorgrade new exercise ID --course DIR`.",
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="the new course's folder (created; must be empty if it exists)")
    p.add_argument("--name", default="My course", help="the course's name, e.g. 'Deep Learning Foundations'")
    p.add_argument("--term", default=None, help="the term, e.g. 'Fall 2026' (default: the current year)")
    p.add_argument("--assignment", default="hw1", metavar="ID",
                   help="the assignment's id: letters, digits and _ (default: hw1)")
    p.add_argument("--title", default=None, help="the assignment's title (default: 'Homework 1')")
    p.add_argument("--due", default=None, metavar="WHEN",
                   help="due date and time with a zone, e.g. 2026-12-15T23:59:00+00:00 (default: in 14 days, 23:59 UTC)")
    p.set_defaults(run=run_init)

    new = sub.add_parser(
        "new",
        help="add an exercise to a course: `tensorgrade new exercise ID` (instructors)",
        description="Scaffold part of a course. `new exercise ID` writes exercises/ID.yml (the task), "
                    "exercises/ID.py (the student stub), solutions/ID.py (the reference solution), graders/ID.py "
                    "(one check function per check) and graders/mistakes/ID/, and adds ID to course.yml's "
                    "assignment.exercises. Every part you must write is marked TODO(tensorgrade); until none is "
                    "left, every command (validate too) stops with the list of them by file and line.",
    )
    what = new.add_subparsers(title="what", metavar="WHAT")
    ex = what.add_parser("exercise", help="scaffold an exercise's files and add it to course.yml",
                         description=new.description)
    ex.add_argument("id", metavar="ID", help="the exercise's id: letters, digits and _, e.g. ex7_custom_function")
    ex.add_argument("-f", "--function", dest="functions", action="append", default=None, metavar="NAME",
                    help="a function students write (repeat for several; default: one named my_function)")
    add_course_option(ex)
    ex.set_defaults(run=run_new_exercise)
    new.set_defaults(run=lambda args: _usage(new))


def _usage(parser) -> int:
    parser.print_help()
    return 2


# -- init ------------------------------------------------------------------------------------------------------


def _default_due(today: dt.date | None = None) -> str:
    day = (today or dt.date.today()) + dt.timedelta(days=14)
    return f"{day.isoformat()}T23:59:00+00:00"


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar holding `text` exactly."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def course_yml(name: str, term: str, assignment: str, title: str, due: str) -> str:
    return f"""\
# tensorgrade course spec, written by `tensorgrade init`. The schema is tensorgrade's
# src/tensorgrade/spec/models.py (CourseSpec); unknown keys are errors. The author's guide is {GUIDE}.

course:
  name: {_quoted(name)}
  term: {_quoted(term)}
  # instructor: "Full Name"             # optional; printed on the handout

assignment:
  id: {assignment}                          # identifier of the assignment (letters, digits, _)
  title: {_quoted(title)}
  due: {due}        # always with a time zone; hidden feedback opens after this instant
  submission: >-
    Upload one .py file per exercise (named <exercise id>.py, in a folder or a zip), or one .py or
    .ipynb file that defines all the functions. Run `tensorgrade check` first.
  # In handout order; `tensorgrade new exercise ID` adds one (exercises/, solutions/, graders/ files).
  exercises: []

grading:
  # Base seed: each student's inputs are drawn from (seed, student, exercise, check).
  # Keep it fixed once grading starts, or regrades change inputs.
  seed: {dt.date.today().year * 10000 + 1}
  time_limit: 5              # wall-clock seconds for one call of a student function
  cpu_limit: 60              # CPU seconds for one student's whole grading child process
  memory_limit_mb: 2048      # address-space cap of the grading child (torch alone needs about 1 GiB)
  output_limit_kb: 64        # KiB of a student's printed output kept per grading child
  hidden_feedback: after_due # when students see hidden checks' details: after_due, always or never

# policy:                    # optional: late penalties, extensions, adjustments (see tensorgrade's README)
#   late: {{grace_minutes: 15, penalty_per_day: 10, max_days_late: 5}}
#   extensions: extensions.csv
"""


COURSE_README = """\
# {name}

A tensorgrade course. Layout:

```
course.yml                    course, assignment (due date, exercise order), grading settings
exercises/<id>.yml            the task: title, prompt, functions, checks, tolerances, bans
exercises/<id>.py             the student stub (same signatures as the solution)
solutions/<id>.py             the reference solution
graders/<id>.py               one check function per check id (tensorgrade.rubric)
graders/mistakes/<id>/*.py    classic mistakes, each with LOSES = ("check_id", ...); at least three
graders/idioms/<id>/*.py      correct answers written differently: each must score full marks
```

```bash
tensorgrade new exercise ex1_first   # scaffold an exercise (fill in every TODO(tensorgrade))
tensorgrade validate                 # solutions full marks, stubs zero, mistakes lose what they say
tensorgrade check --path solutions   # what students see, on the reference solutions
tensorgrade handout -o handout.pdf   # the handout
tensorgrade build -o dist            # the student distribution and the Gradescope autograder
```

The author's guide is {guide}.
"""


def _check_ident(value: str, what: str) -> str:
    if not IDENT.match(value or ""):
        raise UsageError(f"{what} {value!r}: use letters, digits and _ only, not starting with a digit")
    return value


def _check_due(value: str) -> str:
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--due {value!r}: not a date and time; write it like 2026-12-15T23:59:00+00:00") from None
    if when.tzinfo is None:
        raise UsageError(f"--due {value!r}: has no time zone; write it with one, like 2026-12-15T23:59:00+00:00")
    return when.isoformat()


def init_course(root: Path, *, name: str = "My course", term: str | None = None, assignment: str = "hw1",
                title: str | None = None, due: str | None = None) -> list[Path]:
    """Write an empty course into `root` (created; it must be empty if it exists); return the paths written."""
    _check_ident(assignment, "--assignment")
    due = _check_due(due) if due is not None else _default_due()
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root}: is a file; give a folder for the new course")
    if root.is_dir() and any(root.iterdir()):
        raise UsageError(f"{root}: is not empty; give a new or empty folder (tensorgrade init never overwrites)")
    for text, what in ((name, "--name"), (term or "", "--term"), (title or "", "--title")):
        if any(ord(ch) < 32 for ch in text):
            raise UsageError(f"{what}: must be one line of text")
    if not name.strip():
        raise UsageError("--name: must not be empty")
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for folder in ("exercises", "solutions", "graders/mistakes", "graders/idioms"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        written.append(root / folder)
    files = {
        COURSE_FILE: course_yml(name, term or str(dt.date.today().year), assignment,
                                title or "Homework 1", due),
        "README.md": COURSE_README.format(name=name, guide=GUIDE),
    }
    for rel, text in files.items():
        (root / rel).write_text(text, encoding="utf-8")
        written.append(root / rel)
    return written


def run_init(args) -> int:
    root = args.dir
    init_course(root, name=args.name, term=args.term, assignment=args.assignment, title=args.title, due=args.due)
    print(f"Created an empty course in {root}: {COURSE_FILE}, README.md, exercises/, solutions/, graders/.")
    print(f"Next: edit {root / COURSE_FILE} (name, term, due date), then add exercises with")
    print(f"  tensorgrade new exercise ex1_first --course {root}")
    print(f"and check them with `tensorgrade validate --course {root}`. Guide: {GUIDE}.")
    return 0


# -- new exercise --------------------------------------------------------------------------------------------


def exercise_files(ex_id: str, functions: list[str], todo: str) -> dict[str, str]:
    """The scaffold of one exercise: {path relative to the course: text}, placeholders marked with `todo`."""
    bullets = "\n".join(f"  - `{f}(x)`: {todo} what {f} must do." for f in functions)
    entries = "\n".join(f"""\
  - name: {f}
    signature: "{f}(x) -> Tensor"      # {todo} as students see it (the stub's parameters)
    summary: "{todo} one line: what {f} must do\"""" for f in functions)
    checks = "\n".join(f"""\
  - id: {f}_value
    function: {f}
    points: 1
    visibility: public                 # public: `tensorgrade check` runs it; hidden: only grading does
    verifies: "{todo} what this check verifies, in one sentence"
    hint: "{todo} a hint that teaches the idea and names the API, without handing over the code\"""" for f in functions)
    task = f"""\
# The task of exercise {ex_id}, written by `tensorgrade new exercise`. Fill in every line marked
# with the placeholder (`tensorgrade validate` lists those left); the guide explains each field.
id: {ex_id}
title: "{todo} a short title"
prompt: |
  {todo} the idea, as students read it first (Markdown, math as $...$ or $$...$$).

  Implement:

{bullets}
functions:
{entries}
# How close a tensor or a float must be to the reference's: |observed - expected| <= atol + rtol * |expected|.
tolerance: {{rtol: 1.0e-5, atol: 1.0e-6}}
checks:
{checks}
"""
    stub_defs = "\n\n\n".join(f'''\
def {f}(x: torch.Tensor) -> torch.Tensor:
    """{todo} what {f} does, its arguments, what it returns and a short example.

    Args:
        x: ...

    Returns:
        ...
    """
    raise NotImplementedError("{f}: not implemented yet")''' for f in functions)
    stub = f'''\
"""Exercise {ex_id}: {todo} what students practise here.

Replace each ``raise NotImplementedError`` with your code, then run
``tensorgrade check {ex_id}`` to test it.
"""

from __future__ import annotations

import torch


{stub_defs}
'''
    solution_defs = "\n\n\n".join(f'''\
def {f}(x: torch.Tensor) -> torch.Tensor:
    """The reference answer: what every student's {f} is compared with."""
    raise NotImplementedError("{todo} the reference solution of {f}")''' for f in functions)
    solution = f'''\
"""Reference solution for {ex_id}. Helper functions here must start with _ (they are not part of the task)."""

from __future__ import annotations

import torch


{solution_defs}
'''
    check_defs = "\n\n\n".join(f'''\
@rubric.check("{f}_value")
def {f}_value(t):
    x = _x(t)
    out = t.call("{f}", x)  # {todo} call {f} as the task says; t.call runs the student's (or the reference's) code
    t.expect_tensor("what {f}(x) returns", out)  # compared with what the reference returns on the same x''' for f in functions)
    grader = f'''\
"""Rubric for {ex_id}: {todo} one line on what the checks judge.

Each check runs twice on the same inputs: on the reference solution and on the student's code.
Record what you see with t.expect* (tensors with t.expect_tensor, plain values with t.expect);
the two records are compared in order. Draw inputs from t.rng (every student gets their own)
and record them with t.given, so that feedback shows them.
"""

import torch

from tensorgrade.rubric import Rubric, draw, facts

rubric = Rubric("{ex_id}")


def _x(t):
    """A fresh leaf tensor of a drawn size, shown in feedback as x."""
    return t.given("x", draw.leaf(t.rng, draw.size(t.rng)))


{check_defs}


__all__ = ["rubric", "facts", "torch"]
'''
    mistakes = f"""\
# Classic mistakes of {ex_id}

One file per mistake a student is likely to make, holding every function of the exercise (a copy
of the solution with the one mistake), a docstring saying what is wrong and why it matters, and

    LOSES = ("check_id", ...)

naming exactly the checks it must fail. `tensorgrade validate` grades each file on two seeds: it
must fail every check in LOSES and pass all the others. Ship at least three.
"""
    idioms = f"""\
# Idioms of {ex_id}

Correct answers written differently from solutions/{ex_id}.py (another API, a copy where a value is
asked, another order of operations): each file holds every function of the exercise and must score
full marks, so that no check demands more than the task asks. `tensorgrade validate` grades each
one on three seeds.
"""
    return {
        f"exercises/{ex_id}.yml": task,
        f"exercises/{ex_id}.py": stub,
        f"solutions/{ex_id}.py": solution,
        f"graders/{ex_id}.py": grader,
        f"graders/mistakes/{ex_id}/README.md": mistakes,
        f"graders/idioms/{ex_id}/README.md": idioms,
    }


_EXERCISES_KEY = re.compile(r"^(?P<indent>[ \t]+)exercises:[ \t]*(?P<rest>.*?)[ \t]*$")


def add_to_course_yml(text: str, ex_id: str) -> str:
    """course.yml's text with `ex_id` appended to assignment.exercises; comments and layout kept.

    Handles a block list (`- id` lines) and a flow list (`[a, b]`, `[]`). Raises ValueError if the
    list cannot be found or the edit would not read back as the old list plus `ex_id`.
    """
    import yaml

    before = yaml.safe_load(text) or {}
    assignment = before.get("assignment") if isinstance(before, dict) else None
    old = assignment.get("exercises") if isinstance(assignment, dict) else None
    if not isinstance(old, list):
        raise ValueError("course.yml has no assignment.exercises list")
    if ex_id in old:
        raise ValueError(f"'{ex_id}' is already in assignment.exercises")
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"^assignment:[ \t]*(#.*)?$", line.rstrip("\r\n"))),
                 None)
    if start is None:
        raise ValueError("course.yml has no top-level `assignment:` line")
    for i in range(start + 1, len(lines)):
        line = lines[i].rstrip("\r\n")
        if line and not line[0].isspace() and not line.startswith("#"):
            break  # the next top-level key: the assignment block ended
        m = _EXERCISES_KEY.match(line)
        if m is None:
            continue
        indent, rest = m.group("indent"), m.group("rest")
        comment = ""
        if "#" in rest:
            rest, comment = rest.split("#", 1)
            rest, comment = rest.rstrip(), "  #" + comment
        if rest.startswith("[") and rest.endswith("]"):
            inner = rest[1:-1].strip()
            items = f"{inner}, {ex_id}" if inner else ex_id
            lines[i] = f"{indent}exercises: [{items}]{comment}\n"
        elif rest == "":
            last, item_indent = i, indent + "  "
            for j in range(i + 1, len(lines)):
                row = lines[j].rstrip("\r\n")
                item = re.match(r"^([ \t]*)- ", row)
                if item:
                    last, item_indent = j, item.group(1)
                elif row.strip() and not row.lstrip().startswith("#"):
                    break
            lines.insert(last + 1, f"{item_indent}- {ex_id}\n")
            if not lines[last].endswith("\n"):
                lines[last] += "\n"
        else:
            raise ValueError("assignment.exercises is written in a form this command does not edit")
        new = "".join(lines)
        after = yaml.safe_load(new)
        if after.get("assignment", {}).get("exercises") != [*old, ex_id] or {
                k: v for k, v in after.items() if k != "assignment"} != {k: v for k, v in before.items()
                                                                          if k != "assignment"}:
            raise ValueError("the edited course.yml would not read back as expected")
        return new
    raise ValueError("course.yml has no `exercises:` line in its assignment block")


def new_exercise(root: Path, ex_id: str, functions: list[str] | None = None) -> tuple[list[Path], str]:
    """Scaffold exercise `ex_id` in the course at `root` and add it to course.yml.

    Returns (paths written, "" or why course.yml was left for the author to edit: e.g. a course with
    several assignments, where only the author knows which one the exercise belongs to)."""
    from tensorgrade.spec.course import PLACEHOLDER

    _check_ident(ex_id, "exercise id")
    functions = functions or ["my_function"]
    for f in functions:
        _check_ident(f, "--function")
        if f.startswith("_"):
            raise UsageError(f"--function {f}: names starting with _ are private helpers, not functions students write")
    if len(set(functions)) != len(functions):
        raise UsageError(f"--function: a name is given twice: {functions}")
    course_file = root / COURSE_FILE
    if not course_file.is_file():
        raise UsageError(f"{course_file}: not found; start a course with `tensorgrade init DIR` or pass --course DIR")
    files = exercise_files(ex_id, functions, PLACEHOLDER)
    taken = [rel for rel in files if (root / rel).exists()]
    if taken:
        raise UsageError(f"{root / taken[0]}: already exists; exercise '{ex_id}' is there already "
                         "(pick another id, or remove its files first)")
    try:
        edited, unedited = add_to_course_yml(course_file.read_text(encoding="utf-8"), ex_id), ""
    except ValueError as exc:
        edited, unedited = None, str(exc)
    written = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    if edited is not None:
        course_file.write_text(edited, encoding="utf-8")
    return written, unedited


def run_new_exercise(args) -> int:
    from tensorgrade.spec.course import PLACEHOLDER

    root = find_course_root(args.course)
    written, unedited = new_exercise(root, args.id, args.functions)
    ex = args.id
    roles = {
        f"exercises/{ex}.yml": "the task: title, prompt, functions, tolerance, checks (points, visibility, hints)",
        f"exercises/{ex}.py": "the student stub: the functions with docstrings, raising NotImplementedError",
        f"solutions/{ex}.py": "the reference solution: same signatures as the stub; helpers start with _",
        f"graders/{ex}.py": "one check function per check id of the YAML, written with tensorgrade.rubric",
        f"graders/mistakes/{ex}/README.md": "then at least three classic mistakes here, each with LOSES = (...)",
        f"graders/idioms/{ex}/README.md": "and correct answers written differently, which must score full marks",
    }
    width = max(map(len, roles))
    if unedited:
        print(f"Created exercise '{ex}' in {root}; {COURSE_FILE} was left as it is ({unedited}): add '{ex}' to "
              "the exercises of its assignment by hand. The files:")
    else:
        print(f"Created exercise '{ex}' in {root} and added it to {COURSE_FILE} (assignment.exercises):")
    for path in written:
        rel = str(path.relative_to(root))
        left = path.read_text(encoding="utf-8").count(PLACEHOLDER)
        todo = f" [{left} to fill in]" if left else ""
        print(f"  {rel:<{width}}  {roles.get(rel, '')}{todo}")
    print(f"Fill in every {PLACEHOLDER} (until none is left, tensorgrade lists them instead of loading the course),")
    print(f"write the mistakes, then run `tensorgrade validate {ex}`. Guide: {GUIDE}.")
    return 0
