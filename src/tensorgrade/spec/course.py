"""Load a course directory: validate every spec and check that the pieces fit.

Nothing here executes student stubs or reference solutions: signatures are
compared from the syntax tree. Graders are imported (they are course code) so
their check ids can be matched against the YAML.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from tensorgrade.spec.errors import SpecError, from_validation_error
from tensorgrade.spec.models import AssignmentSpec, CourseSpec, ExerciseSpec, vocabulary
from tensorgrade.spec.names import COURSE_FILE

# The student distribution (`tensorgrade build`) ships public-only check modules
# here instead of graders/, and no solutions/ at all.
STUDENT_CHECKS_DIR = "checks"


@dataclass(frozen=True)
class Exercise:
    """One exercise: its validated spec and where its four files live.

    `solution` is None in the student layout (a distribution without solutions/).
    """

    spec: ExerciseSpec
    stub: Path
    solution: Path | None
    grader: Path
    mistakes: Path

    @property
    def id(self) -> str:
        return self.spec.id


class AssignmentChoice(SpecError):
    """course.yml holds several assignments and none (or an unknown one) was chosen.

    The command line reports it as a usage error (exit 2): the course is fine, the command is not.
    """


@dataclass(frozen=True)
class Course:
    """A course narrowed to one assignment: `spec.assignment` is the one worked on, `exercises` are its own.

    With `assignments:` in course.yml, `spec.assignments` lists them all and `spec.assignment` is the chosen
    one; everything downstream (grading, due date, late policy, reports, build) reads `spec.assignment`.
    """

    root: Path
    spec: CourseSpec
    exercises: tuple[Exercise, ...]

    @property
    def several(self) -> bool:
        """course.yml lists its assignments under `assignments:` (then outputs are kept apart per assignment)."""
        return self.spec.assignments is not None

    def course_yaml(self) -> str:
        """course.yml as a course of this assignment alone (for the student distribution and cluster workers).

        With `assignment:` the file as it is (comments kept); with `assignments:` the same file with the list
        replaced by `assignment:` holding the chosen one, so that it loads without --assignment.
        """
        text = (self.root / COURSE_FILE).read_text(encoding="utf-8")
        if not self.several:
            return text
        data = yaml.safe_load(text)
        chosen = next(a for a in data["assignments"] if a.get("id") == self.spec.assignment.id)
        narrowed = {}
        for key, value in data.items():
            if key == "assignments":
                narrowed["assignment"] = chosen
            else:
                narrowed[key] = value
        head = (f"# Written by tensorgrade from {COURSE_FILE}: assignment '{self.spec.assignment.id}' of "
                f"{', '.join(self.spec.assignment_ids)}.\n")
        return head + yaml.safe_dump(narrowed, sort_keys=False, allow_unicode=True, width=100)

    def exercise(self, exercise_id: str) -> Exercise:
        for ex in self.exercises:
            if ex.id == exercise_id:
                return ex
        known = ", ".join(e.id for e in self.exercises)
        raise SpecError(f"unknown exercise '{exercise_id}' (the course has: {known})")

    @property
    def points(self) -> float:
        return sum(ex.spec.points for ex in self.exercises)

    def version(self) -> str:
        """A digest of every file that can change a grade (for resumable batches)."""
        h = hashlib.sha256()
        from tensorgrade import __version__

        h.update(__version__.encode())
        if self.several:  # one assignment's stored records are never reused for another's
            h.update(f"assignment={self.spec.assignment.id}\0".encode())
        for path in self.grading_files():
            h.update(str(path.relative_to(self.root)).encode())
            h.update(path.read_bytes())
        return h.hexdigest()[:16]

    def grading_files(self) -> list[Path]:
        files = [self.root / COURSE_FILE]
        for ex in self.exercises:
            files += [self.root / "exercises" / f"{ex.id}.yml", ex.grader]
            if ex.solution is not None:
                files.append(ex.solution)
        return files

    def relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def read_yaml(path: Path, shown: str) -> dict:
    """Parse a YAML mapping, turning every failure into a SpecError naming the file."""
    if not path.is_file():
        raise SpecError(f"{shown}: file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise SpecError(f"{shown}: not valid UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"{shown}: {where}YAML syntax error: {problem}") from None
    except ValueError as exc:  # e.g. an impossible date such as 2026-13-45, rejected while parsing
        raise SpecError(f"{shown}: invalid value: {exc}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{shown}: must be a mapping of fields (key: value), found {type(data).__name__}")
    return data


# `tensorgrade new exercise` marks what the author must write with this; a course holding one does not load.
PLACEHOLDER = "TODO(tensorgrade)"


def placeholders(paths: list[Path], rel, limit: int = 100) -> list[str]:
    """One line per placeholder left in `paths` (files that do not exist are skipped): 'file, line N: text'."""
    found = []
    for path in paths:
        if not path.is_file():
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue  # reported, with the file's name, by whatever reads it next
        for number, line in enumerate(lines, 1):
            at = line.find(PLACEHOLDER)
            if at >= 0:
                text = line[at + len(PLACEHOLDER):].lstrip(" :").rstrip(" \"')")
                text = text if len(text) <= 100 else text[:97] + "..."
                found.append(f"  {rel(path)}, line {number}: {text or 'to be written'}")
    return found[:limit]


def _validate(model, data: dict, shown: str):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(shown, exc, vocabulary()) from None


@dataclass(frozen=True)
class Definition:
    """A top-level definition of a stub or solution as the signature check sees it.

    `signature` is 'name(args) -> ret' for a function, 'class Name(bases)' for a class;
    `methods` maps a class's compared methods (public ones and dunders; `_helpers` are free)
    to their signatures with decorators, e.g. '@staticmethod def forward(ctx, x)'.
    """

    kind: str  # "function" or "class"
    signature: str
    methods: tuple[tuple[str, str], ...] = ()


def _function_signature(node) -> str:
    ret = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{node.name}({ast.unparse(node.args)}){ret}"


def _compared_method(name: str) -> bool:
    """Public methods and dunders (`__init__`, `__call__`) are part of a class's interface; `_helpers` are not."""
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _class_definition(node: ast.ClassDef) -> Definition:
    bases = [ast.unparse(b) for b in node.bases] + [ast.unparse(k) for k in node.keywords]
    methods = []
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and _compared_method(item.name):
            decorators = "".join(f"@{ast.unparse(d)} " for d in item.decorator_list)
            methods.append((item.name, f"{decorators}def {_function_signature(item)}"))
    return Definition("class", f"class {node.name}" + (f"({', '.join(bases)})" if bases else ""), tuple(methods))


