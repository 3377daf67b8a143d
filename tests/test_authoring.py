"""Authoring: `init` and `new exercise`, `kind: class` signatures, and the guide's worked examples.

Most tests build a course in tmp_path and load it (no sandbox). The examples' solutions, mistakes
and idioms are graded in this process, as the grading process judges them; the few tests marked
e2e run `tensorgrade validate` itself (sandboxed, seconds each).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import yaml

from tensorgrade import seeds
from tensorgrade.commands.common import UsageError
from tensorgrade.commands.new import add_to_course_yml, init_course, new_exercise
from tensorgrade.judge.verdict import judge
from tensorgrade.rubric.registry import load_rubric
from tensorgrade.rubric.trial import Trial, run_trial
from tensorgrade.spec.course import PLACEHOLDER, load_course
from tensorgrade.spec.errors import SpecError

ROOT = Path(__file__).resolve().parents[1]
EX7 = ROOT / "examples" / "ex7_custom_function"
OPTIM = ROOT / "examples" / "optim_course"


def tensorgrade(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tensorgrade.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


def spec_error(root: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_course(root)
    return str(info.value)


# -- init -----------------------------------------------------------------------------------------------------


def test_init_writes_an_empty_course_that_loads(tmp_path):
    root = tmp_path / "course"
    init_course(root, name="Numerical Optimisation", term="Spring 2027", assignment="optim",
                due="2027-03-01T23:59:00+01:00")
    course = load_course(root)
    assert course.exercises == () and course.points == 0
    assert course.spec.course.name == "Numerical Optimisation" and course.spec.assignment.id == "optim"
    assert course.spec.assignment.due.isoformat() == "2027-03-01T23:59:00+01:00"
    for folder in ("exercises", "solutions", "graders/mistakes", "graders/idioms"):
        assert (root / folder).is_dir()


def test_init_refuses_what_it_cannot_do(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="is not empty"):
        init_course(tmp_path / "full")
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine"  # nothing overwritten
    with pytest.raises(UsageError, match="has no time zone"):
        init_course(tmp_path / "a", due="2027-03-01T23:59:00")
    with pytest.raises(UsageError, match="letters, digits and _"):
        init_course(tmp_path / "b", assignment="hw-1")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_init_and_new_from_the_command_line(tmp_path):
    out = tensorgrade("init", str(tmp_path / "c"), "--name", "Demo")
    assert out.returncode == 0, out.stderr
    out = tensorgrade("new", "exercise", "ex1_first", "--course", str(tmp_path / "c"), "-f", "double")
    assert out.returncode == 0, out.stderr
    assert "exercises/ex1_first.yml" in out.stdout and PLACEHOLDER in out.stdout
    again = tensorgrade("new", "exercise", "ex1_first", "--course", str(tmp_path / "c"))
    assert again.returncode == 2 and "already exists" in again.stderr


# -- new exercise -----------------------------------------------------------------------------------------------


def test_new_exercise_lists_every_placeholder_until_filled(tmp_path):
    init_course(tmp_path)
    written, unedited = new_exercise(tmp_path, "ex1_first", ["double", "halve"])
    assert unedited == ""
    assert {p.relative_to(tmp_path).as_posix() for p in written} == {
        "exercises/ex1_first.yml", "exercises/ex1_first.py", "solutions/ex1_first.py", "graders/ex1_first.py",
        "graders/mistakes/ex1_first/README.md", "graders/idioms/ex1_first/README.md"}
    assert yaml.safe_load((tmp_path / "course.yml").read_text())["assignment"]["exercises"] == ["ex1_first"]
    message = spec_error(tmp_path)
    lines = message.splitlines()
    assert lines[0].startswith("exercise 'ex1_first' is not filled in yet: ")
    total = sum((tmp_path / rel).read_text().count(PLACEHOLDER) for rel in
                ("exercises/ex1_first.yml", "exercises/ex1_first.py", "solutions/ex1_first.py", "graders/ex1_first.py"))
    assert f"{total} place(s) marked" in lines[0] and len(lines) == 1 + total
    assert "  exercises/ex1_first.yml, line 4: a short title" in lines
    assert any(re.fullmatch(r"  solutions/ex1_first\.py, line \d+: the reference solution of halve", ln) for ln in lines)
    with pytest.raises(UsageError, match="already exists"):
        new_exercise(tmp_path, "ex1_first")


def test_new_exercise_refuses_bad_names_and_touches_nothing(tmp_path):
    init_course(tmp_path)
    before = (tmp_path / "course.yml").read_text()
    for ex_id, functions, message in (("1st", None, "exercise id '1st'"), ("ex1", ["_helper"], "private helpers"),
                                      ("ex1", ["f", "f"], "given twice"), ("ex1", ["a-b"], "--function 'a-b'")):
        with pytest.raises(UsageError, match=re.escape(message)):
            new_exercise(tmp_path, ex_id, functions)
    assert (tmp_path / "course.yml").read_text() == before
    assert list((tmp_path / "exercises").iterdir()) == []


FILLED = {
    "exercises/ex1_first.yml": """\
        id: ex1_first
        title: "Doubling"
        prompt: |
          Return $2x$.
        functions:
          - name: double
            signature: "double(x) -> Tensor"
            summary: "Return 2 * x."
        checks:
          - id: double_value
            function: double
            points: 1
            visibility: public
            verifies: "double(x) holds 2x."
            hint: "Multiply by two."
          - id: double_keeps_graph
            function: double
            points: 1
            visibility: hidden
            verifies: "double(x) is connected to x in the graph."
            hint: "Compute with torch operations on x itself, not on a copy of its values."
        """,
    "exercises/ex1_first.py": '''\
        """Doubling."""

        import torch


        def double(x: torch.Tensor) -> torch.Tensor:
            """Return 2 * x."""
            raise NotImplementedError("double: not implemented yet")
        ''',
    "solutions/ex1_first.py": '''\
        """Reference."""

        import torch


        def double(x: torch.Tensor) -> torch.Tensor:
            return 2 * x
        ''',
    "graders/ex1_first.py": '''\
        """Rubric for ex1_first."""

        from tensorgrade.rubric import Rubric, draw

        rubric = Rubric("ex1_first")


        @rubric.check("double_value")
        def double_value(t):
            x = t.given("x", draw.leaf(t.rng, draw.size(t.rng)))
            t.expect_tensor("double(x)", t.call("double", x))


        @rubric.check("double_keeps_graph")
        def double_keeps_graph(t):
            x = t.given("x", draw.leaf(t.rng, draw.size(t.rng)))
            y = t.call("double", x)
            t.expect_connection("double(x) reaches x", y, x)
        ''',
}
MISTAKES = {
    "triple": ("double_value",), "detached": ("double_keeps_graph",), "halved": ("double_value",),
}
MISTAKE_BODY = {"triple": "3 * x", "detached": "(2 * x).detach()", "halved": "x / 2"}


def _fill(root: Path) -> None:
    for rel, text in FILLED.items():
        (root / rel).write_text(textwrap.dedent(text))
    for name, loses in MISTAKES.items():
        (root / "graders" / "mistakes" / "ex1_first" / f"{name}.py").write_text(
            f"import torch\n\nLOSES = {loses!r}\n\n\ndef double(x: torch.Tensor) -> torch.Tensor:\n"
            f"    return {MISTAKE_BODY[name]}\n")


def test_a_filled_scaffold_loads(tmp_path):
    init_course(tmp_path)
    new_exercise(tmp_path, "ex1_first", ["double"])
    _fill(tmp_path)
    course = load_course(tmp_path)
    assert [e.id for e in course.exercises] == ["ex1_first"] and course.points == 2


@pytest.mark.e2e
def test_a_filled_scaffold_validates(tmp_path):
    init_course(tmp_path)
    new_exercise(tmp_path, "ex1_first", ["double"])
    before = tensorgrade("validate", "--course", str(tmp_path))
    assert before.returncode == 2 and "is not filled in yet" in before.stderr
    _fill(tmp_path)
    out = tensorgrade("validate", "--course", str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "mistake detached: loses double_keeps_graph" in out.stdout


# -- course.yml edits -------------------------------------------------------------------------------------------


@pytest.mark.bundled
def test_add_to_course_yml_keeps_comments_and_layout():
    text = (ROOT / "course.yml").read_text()
    edited = add_to_course_yml(text, "ex7_custom_function")
    assert edited.replace("    - ex7_custom_function\n", "", 1) == text  # one line added, nothing else changed
    assert "    - ex6_jacobian_hessian\n    - ex7_custom_function\n" in edited
    flow = "assignment:\n  id: a\n  exercises: [ex1, ex2]  # in order\ngrading:\n  seed: 1\n"
    assert add_to_course_yml(flow, "ex3") == "assignment:\n  id: a\n  exercises: [ex1, ex2, ex3]  # in order\ngrading:\n  seed: 1\n"
    assert add_to_course_yml("assignment:\n  exercises: []\n", "ex1") == "assignment:\n  exercises: [ex1]\n"
    with pytest.raises(ValueError, match="already"):
        add_to_course_yml(flow, "ex1")
    with pytest.raises(ValueError, match="no assignment.exercises"):
        add_to_course_yml("course:\n  name: x\n", "ex1")


# -- kind: class --------------------------------------------------------------------------------------------------


@pytest.fixture
def ex7_course(tmp_path) -> Path:
    """An empty course holding only the ex7 example."""
    init_course(tmp_path)
    for folder in ("exercises", "solutions", "graders"):
        shutil.copytree(EX7 / folder, tmp_path / folder, dirs_exist_ok=True)
    text = (tmp_path / "course.yml").read_text()
    (tmp_path / "course.yml").write_text(add_to_course_yml(text, "ex7_custom_function"))
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


STUB7 = "exercises/ex7_custom_function.py"
SOL7 = "solutions/ex7_custom_function.py"
YML7 = "exercises/ex7_custom_function.yml"


def test_ex7_loads_with_its_classes(ex7_course):
    ex = load_course(ex7_course).exercise("ex7_custom_function")
    assert [(f.name, f.kind) for f in ex.spec.functions] == [
        ("Softplus", "class"), ("softplus", "function"), ("RoundSTE", "class"), ("round_ste", "function")]
    assert ex.spec.points == 11


def test_a_method_signature_mismatch_is_a_clear_error(ex7_course):
    _edit(ex7_course / STUB7, "    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:\n        \"\"\"Return the gradient with respect to ``x``: ``grad_output``",
          "    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:\n        \"\"\"Return the gradient with respect to ``x``: ``grad_output``")
    assert spec_error(ex7_course) == (
        f"{STUB7}: signature of 'Softplus.backward' differs from {SOL7}:\n"
        "  stub:     @staticmethod def backward(ctx, grad: torch.Tensor) -> torch.Tensor\n"
        "  solution: @staticmethod def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor")


def test_a_missing_decorator_differs_too(ex7_course):
    _edit(ex7_course / SOL7, "    @staticmethod\n    def forward(ctx, x: torch.Tensor) -> torch.Tensor:\n        return torch.round(x)",
          "    def forward(ctx, x: torch.Tensor) -> torch.Tensor:\n        return torch.round(x)")
    assert spec_error(ex7_course).splitlines()[0] == (
        f"{STUB7}: signature of 'RoundSTE.forward' differs from {SOL7}:")


def test_a_missing_method_and_other_bases(ex7_course):
    sol = ex7_course / SOL7
    original = sol.read_text()
    _edit(sol, "        return grad_output\n", "        return grad_output\n\n    def jvp(ctx, t):\n        return t\n")
    assert spec_error(ex7_course) == f"{STUB7}: class 'RoundSTE' has no method 'jvp', which {SOL7} defines"
    sol.write_text(original.replace("class RoundSTE(torch.autograd.Function):", "class RoundSTE(torch.nn.Module):"))
    assert spec_error(ex7_course) == (f"{STUB7}: class 'RoundSTE' differs from {SOL7}:\n"
                                      "  stub:     class RoundSTE(torch.autograd.Function)\n"
                                      "  solution: class RoundSTE(torch.nn.Module)")
    sol.write_text(original.replace(
        "class RoundSTE(torch.autograd.Function):\n",
        "class RoundSTE(torch.autograd.Function):\n    @staticmethod\n    def _saved(ctx):\n        return ctx\n\n"))
    load_course(ex7_course)  # a _helper method is free


def test_a_class_listed_as_a_function_and_the_reverse(ex7_course):
    _edit(ex7_course / YML7, "  - name: Softplus\n    kind: class\n", "  - name: Softplus\n")
    assert spec_error(ex7_course) == (f"{STUB7}: 'Softplus' is a class, but {YML7} lists it as a function "
                                      "(add `kind: class` to its entry under functions)")
    _edit(ex7_course / YML7, "  - name: Softplus\n", "  - name: Softplus\n    kind: class\n")
    _edit(ex7_course / YML7, "  - name: softplus\n", "  - name: softplus\n    kind: class\n")
    assert spec_error(ex7_course) == f"{STUB7}: 'softplus' is a function, but {YML7} lists it as `kind: class`"


def test_a_listed_class_missing_and_a_ban_on_a_class(ex7_course):
    stub = ex7_course / STUB7
    stub.write_text(stub.read_text().replace("class RoundSTE(", "class RoundSte("))
    assert spec_error(ex7_course) == f"{STUB7}: class 'RoundSTE' (listed in {YML7}) is missing"
    stub.write_text(stub.read_text().replace("class RoundSte(", "class RoundSTE("))
    _edit(ex7_course / YML7, "    kind: class\n    signature: \"class Softplus",
          "    kind: class\n    banned: [torch.func]\n    signature: \"class Softplus")
    course = load_course(ex7_course)  # a class's ban is enforced in t.run(..., bans_of="Softplus")
    assert course.exercises[0].spec.functions[0].banned == ["torch.func"]


def test_kind_must_be_function_or_class(ex7_course):
    _edit(ex7_course / YML7, "  - name: Softplus\n    kind: class\n", "  - name: Softplus\n    kind: module\n")
    assert spec_error(ex7_course) == f"{YML7}: functions[0].kind: must be one of 'function' or 'class'"


# -- the worked examples, graded in this process ---------------------------------------------------------------


def _module(path: Path) -> dict:
    spec = importlib.util.spec_from_file_location(f"authoring_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


def failed_checks(course, exercise: str, functions: dict, student: str) -> set[str]:
    """The checks `functions` fails, judged against the reference on `student`'s seeds, as grading does."""
    ex = course.exercise(exercise)
    rubric = load_rubric(ex.grader, ex.id)
    reference = _module(ex.solution)
    failed = set()
    for check in ex.spec.checks:
        seed = seeds.check_seed(course.spec.grading.seed, student, ex.id, check.id)
        ref = run_trial(rubric.checks[check.id], Trial(reference, seed))
        stu = run_trial(rubric.checks[check.id], Trial(functions, seed))
        if not judge(check, ex.spec.tolerance_for(check.id), ref, stu).passed:
            failed.add(check.id)
    return failed


