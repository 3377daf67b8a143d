"""Similar code across a class: near-copies with renamed variables are listed, independent work and
the course's own starter code and solution are not. Never a penalty, only a reason to look."""

from __future__ import annotations

import csv
from pathlib import Path

from tensorgrade.intake.submission import from_files
from tensorgrade.results.gradebook import write_gradebook
from tensorgrade.results.model import CheckResult, ExerciseResult, StudentResult
from tensorgrade.similarity.run import find_pairs, update_similarity
from tensorgrade.spec.course import load_course

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "similarity"
COURSE = load_course(ROOT / "tests" / "fixtures" / "engine_course", check_graders=False)  # six exercises, frozen
IDS = [e.id for e in COURSE.exercises]
EX6 = "ex6_jacobian_hessian.py"


def sub(student: str, files: dict[str, bytes]):
    return from_files(student, student, files, IDS)


def class_of_six():
    return [
        sub("copy_a", {EX6: (FIXTURES / "copy_a.py").read_bytes()}),
        # copy_b is copy_a with every name changed and a comment added
        sub("copy_b", {EX6: (FIXTURES / "copy_b.py").read_bytes()}),
        sub("indep_c", {EX6: (FIXTURES / "independent_c.py").read_bytes()}),
        sub("indep_d", {"all.py": (FIXTURES / "independent_d.py").read_bytes()}),  # one file for everything
        sub("stub_1", {EX6: (ROOT / "exercises" / EX6).read_bytes()}),
        sub("stub_2", {EX6: (ROOT / "exercises" / EX6).read_bytes()}),
        sub("sol_1", {EX6: (ROOT / "solutions" / EX6).read_bytes()}),
        sub("sol_2", {EX6: (ROOT / "solutions" / EX6).read_bytes()}),
    ]


def test_near_copies_are_listed_and_nothing_else():
    pairs, compared = find_pairs(COURSE, class_of_six())
    assert [(p.exercise, p.a, p.b) for p in pairs] == [("ex6_jacobian_hessian", "copy_a", "copy_b")]
    assert pairs[0].similarity > 0.9
    assert set(compared["ex6_jacobian_hessian"]) == {"copy_a", "copy_b", "indep_c", "indep_d", "stub_1", "stub_2",
                                                    "sol_1", "sol_2"}


def test_identical_starter_code_and_solutions_score_zero():
    from tensorgrade.similarity.detect import compare_class
    from tensorgrade.similarity.extract import boilerplate_of

    ex = COURSE.exercise("ex6_jacobian_hessian")
    sources = {"stub_1": (ROOT / "exercises" / EX6).read_text(), "stub_2": (ROOT / "exercises" / EX6).read_text(),
               "sol_1": (ROOT / "solutions" / EX6).read_text(), "sol_2": (ROOT / "solutions" / EX6).read_text()}
    spec = COURSE.spec.similarity.model_copy(update={"threshold": 1e-9})  # anything above zero would show
    assert compare_class(ex.id, sources, boilerplate_of(ex), spec) == []


def test_outputs_name_the_partner(tmp_path):
    update_similarity(tmp_path, COURSE, class_of_six())
    html = (tmp_path / "similarity.html").read_text()
    assert "copy_a" in html and "copy_b" in html and "<mark>" in html and "indep_c" not in html
    records = [StudentResult(s, [ExerciseResult(e.id, e.spec.title, [
        CheckResult(c.id, c.function, c.points, c.points, c.visibility, c.verifies) for c in e.spec.checks])
        for e in COURSE.exercises]) for s in ("copy_a", "copy_b", "indep_c")]
    write_gradebook(tmp_path / "grades.csv", records, COURSE)
    with open(tmp_path / "grades.csv", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert rows["copy_a"]["review"].startswith("similar to copy_b in ex6_jacobian_hessian (")
    assert rows["copy_b"]["review"].startswith("similar to copy_a in ex6_jacobian_hessian (")
    assert rows["indep_c"]["review"] == ""
    assert rows["copy_a"]["total"] == "60"  # never a penalty


def test_scores_do_not_depend_on_the_hash_seed():
    """copydetect hashes k-grams with hash(), which PYTHONHASHSEED changes per process; ours are stable."""
    import os
    import subprocess
    import sys

    code = ("import sys; sys.path.insert(0, 'tests'); from test_similarity import find_pairs, COURSE, class_of_six; "
            "from tensorgrade.similarity.detect import compare_class; from tensorgrade.similarity.extract import "
            "boilerplate_of, exercise_sources; ex = COURSE.exercise('ex6_jacobian_hessian'); "
            "subs = class_of_six(); spec = COURSE.spec.similarity.model_copy(update={'threshold': 1e-9}); "
            "print([(p.a, p.b, round(p.similarity, 6)) for p in compare_class(ex.id, "
            "{s.student: exercise_sources(s, ex) for s in subs}, boilerplate_of(ex), spec)])")
    outs = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outs) == 1 and "copy_a" in outs.pop()