def definitions(path: Path, shown: str) -> dict[str, Definition]:
    """Top-level public functions and classes of a file, read from its syntax tree (never executed)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=shown)
    except SyntaxError as exc:
        raise SpecError(f"{shown}: line {exc.lineno}: syntax error: {exc.msg}") from None
    found = {}
    for node in tree.body:
        name = getattr(node, "name", None)
        if not isinstance(name, str) or name.startswith("_"):
            continue  # statements, and private helpers (`_name`), which are free
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = Definition("function", _function_signature(node))
        elif isinstance(node, ast.ClassDef):
            found[node.name] = _class_definition(node)
    return found


def function_signatures(path: Path, shown: str) -> dict[str, str]:
    """Top-level function names mapped to their signature text, read from the syntax tree."""
    return {name: d.signature for name, d in definitions(path, shown).items() if d.kind == "function"}


def _kind_mismatch(fn, found: Definition, path_shown: str, ex_id: str) -> SpecError:
    if fn.kind == "function":
        return SpecError(f"{path_shown}: '{fn.name}' is a class, but exercises/{ex_id}.yml lists it as a function "
                         f"(add `kind: class` to its entry under functions)")
    return SpecError(f"{path_shown}: '{fn.name}' is a function, but exercises/{ex_id}.yml lists it as "
                     f"`kind: class`")


def _compare_class(name: str, stub: Definition, sol: Definition, stub_shown: str, sol_shown: str) -> None:
    if stub.signature != sol.signature:
        raise SpecError(f"{stub_shown}: class '{name}' differs from {sol_shown}:\n"
                        f"  stub:     {stub.signature}\n  solution: {sol.signature}")
    stub_methods, sol_methods = dict(stub.methods), dict(sol.methods)
    for method in sol_methods:
        if method not in stub_methods:
            raise SpecError(f"{stub_shown}: class '{name}' has no method '{method}', which {sol_shown} defines")
    for method in stub_methods:
        if method not in sol_methods:
            raise SpecError(f"{sol_shown}: class '{name}' has no method '{method}', which {stub_shown} defines")
        if stub_methods[method] != sol_methods[method]:
            raise SpecError(f"{stub_shown}: signature of '{name}.{method}' differs from {sol_shown}:\n"
                            f"  stub:     {stub_methods[method]}\n  solution: {sol_methods[method]}")


def _check_signatures(ex: ExerciseSpec, stub: Path, solution: Path | None, rel) -> None:
    """Stub and solution define every listed function and class, with the same signatures (classes: the same
    bases and methods), and no other public top-level function. Unlisted classes are not compared."""
    stub_defs = definitions(stub, rel(stub))
    sol_defs = definitions(solution, rel(solution)) if solution is not None else None
    pairs = ((stub, stub_defs),) if solution is None else ((stub, stub_defs), (solution, sol_defs))
    for fn in ex.functions:
        for path, defs in pairs:
            if fn.name not in defs:
                kind = "class" if fn.kind == "class" else "function"
                raise SpecError(f"{rel(path)}: {kind} '{fn.name}' (listed in exercises/{ex.id}.yml) is missing")
            if defs[fn.name].kind != fn.kind:
                raise _kind_mismatch(fn, defs[fn.name], rel(path), ex.id)
        if sol_defs is None:
            continue
        mine, theirs = stub_defs[fn.name], sol_defs[fn.name]
        if fn.kind == "class":
            _compare_class(fn.name, mine, theirs, rel(stub), rel(solution))
        elif mine.signature != theirs.signature:
            raise SpecError(
                f"{rel(stub)}: signature of '{fn.name}' differs from {rel(solution)}:\n"
                f"  stub:     def {mine.signature}\n  solution: def {theirs.signature}"
            )
    wanted = {f.name for f in ex.functions}
    for path, defs in pairs:
        extra = sorted(n for n, d in defs.items() if d.kind == "function" and n not in wanted)
        if extra:
            raise SpecError(f"{rel(path)}: defines {extra}, which exercises/{ex.id}.yml does not list")


def declared_checks(source: str) -> list[str] | None:
    """The ids of a grader's `@rubric.check("id")` decorators, read from its syntax tree (no torch import);
    None when that cannot tell: a syntax error, or a check registered some other way (a loop, a variable)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    decorators = {id(d) for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                  for d in node.decorator_list}
    ids = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "check":
            literal = (len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Constant)
                       and isinstance(node.args[0].value, str))
            if not (literal and id(node) in decorators):
                return None
            ids.append(node.args[0].value)
    return ids