def _cases(root: Path, kind: str):
    return sorted((root / "graders" / kind).glob("*/*.py"))


@pytest.fixture(scope="module")
def courses(tmp_path_factory):
    ex7 = tmp_path_factory.mktemp("ex7")
    init_course(ex7)
    for folder in ("exercises", "solutions", "graders"):
        shutil.copytree(EX7 / folder, ex7 / folder, dirs_exist_ok=True)
    (ex7 / "course.yml").write_text(add_to_course_yml((ex7 / "course.yml").read_text(), "ex7_custom_function"))
    return {"optim": load_course(OPTIM), "ex7": load_course(ex7)}


CASES = [("optim", p) for p in _cases(OPTIM, "idioms") + _cases(OPTIM, "mistakes")] + \
        [("ex7", p) for p in _cases(EX7, "idioms") + _cases(EX7, "mistakes")]


@pytest.mark.parametrize("which,path", CASES, ids=lambda v: v if isinstance(v, str) else f"{v.parent.parent.name}/{v.stem}")
def test_idioms_score_full_marks_and_mistakes_lose_what_they_say(courses, which, path):
    course = courses[which]
    functions = _module(path)
    expected = set(functions.get("LOSES", ()))
    for student in ("authoring-1", "authoring-2", "authoring-3"):
        assert failed_checks(course, path.parent.name, functions, student) == expected, (path.name, student)


