"""Helpers shared by the batch-grading tests: course copies, submissions built from the solutions, expectations.

Expectations are derived from the course spec (points per check) and from the
`LOSES` tuples of the classic-mistake modules, never from a grading run.
"""

from __future__ import annotations

import ast
import csv
import json
import re
import shutil
import textwrap
import time
from pathlib import Path

import psutil

from tensorgrade.spec.course import Course, load_course

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "tests" / "fixtures" / "engine_course"  # the bundled six exercises in a frozen course.yml
COURSE = load_course(ENGINE)  # what copy_course copies: adding an exercise to course.yml changes neither
EXERCISES = [e.id for e in COURSE.exercises]
SANDBOX_SCRIPT = "tensorgrade/run/sandbox/zygote.py"


# -- the course ------------------------------------------------------------------


def copy_course(dst: Path, **grading: object) -> Path:
    """A copy of the course in `dst` (the engine tests' frozen course.yml: adding an exercise to the bundled
    course changes nothing here); keyword arguments override keys of course.yml's `grading:` section."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("course.yml", "extensions.csv", "exercises", "solutions", "graders"):
        src = (ENGINE if name.endswith((".yml", ".csv")) else ROOT) / name
        if src.is_dir():
            shutil.copytree(src, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dst / name)
    text = (dst / "course.yml").read_text()
    for key, value in grading.items():
        text, n = re.subn(rf"(?m)^(  {key}:) .*$", rf"\1 {value}", text)
        assert n == 1, key
    (dst / "course.yml").write_text(text)
    return dst


def checks_of(exercise: str, function: str | None = None, course: Course = COURSE) -> list:
    return [c for c in course.exercise(exercise).spec.checks if function is None or c.function == function]


def points(checks) -> float:
    return float(sum(c.points for c in checks))


def mistake(exercise: str, name: str) -> Path:
    return ROOT / "graders" / "mistakes" / exercise / f"{name}.py"


def loses(path: Path) -> set[str]:
    """The check ids a classic-mistake module declares it loses (its LOSES tuple)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "LOSES" for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise AssertionError(f"{path} has no LOSES")


# -- building submissions ------------------------------------------------------------
def solution(exercise: str) -> str:
    return (ROOT / "solutions" / f"{exercise}.py").read_text()


def replace_function(source: str, name: str, new_def: str) -> str:
    """`source` with the top-level function `name` replaced by `new_def` (a complete def)."""
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    lines = source.splitlines(keepends=True)
    return "".join(lines[: node.lineno - 1]) + textwrap.dedent(new_def).strip("\n") + "\n" + "".join(lines[node.end_lineno:])


def after_imports(source: str, code: str) -> str:
    """`source` with `code` inserted right after `import torch` (runs at import)."""
    assert "import torch\n" in source
    return source.replace("import torch\n", "import torch\n" + textwrap.dedent(code).strip("\n") + "\n", 1)


def write_folder(folder: Path, files: dict[str, str] | None = None, *, skip: tuple[str, ...] = ()) -> Path:
    """A folder submission: the solutions, with `files` ({exercise id: source}) replacing some."""
    folder.mkdir(parents=True, exist_ok=True)
    for ex in EXERCISES:
        if ex in skip:
            continue
        (folder / f"{ex}.py").write_text((files or {}).get(ex, solution(ex)))
    return folder


# -- reading outputs ------------------------------------------------------------------
def read_gradebook(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    return header, {r[0]: dict(zip(header, r)) for r in rows[1:]}


def record(out: Path, student: str) -> dict:
    return json.loads((out / student / "record.json").read_text())


def exercise_of(rec: dict, exercise: str) -> dict:
    return next(e for e in rec["exercises"] if e["id"] == exercise)


def scores(rec: dict) -> dict[str, float]:
    """{check id: score} over all exercises of a record."""
    return {c["id"]: c["score"] for e in rec["exercises"] for c in e["checks"]}


def feedback(rec: dict, exercise: str) -> str:
    return "\n".join(c["feedback"] for c in exercise_of(rec, exercise)["checks"])


def expected_scores(lost: set[str]) -> dict[str, float]:
    """Every check of the course at full marks except those in `lost`, at zero."""
    return {c.id: (0.0 if c.id in lost else float(c.points)) for e in COURSE.exercises for c in e.spec.checks}


# -- processes ------------------------------------------------------------------------
def sandbox_processes(exclude: set[int] = frozenset()) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if proc.info["pid"] in exclude:
            continue
        if any(SANDBOX_SCRIPT in part for part in proc.info["cmdline"] or ()):
            found.append(proc)
    return found


def wait_gone(pids: set[int], timeout: float = 15.0) -> set[int]:
    """Wait until none of `pids` is alive (zombies count as gone); return those still alive."""
    deadline = time.monotonic() + timeout
    while True:
        alive = set()
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.add(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)