def _check_grader(ex: ExerciseSpec, grader: Path, rel) -> None:
    """The grader's checks are the YAML's: read from its syntax tree when that shows exactly the YAML's ids
    (loading a course imports no torch: `check` starts its sandbox first); else by loading it, which
    names what is wrong. A grader that reads right but fails on import is found where it is loaded
    (`load_grader`: the reference, validate)."""
    found = declared_checks(grader.read_text(encoding="utf-8"))
    if found is not None and sorted(found) == sorted(c.id for c in ex.checks) and len(set(found)) == len(found):
        return
    load_grader(ex, grader, rel)


def load_grader(ex: ExerciseSpec, grader: Path, rel):
    """The grader's Rubric, with its checks matching the YAML's; any failure is one SpecError line."""
    from tensorgrade.rubric.registry import load_rubric

    try:
        rubric = load_rubric(grader, ex.id)
    except Exception as exc:  # a broken grader is a course error, reported as one line
        raise SpecError(f"{rel(grader)}: cannot load the grader: {type(exc).__name__}: {exc}") from None
    yaml_ids, grader_ids = [c.id for c in ex.checks], list(rubric.checks)
    missing = [i for i in yaml_ids if i not in grader_ids]
    extra = [i for i in grader_ids if i not in yaml_ids]
    if missing:
        raise SpecError(f"{rel(grader)}: no check function for {missing} (declared in exercises/{ex.id}.yml)")
    if extra:
        raise SpecError(f"{rel(grader)}: checks {extra} are not declared in exercises/{ex.id}.yml")
    return rubric


def course_spec(root: Path | str) -> CourseSpec:
    """course.yml alone, validated (no exercise is read)."""
    root = Path(root).resolve()
    if not (root / COURSE_FILE).is_file():
        raise SpecError(f"{root / COURSE_FILE}: file not found (is this a tensorgrade course directory?)")
    return _validate(CourseSpec, read_yaml(root / COURSE_FILE, COURSE_FILE), COURSE_FILE)