def test_example_stubs_fail_every_check(courses):
    for course in courses.values():
        for ex in course.exercises:
            assert failed_checks(course, ex.id, _module(ex.stub), "authoring-1") == {c.id for c in ex.spec.checks}


def test_ex7_reference_agrees_with_autograd_and_gradcheck():
    sol = _module(EX7 / "solutions" / "ex7_custom_function.py")
    x = torch.tensor([-2.0, -0.3, 0.0, 1.7], dtype=torch.float64, requires_grad=True)
    v = torch.tensor([0.5, -1.0, 2.0, 0.25], dtype=torch.float64)
    (mine,) = torch.autograd.grad(sol["softplus"](x), x, v)
    assert torch.allclose(mine, v / (1 + torch.exp(-x.detach())), rtol=1e-12, atol=0)  # v · σ(x), by hand
    assert torch.autograd.gradcheck(sol["softplus"], (x,))
    y = sol["round_ste"](torch.tensor([0.4, 1.6, -2.3], requires_grad=True))
    assert y.tolist() == [0.0, 2.0, -2.0] and type(y.grad_fn).__name__ == "RoundSTEBackward"


def test_optim_reference_on_hand_computed_values():
    ex1 = _module(OPTIM / "solutions" / "ex1_optimizer_step.py")
    params, velocity = ex1["momentum_step"]([1.0, 2.0], [0.5, -1.0], [0.2, 0.0], 0.1, 0.9)
    assert velocity == pytest.approx([0.68, -1.0]) and params == pytest.approx([0.932, 2.1])
    p, m, v = ex1["adam_step"](1.0, 0.5, 0.0, 0.0, 1, 0.1, 0.9, 0.999, 0.0)
    assert (m, v) == pytest.approx((0.05, 0.00025)) and p == pytest.approx(0.9)  # first step: lr · sign(g)
    ex2 = _module(OPTIM / "solutions" / "ex2_lr_schedule.py")
    cosine = ex2["warmup_cosine"]
    assert cosine(5, 0.1, 10, 110, 0.01) == pytest.approx(0.05)          # half-way through the warm-up
    assert cosine(10, 0.1, 10, 110, 0.01) == pytest.approx(0.1)          # the end of the warm-up: base_lr
    assert cosine(60, 0.1, 10, 110, 0.01) == pytest.approx(0.055)        # half-way down: (0.1 + 0.01) / 2
    assert cosine(110, 0.1, 10, 110, 0.01) == pytest.approx(0.01) and cosine(500, 0.1, 10, 110, 0.01) == 0.01
    assert ex2["step_decay"](29, 0.1, 0.5, 10) == pytest.approx(0.025)


