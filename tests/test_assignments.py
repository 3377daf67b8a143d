"""Several assignments in one course: `assignments:` in course.yml and `--assignment ID` on the commands.

The fixture course (tests/fixtures/course_two_assignments/course.yml) borrows three of the bundled
exercises, copied in by the `two` fixture: a1 = ex1, ex2; a2 = ex3. Everything here loads specs
(no sandbox) except the one e2e test, which runs `tensorgrade validate --assignment a2`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tensorgrade.cli import build_parser, main
from tensorgrade.commands.common import OUTPUT_MARKER, UsageError, load
from tensorgrade.spec.course import AssignmentChoice, load_course
from tensorgrade.spec.errors import SpecError

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "course_two_assignments"
A1 = ["ex1_requires_grad", "ex2_zero_grad"]
A2 = ["ex3_stop_gradients"]


def copy_exercises(dest: Path, ids: list[str]) -> None:
    for ex in ids:
        for folder in ("exercises", "solutions", "graders"):
            (dest / folder).mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / folder / f"{ex}.py", dest / folder / f"{ex}.py")
        shutil.copy(ROOT / "exercises" / f"{ex}.yml", dest / "exercises" / f"{ex}.yml")
        for extra in ("mistakes", "idioms"):
            if (ROOT / "graders" / extra / ex).is_dir():
                shutil.copytree(ROOT / "graders" / extra / ex, dest / "graders" / extra / ex)


@pytest.fixture
def two(tmp_path) -> Path:
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(FIXTURE / "course.yml", course / "course.yml")
    copy_exercises(course, A1 + A2)
    return course


def edit(course: Path, change) -> None:
    path = course / "course.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def spec_error(course: Path, **kw) -> str:
    with pytest.raises(SpecError) as info:
        load_course(course, check_graders=False, **kw)
    return str(info.value)


def args(course: Path, **kw) -> argparse.Namespace:
    return argparse.Namespace(course=course, **{"assignment": None, **kw})


# --- loading each assignment -------------------------------------------------------------------------------

def test_each_assignment_loads_as_a_course_of_its_own(two):
    a1 = load_course(two, assignment="a1")
    a2 = load_course(two, assignment="a2")
    assert (a1.spec.assignment.id, [e.id for e in a1.exercises]) == ("a1", A1)
    assert (a2.spec.assignment.id, [e.id for e in a2.exercises]) == ("a2", A2)
    assert a2.spec.assignment.title == "Homework 2: stopping gradients"
    assert a2.spec.assignment.due == dt.datetime(2027, 3, 1, 22, 59, tzinfo=dt.timezone.utc)
    assert a1.spec.assignment.due == dt.datetime(2027, 2, 1, 23, 59, tzinfo=dt.timezone.utc)
    assert a1.spec.assignment.submission.startswith("Upload exercises/ex1")
    assert a2.spec.assignment.submission.startswith("Submit one .py file")  # the default
    assert a1.points == sum(e.spec.points for e in a1.exercises) and a2.points < a1.points
    assert a1.spec.assignment_ids == a2.spec.assignment_ids == ["a1", "a2"]
    assert a1.several and a2.several
    with pytest.raises(SpecError, match="unknown exercise 'ex1_requires_grad'"):
        a2.exercise("ex1_requires_grad")


def test_assignment_is_needed_with_several_and_names_the_ids(two):
    with pytest.raises(AssignmentChoice) as info:
        load_course(two)
    assert str(info.value) == ("course.yml holds 2 assignments; choose one with --assignment ID (one of: a1, a2)")
    assert spec_error(two, assignment="a3") == "--assignment a3: no such assignment in course.yml (one of: a1, a2)"


def test_the_bundled_course_keeps_one_assignment_and_the_option_is_optional():
    plain = load_course(ROOT, check_graders=False)
    named = load_course(ROOT, check_graders=False, assignment="autograd")
    assert plain.spec.assignments is None and not plain.several
    assert plain.spec == named.spec and plain.exercises == named.exercises
    assert plain.spec.assignment_ids == ["autograd"]
    assert plain.course_yaml() == (ROOT / "course.yml").read_text(encoding="utf-8")  # comments and all
    assert spec_error(ROOT, assignment="a2") == "--assignment a2: course.yml has one assignment, 'autograd'"


def test_versions_differ_per_assignment_and_name_it(two, tmp_path):
    """Stored records of one assignment are never reused (resumed) for another."""
    a1, a2 = load_course(two, assignment="a1"), load_course(two, assignment="a2")
    assert a1.version() != a2.version()
    # Same exercises, different assignment: still different versions.
    edit(two, lambda d: d["assignments"][1].update(exercises=[]))
    edit(two, lambda d: d["assignments"].append({"id": "a3", "title": "T", "due": "2027-04-01T00:00:00+00:00",
                                                 "exercises": []}))
    assert load_course(two, assignment="a2").version() != load_course(two, assignment="a3").version()


def test_course_yaml_narrows_to_the_chosen_assignment(two, tmp_path):
    """The student distribution and cluster workers get a course.yml of this assignment alone."""
    a2 = load_course(two, assignment="a2")
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "course.yml").write_text(a2.course_yaml(), encoding="utf-8")
    copy_exercises(alone, A2)
    again = load_course(alone)  # no --assignment needed
    assert again.spec.assignments is None
    assert again.spec.assignment == a2.spec.assignment
    assert (again.spec.grading, again.spec.policy, again.spec.course) == (a2.spec.grading, a2.spec.policy,
                                                                           a2.spec.course)
    assert [e.id for e in again.exercises] == A2


def test_the_cluster_bundle_carries_the_narrowed_course_yml(two):
    from tensorgrade.cluster import course_bundle

    a1 = load_course(two, assignment="a1")
    bundle = course_bundle(a1)
    data = yaml.safe_load(bundle.files["course.yml"])
    assert "assignments" not in data and data["assignment"]["id"] == "a1"
    assert not any("ex3_stop_gradients" in name for name in bundle.files)


# --- the errors --------------------------------------------------------------------------------------------

def test_both_keys_or_neither_is_an_error(two):
    edit(two, lambda d: d.update(assignment=d["assignments"][0]))
    assert spec_error(two, assignment="a1") == (
        "course.yml: has both `assignment:` and `assignments:`; keep one (a list under `assignments:` for several)")
    edit(two, lambda d: (d.pop("assignment"), d.pop("assignments")))
    assert spec_error(two) == ("course.yml: needs `assignment:` (one assignment) or `assignments:` "
                               "(a list of them)")


def test_empty_list_and_unknown_keys_are_errors(two):
    edit(two, lambda d: d["assignments"][1].update(exercise=d["assignments"][1].pop("exercises")))
    assert spec_error(two, assignment="a1").splitlines() == [
        "course.yml: assignments[1].exercises: is required",
        "course.yml: assignments[1].exercise: is not a known field (did you mean 'exercises'?)",
    ]
    edit(two, lambda d: d.update(assignments=[]))
    assert spec_error(two) == "course.yml: assignments: must have at least 1 item(s)"


def test_repeated_assignment_ids_are_an_error(two):
    edit(two, lambda d: d["assignments"][1].update(id="a1", exercises=["ex3_stop_gradients"]))
    assert spec_error(two, assignment="a1") == (
        "course.yml: assignments: assignment id(s) ['a1'] used more than once; give each its own id")


def test_an_exercise_in_two_assignments_is_an_error(two):
    edit(two, lambda d: d["assignments"][1]["exercises"].append("ex2_zero_grad"))
    assert spec_error(two, assignment="a2") == (
        "course.yml: assignments: exercise 'ex2_zero_grad' is listed in both 'a1' and 'a2'; an exercise belongs "
        "to one assignment (copy it under a new id to reuse it)")


def test_an_exercise_without_its_file_is_an_error_whichever_assignment_is_chosen(two):
    edit(two, lambda d: d["assignments"][0]["exercises"].append("ex9_missing"))
    expected = ("course.yml: assignments[0].exercises[2]: no file exercises/ex9_missing.yml for exercise "
                "'ex9_missing' of assignment 'a1'")
    assert spec_error(two, assignment="a2") == expected
    assert spec_error(two) == expected  # reported before the missing --assignment


def test_an_exercise_repeated_within_one_assignment_is_still_an_error(two):
    edit(two, lambda d: d["assignments"][1]["exercises"].append("ex3_stop_gradients"))
    assert spec_error(two, assignment="a2") == "course.yml: assignments[1].exercises: an exercise is listed twice"


# --- --assignment on the command line ----------------------------------------------------------------------

COMMAND_LINES = [
    ["check"], ["validate"], ["grade", "subs", "-o", "out"], ["build"], ["handout"], ["report", "out"],
    ["export", "canvas", "out", "--roster", "r.csv", "-o", "c.csv"], ["export", "gradescope-csv", "out", "-o", "g.csv"],
    ["similarity", "subs", "-o", "out"],
]


@pytest.mark.parametrize("line", COMMAND_LINES, ids=lambda line: " ".join(line[:2]))
def test_every_command_that_loads_a_course_takes_assignment(line):
    parser = build_parser()
    assert parser.parse_args([*line, "--assignment", "a2"]).assignment == "a2"
    assert parser.parse_args(line).assignment is None


def test_help_explains_the_option(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["validate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--assignment ID which assignment of course.yml to work on: needed when it lists several" in text


def test_load_narrows_and_a_missing_choice_is_a_usage_error(two):
    assert [e.id for e in load(args(two, assignment="a2")).exercises] == A2
    with pytest.raises(UsageError, match=r"^course.yml holds 2 assignments; choose one with --assignment ID "
                                         r"\(one of: a1, a2\)$"):
        load(args(two))
    assert load(args(ROOT)).spec.assignment.id == "autograd"


def test_the_usage_error_exits_2_with_one_line(two, tmp_path, capsys):
    (tmp_path / "out").mkdir()
    assert main(["report", str(tmp_path / "out"), "--course", str(two)]) == 2
    err = capsys.readouterr().err
    assert err == "tensorgrade: course.yml holds 2 assignments; choose one with --assignment ID (one of: a1, a2)\n"


def test_check_guesses_the_assignment_from_the_exercises_or_files(two, tmp_path):
    assert load(args(two, exercises=["ex3_stop_gradients"], path=None), guess=True).spec.assignment.id == "a2"
    assert load(args(two, exercises=["ex2_zero_grad", "ex1_requires_grad"], path=None),
                guess=True).spec.assignment.id == "a1"
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(two / "exercises" / "ex1_requires_grad.py", mine)
    assert load(args(two, exercises=[], path=mine), guess=True).spec.assignment.id == "a1"
    assert load(args(two, exercises=[], path=two / "exercises" / "ex3_stop_gradients.py"),
                guess=True).spec.assignment.id == "a2"
    # Exercises of both, or every stub (the default path): unclear, so the usage error.
    with pytest.raises(UsageError, match="choose one with --assignment"):
        load(args(two, exercises=["ex1_requires_grad", "ex3_stop_gradients"], path=None), guess=True)
    with pytest.raises(UsageError, match="choose one with --assignment"):
        load(args(two, exercises=[], path=two / "exercises"), guess=True)
    # An explicit --assignment wins over the guess (the exercise is then unknown to it).
    assert load(args(two, assignment="a1", exercises=["ex3_stop_gradients"], path=None),
                guess=True).spec.assignment.id == "a1"


def test_an_output_folder_belongs_to_one_assignment(two, tmp_path):
    out = tmp_path / "out"
    load(args(two, assignment="a1", out=out), claim_output=True)  # what `grade` does
    assert (out / OUTPUT_MARKER).read_text(encoding="utf-8") == "a1\n"
    load(args(two, assignment="a1", out=out))  # report, export, similarity of a1: fine
    load(args(two, assignment="a1", out=out), claim_output=True)  # grading a1 again: fine
    for claim in (True, False):
        with pytest.raises(UsageError) as info:
            load(args(two, assignment="a2", out=out), claim_output=claim)
        assert str(info.value) == (f"{out} holds the results of assignment 'a1' ({out / OUTPUT_MARKER}); "
                                   "give assignment 'a2' its own output folder")
    assert (out / OUTPUT_MARKER).read_text(encoding="utf-8") == "a1\n"


def test_a_course_of_one_assignment_writes_no_marker(tmp_path):
    out = tmp_path / "out"
    load(args(ROOT, out=out), claim_output=True)
    assert not out.exists()


@pytest.mark.e2e
def test_validate_one_assignment_end_to_end(two):
    run = subprocess.run([sys.executable, "-m", "tensorgrade.cli", "validate", "--course", str(two),
                          "--assignment", "a2"], capture_output=True, text=True, timeout=600,
                         env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(two)})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ex3_stop_gradients" in run.stdout and "ex1_requires_grad" not in run.stdout
    missing = subprocess.run([sys.executable, "-m", "tensorgrade.cli", "validate", "--course", str(two)],
                             capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(two)})
    assert missing.returncode == 2
    assert missing.stderr.strip() == ("tensorgrade: course.yml holds 2 assignments; choose one with "
                                      "--assignment ID (one of: a1, a2)")


def test_new_exercise_in_a_course_of_several_assignments_leaves_course_yml_to_the_author(tmp_path):
    import shutil

    from tensorgrade.commands.new import new_exercise

    course = tmp_path / "course"
    shutil.copytree(FIXTURE, course)
    before = (course / "course.yml").read_text()
    written, unedited = new_exercise(course, "ex9_more")
    assert (course / "exercises" / "ex9_more.yml") in written and unedited
    assert (course / "course.yml").read_text() == before  # which assignment: the author decides