def choose_assignment(spec: CourseSpec, assignment: str | None) -> tuple[int | None, AssignmentSpec]:
    """(index under `assignments:`, or None for `assignment:`; the chosen spec). AssignmentChoice when the
    choice is missing (several assignments) or names no assignment."""
    ids = spec.assignment_ids
    if spec.assignments is None:
        if assignment is not None and assignment != spec.assignment.id:
            raise AssignmentChoice(f"--assignment {assignment}: {COURSE_FILE} has one assignment, '{ids[0]}'")
        return None, spec.assignment
    if assignment is None:
        raise AssignmentChoice(f"{COURSE_FILE} holds {len(ids)} assignments; choose one with --assignment ID "
                               f"(one of: {', '.join(ids)})")
    if assignment not in ids:
        raise AssignmentChoice(f"--assignment {assignment}: no such assignment in {COURSE_FILE} "
                               f"(one of: {', '.join(ids)})")
    index = ids.index(assignment)
    return index, spec.assignments[index]


def load_course(root: Path | str = ".", *, check_graders: bool = True, layout: str = "course",
                assignment: str | None = None) -> Course:
    """Load and validate a whole course; raise SpecError with one clear message on the first broken file.

    `assignment` chooses one of several assignments (`assignments:` in course.yml); the Course returned is
    narrowed to it (`spec.assignment`, `exercises`). It is needed when there are several (AssignmentChoice,
    a SpecError, otherwise) and optional with one (`assignment:`), where it must then name that one.

    `layout="course"` (the default) is the instructor's folder: exercises/, solutions/, graders/.
    `layout="student"` is the student distribution written by `tensorgrade build`: exercises/
    (stubs and public-only YAMLs) and checks/ (public-only check modules) but no solutions/ and
    no graders/; each Exercise then has `solution=None` and `grader` pointing into checks/.
    """
    if layout not in ("course", "student"):
        raise ValueError(f"unknown course layout {layout!r}")
    student = layout == "student"
    root = Path(root).resolve()

    def rel(path: Path) -> str:
        try:
            return str(path.relative_to(root))
        except ValueError:
            return str(path)

    if not (root / COURSE_FILE).is_file():
        raise SpecError(f"{root / COURSE_FILE}: file not found (is this a tensorgrade course directory?)")
    spec = _validate(CourseSpec, read_yaml(root / COURSE_FILE, COURSE_FILE), COURSE_FILE)
    # Every assignment's exercises must have their YAML file, whichever assignment is chosen.
    listed = ([("assignment", spec.assignment)] if spec.assignments is None else
              [(f"assignments[{k}]", a) for k, a in enumerate(spec.assignments)])
    for where, a in listed:
        for i, ex_id in enumerate(a.exercises):
            shown = f"exercises/{ex_id}.yml"
            if not (root / shown).is_file():
                of = f" of assignment '{a.id}'" if spec.assignments is not None else ""
                raise SpecError(f"{COURSE_FILE}: {where}.exercises[{i}]: no file {shown} for exercise '{ex_id}'{of}")
    index, chosen = choose_assignment(spec, assignment)
    if index is not None:
        spec = spec.model_copy(update={"assignment": chosen})
    exercises = []
    for i, ex_id in enumerate(chosen.exercises):
        shown = f"exercises/{ex_id}.yml"
        path = root / shown
        if not student:
            left = placeholders([path, *(root / d / f"{ex_id}.py" for d in ("exercises", "solutions", "graders"))], rel)
            if left:
                raise SpecError(f"exercise '{ex_id}' is not filled in yet: {len(left)} place(s) marked {PLACEHOLDER} "
                                "are left (write each, then delete the marker):\n" + "\n".join(left))
        ex = _validate(ExerciseSpec, read_yaml(path, shown), shown)
        if ex.id != ex_id:
            raise SpecError(f"{shown}: id: is '{ex.id}' but the file name says '{ex_id}'")
        for j, check in enumerate(ex.checks):
            if check.function not in {f.name for f in ex.functions}:
                raise SpecError(f"{shown}: checks[{j}].function: '{check.function}' is not a function of this exercise")
        files = {
            "stub": root / "exercises" / f"{ex_id}.py",
            "solution": None if student else root / "solutions" / f"{ex_id}.py",
            "grader": root / (STUDENT_CHECKS_DIR if student else "graders") / f"{ex_id}.py",
        }
        for kind, p in files.items():
            if p is not None and not p.is_file():
                raise SpecError(f"{rel(p)}: file not found (the {kind} of exercise '{ex_id}')")
        _check_signatures(ex, files["stub"], files["solution"], rel)
        if check_graders:
            _check_grader(ex, files["grader"], rel)
        exercises.append(Exercise(ex, mistakes=root / "graders" / "mistakes" / ex_id, **files))
    return Course(root=root, spec=spec, exercises=tuple(exercises))