@pytest.mark.bundled
def test_the_examples_and_the_bundled_course_with_ex7_load(tmp_path):
    assert load_course(OPTIM).points == 17
    for name in ("course.yml", "extensions.csv", "exercises", "solutions", "graders"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    for folder in ("exercises", "solutions", "graders"):
        shutil.copytree(EX7 / folder, tmp_path / folder, dirs_exist_ok=True)
    (tmp_path / "course.yml").write_text(add_to_course_yml((tmp_path / "course.yml").read_text(), "ex7_custom_function"))
    bundled = load_course(ROOT)
    course = load_course(tmp_path)
    assert [e.id for e in course.exercises] == [e.id for e in bundled.exercises] + ["ex7_custom_function"]
    assert course.points == bundled.points + 11


@pytest.mark.e2e
@pytest.mark.bundled  # adds ex7 to the bundled course as shipped (six exercises)
def test_the_bundled_course_with_ex7_validates(tmp_path):
    for name in ("course.yml", "extensions.csv", "exercises", "solutions", "graders"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name,
                                                           **({"ignore": shutil.ignore_patterns("__pycache__")}
                                                              if src.is_dir() else {}))
    out = tensorgrade("new", "exercise", "ex7_custom_function", "--course", str(tmp_path))
    assert out.returncode == 0, out.stderr  # the scaffold, then the example's files over it, as an author would
    for folder in ("exercises", "solutions", "graders"):
        shutil.copytree(EX7 / folder, tmp_path / folder, dirs_exist_ok=True)
    out = tensorgrade("validate", "ex7_custom_function", "--course", str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ex7_custom_function: idiom saves_the_output: full marks" in out.stdout
    assert "validate: all 10 checks of the graders passed" in out.stdout  # 3 seeds, the stub, 5 mistakes, 1 idiom


@pytest.mark.e2e
def test_the_optim_course_validates():
    out = tensorgrade("validate", "--course", str(OPTIM))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ex2_lr_schedule: idiom torch_zero_dim: full marks" in out.stdout
    assert "validate: all 22 checks of the graders passed" in out.stdout  # 2 × (3 seeds + stub), 11 mistakes, 3 idioms
