"""Spec validation on broken copies of the course: one exact, clear message per mistake."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tensorgrade.spec.course import load_course
from tensorgrade.spec.errors import SpecError

REPO = Path(__file__).resolve().parents[1]
EX2 = "exercises/ex2_zero_grad.yml"


@pytest.fixture
def course(tmp_path) -> Path:
    """The bundled exercises under the engine tests' frozen course.yml (six exercises, 60 points)."""
    for name in ("course.yml", "extensions.csv"):
        shutil.copy(REPO / "tests" / "fixtures" / "engine_course" / name, tmp_path / name)
    for folder in ("exercises", "solutions", "graders"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    return tmp_path


def edit_yaml(path: Path, mutate) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def replace_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} not found exactly once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def spec_error(root: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_course(root)
    return str(info.value)


# -- the course as shipped ----------------------------------------------------------------


@pytest.mark.bundled
def test_unmodified_course_loads_and_totals_60_points():
    c = load_course(REPO)
    assert [e.id for e in c.exercises] == list(c.spec.assignment.exercises)
    assert len(c.exercises) == 6
    assert c.points == 60


def test_copied_course_loads(course):
    assert load_course(course).points == 60


def test_version_changes_with_solution_not_with_stub(course):
    v0 = load_course(course).version()
    assert load_course(course).version() == v0  # deterministic
    stub = course / "exercises" / "ex2_zero_grad.py"
    stub.write_text(stub.read_text(encoding="utf-8") + "\n# a note for students\n", encoding="utf-8")
    assert load_course(course).version() == v0
    solution = course / "solutions" / "ex2_zero_grad.py"
    solution.write_text(solution.read_text(encoding="utf-8") + "\n# a note for graders\n", encoding="utf-8")
    v1 = load_course(course).version()
    assert v1 != v0
    grader = course / "graders" / "ex2_zero_grad.py"
    grader.write_text(grader.read_text(encoding="utf-8") + "\n# tweak\n", encoding="utf-8")
    assert load_course(course).version() not in (v0, v1)


# -- exercise YAML mistakes -------------------------------------------------------------------


def test_negative_points(course):
    edit_yaml(course / EX2, lambda d: d["checks"][3].update(points=-1))
    assert spec_error(course) == f"{EX2}: checks[3].points: must be a positive number"


def test_zero_points(course):
    edit_yaml(course / EX2, lambda d: d["checks"][0].update(points=0))
    assert spec_error(course) == f"{EX2}: checks[0].points: must be a positive number"


def test_points_not_a_number(course):
    edit_yaml(course / EX2, lambda d: d["checks"][1].update(points="two"))
    assert spec_error(course) == f"{EX2}: checks[1].points: must be a number"


def test_missing_title(course):
    edit_yaml(course / EX2, lambda d: d.pop("title"))
    assert spec_error(course) == f"{EX2}: title: is required"


def test_missing_check_hint(course):
    edit_yaml(course / EX2, lambda d: d["checks"][2].pop("hint"))
    assert spec_error(course) == f"{EX2}: checks[2].hint: is required"


def test_unknown_key_suggests_the_known_one(course):
    edit_yaml(course / EX2, lambda d: d.update(tolerence=d.pop("tolerance")))
    assert spec_error(course) == f"{EX2}: tolerence: is not a known field (did you mean 'tolerance'?)"


def test_unknown_key_inside_a_check(course):
    edit_yaml(course / EX2, lambda d: d["checks"][4].update(visiblity=d["checks"][4].pop("visibility")))
    message = spec_error(course)
    assert f"{EX2}: checks[4].visiblity: is not a known field (did you mean 'visibility'?)" in message.splitlines()
    assert f"{EX2}: checks[4].visibility: is required" in message.splitlines()


def test_unknown_key_without_a_close_match(course):
    edit_yaml(course / EX2, lambda d: d.update(zzzz=1))
    assert spec_error(course) == f"{EX2}: zzzz: is not a known field"


def test_yaml_syntax_error_names_the_line(course):
    replace_text(course / EX2, 'title: "Gradient accumulation and zeroing"\n',
                 'title: "Gradient accumulation and zeroing"\nbad: [unclosed\n')
    message = spec_error(course)
    assert message.startswith(f"{EX2}: line ")
    assert "YAML syntax error" in message
    assert "\n" not in message
    line = int(message.split("line ")[1].split(",")[0])
    assert line in (3, 4)  # the broken line or the one after it, where the parser notices


def test_yaml_tab_indentation_error(course):
    replace_text(course / EX2, "  - name: accumulate\n", "\t- name: accumulate\n")
    message = spec_error(course)
    assert message.startswith(f"{EX2}: line ") and "YAML syntax error" in message


def test_yaml_not_a_mapping(course):
    (course / EX2).write_text("- just\n- a list\n", encoding="utf-8")
    assert spec_error(course) == f"{EX2}: must be a mapping of fields (key: value), found list"


def test_bad_visibility(course):
    edit_yaml(course / EX2, lambda d: d["checks"][0].update(visibility="secret"))
    assert spec_error(course) == f"{EX2}: checks[0].visibility: must be one of 'public' or 'hidden'"


def test_check_function_not_of_the_exercise(course):
    edit_yaml(course / EX2, lambda d: d["checks"][2].update(function="zero_grad"))
    assert spec_error(course) == (
        f"{EX2}: checks[2].function: 'zero_grad' is not one of the functions "
        "['accumulate', 'zero_grad_', 'descend']"
    )


def test_duplicate_check_id(course):
    edit_yaml(course / EX2, lambda d: d["checks"][1].update(id=d["checks"][0]["id"]))
    assert spec_error(course) == f"{EX2}: checks: duplicate check id(s) ['accumulate_sums']"


def test_exercise_id_differs_from_file_name(course):
    edit_yaml(course / EX2, lambda d: d.update(id="ex2_other"))
    assert spec_error(course) == f"{EX2}: id: is 'ex2_other' but the file name says 'ex2_zero_grad'"


def test_negative_tolerance(course):
    edit_yaml(course / EX2, lambda d: d["tolerance"].update(rtol=-1e-5))
    assert spec_error(course) == f"{EX2}: tolerance.rtol: must be zero or more"


# -- stubs, solutions and graders that do not fit -------------------------------------------------


def test_stub_signature_differs_from_solution(course):
    replace_text(course / "exercises" / "ex2_zero_grad.py", "def zero_grad_(x: torch.Tensor) -> None:",
                 "def zero_grad_(x: torch.Tensor, eps: float = 0.0) -> None:")
    assert spec_error(course) == (
        "exercises/ex2_zero_grad.py: signature of 'zero_grad_' differs from solutions/ex2_zero_grad.py:\n"
        "  stub:     def zero_grad_(x: torch.Tensor, eps: float=0.0) -> None\n"
        "  solution: def zero_grad_(x: torch.Tensor) -> None"
    )


def test_solution_missing_a_function(course):
    replace_text(course / "solutions" / "ex2_zero_grad.py", "def descend(", "def descend_renamed(")
    assert spec_error(course) == (
        "solutions/ex2_zero_grad.py: function 'descend' (listed in exercises/ex2_zero_grad.yml) is missing"
    )


def test_stub_with_an_extra_public_function(course):
    stub = course / "exercises" / "ex2_zero_grad.py"
    stub.write_text(stub.read_text(encoding="utf-8") + "\n\ndef helper(x):\n    return x\n", encoding="utf-8")
    assert spec_error(course) == (
        "exercises/ex2_zero_grad.py: defines ['helper'], which exercises/ex2_zero_grad.yml does not list"
    )


def test_stub_syntax_error(course):
    stub = course / "exercises" / "ex2_zero_grad.py"
    stub.write_text("def accumulate(f, x, times)\n    pass\n", encoding="utf-8")
    message = spec_error(course)
    assert message.startswith("exercises/ex2_zero_grad.py: line 1: syntax error:")


def test_grader_missing_a_declared_check(course):
    replace_text(course / "graders" / "ex2_zero_grad.py", '@rubric.check("zero_grad_keeps_none")',
                 '@rubric.check("zero_grad_keeps_none_renamed")')
    # the renamed check is also undeclared, but the missing one is reported first
    assert spec_error(course) == (
        "graders/ex2_zero_grad.py: no check function for ['zero_grad_keeps_none'] "
        "(declared in exercises/ex2_zero_grad.yml)"
    )


@pytest.mark.parametrize("added", [
    '@rubric.check("bonus")\ndef bonus(t):\n    pass\n',
    'for _extra in ("bonus",):  # not readable from the syntax tree: the grader is loaded\n'
    '    rubric.check(_extra)(lambda t: None)\n',
], ids=["decorator", "loop"])
def test_grader_with_an_undeclared_check(course, added):
    grader = course / "graders" / "ex2_zero_grad.py"
    grader.write_text(grader.read_text(encoding="utf-8") + "\n\n" + added, encoding="utf-8")
    assert spec_error(course) == (
        "graders/ex2_zero_grad.py: checks ['bonus'] are not declared in exercises/ex2_zero_grad.yml"
    )


def test_grader_that_crashes_on_import(course):
    grader = course / "graders" / "ex2_zero_grad.py"
    grader.write_text("raise RuntimeError('oops')\n", encoding="utf-8")
    assert spec_error(course) == "graders/ex2_zero_grad.py: cannot load the grader: RuntimeError: oops"


def test_missing_solution_file(course):
    (course / "solutions" / "ex2_zero_grad.py").unlink()
    assert spec_error(course) == "solutions/ex2_zero_grad.py: file not found (the solution of exercise 'ex2_zero_grad')"


# -- course.yml mistakes -----------------------------------------------------------------------------


def test_course_lists_an_exercise_without_a_file(course):
    edit_yaml(course / "course.yml", lambda d: d["assignment"]["exercises"].append("ex7_missing"))
    assert spec_error(course) == (
        "course.yml: assignment.exercises[6]: no file exercises/ex7_missing.yml for exercise 'ex7_missing'"
    )


def test_course_lists_an_exercise_twice(course):
    edit_yaml(course / "course.yml", lambda d: d["assignment"]["exercises"].append("ex1_requires_grad"))
    assert spec_error(course) == "course.yml: assignment.exercises: an exercise is listed twice"


def test_time_limit_zero(course):
    edit_yaml(course / "course.yml", lambda d: d["grading"].update(time_limit=0))
    assert spec_error(course) == "course.yml: grading.time_limit: must be a positive number"


def test_memory_limit_too_small(course):
    edit_yaml(course / "course.yml", lambda d: d["grading"].update(memory_limit_mb=512))
    assert spec_error(course) == "course.yml: grading.memory_limit_mb: must be at least 1024"


def test_bad_hidden_feedback(course):
    edit_yaml(course / "course.yml", lambda d: d["grading"].update(hidden_feedback="sometimes"))
    assert spec_error(course) == "course.yml: grading.hidden_feedback: must be one of 'after_due', 'always' or 'never'"


def test_unknown_grading_key_suggests(course):
    edit_yaml(course / "course.yml", lambda d: d["grading"].update(time_limt=d["grading"].pop("time_limit")))
    assert spec_error(course) == "course.yml: grading.time_limt: is not a known field (did you mean 'time_limit'?)"


def test_due_not_a_date(course):
    replace_text(course / "course.yml", "due: 2026-12-15T23:59:00+00:00", 'due: "next tuesday"')
    assert spec_error(course) == "course.yml: assignment.due: must be a date and time like 2026-12-15T23:59:00+00:00"


def test_due_impossible_date(course):
    replace_text(course / "course.yml", "due: 2026-12-15T23:59:00+00:00", "due: 2026-13-45T23:59:00+00:00")
    message = spec_error(course)
    assert message.startswith("course.yml: ")


@pytest.mark.parametrize("due, words", [('"2026-12-15T23:59:00"', "has no time zone"),
                                         ("2026-12-15T23:59:00", "has no time zone"),
                                         ("2026-12-15", "needs a time and a time zone")])
def test_due_without_time_zone_is_an_error(course, due, words):
    # late penalties count hours: a due date without a zone is ambiguous, not silently UTC
    replace_text(course / "course.yml", "due: 2026-12-15T23:59:00+00:00", f"due: {due}")
    assert spec_error(course).startswith(f"course.yml: assignment.due: {words}")


def test_missing_course_file(tmp_path):
    message = spec_error(tmp_path)
    assert message.endswith("course.yml: file not found (is this a tensorgrade course directory?)")


def test_several_mistakes_in_one_file_one_line_each(course):
    def mutate(d):
        d["grading"]["time_limit"] = 0
        d["grading"]["cpu_limit"] = -1
    edit_yaml(course / "course.yml", mutate)
    assert spec_error(course).splitlines() == [
        "course.yml: grading.time_limit: must be a positive number",
        "course.yml: grading.cpu_limit: must be a positive number",
    ]


# -- the command line ------------------------------------------------------------------------------


def test_cli_validate_broken_course_exits_2_with_message_and_no_traceback(course):
    edit_yaml(course / EX2, lambda d: d["checks"][3].update(points=-1))
    proc = subprocess.run(
        [sys.executable, "-m", "tensorgrade.cli", "validate", "--course", str(course)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert f"{EX2}: checks[3].points: must be a positive number" in proc.stderr.splitlines()
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout


def test_check_ids_are_read_from_the_graders_syntax_tree():
    from tensorgrade.spec.course import declared_checks

    source = '@rubric.check("a")\ndef a(t):\n    pass\n\n@rubric.check("b")\ndef b(t):\n    pass\n'
    assert declared_checks(source) == ["a", "b"]
    # registered some other way: the syntax tree cannot tell, so the grader is loaded
    assert declared_checks('for name in ("a", "b"):\n    rubric.check(name)(make(name))\n') is None
    assert declared_checks('CHECK = "a"\n@rubric.check(CHECK)\ndef a(t):\n    pass\n') is None
    assert declared_checks("def broken(:\n") is None


def test_a_grader_that_reads_right_but_fails_on_import_is_a_course_error_where_it_is_loaded(course):
    from tensorgrade.run.reference import Reference

    grader = course / "graders" / "ex2_zero_grad.py"
    grader.write_text("import no_such_module_here\n" + grader.read_text(encoding="utf-8"), encoding="utf-8")
    loaded = load_course(course)  # the check ids match: loading reads only the syntax tree
    with pytest.raises(SpecError) as info:
        Reference(loaded)
    assert str(info.value) == ("graders/ex2_zero_grad.py: cannot load the grader: ModuleNotFoundError: "
                               "No module named 'no_such_module_here'")
