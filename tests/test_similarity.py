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
    pairs, compared, unlisted = find_pairs(COURSE, class_of_six())
    assert unlisted == {}
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
    found = compare_class(ex.id, sources, boilerplate_of(ex), spec)
    assert (found.pairs, found.partners) == ([], {})


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
            "{s.student: exercise_sources(s, ex) for s in subs}, boilerplate_of(ex), spec).pairs])")
    outs = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outs) == 1 and "copy_a" in outs.pop()


def crowd(n: int):
    """n students who all hand in copy_a's code, and one near-copy with other names (copy_b)."""
    return [sub(f"same_{i:02d}", {EX6: (FIXTURES / "copy_a.py").read_bytes()}) for i in range(n)] + [
        sub("renamed", {EX6: (FIXTURES / "copy_b.py").read_bytes()})]


def test_a_crowd_handing_in_the_same_code_lists_each_students_closest_partners_and_counts_the_rest(tmp_path):
    from tensorgrade.similarity.detect import MAX_PARTNERS

    pairs, _, unlisted = find_pairs(COURSE, crowd(12))
    partners: dict[str, int] = {}
    for p in pairs:
        partners[p.a], partners[p.b] = partners.get(p.a, 0) + 1, partners.get(p.b, 0) + 1
    students = {f"same_{i:02d}" for i in range(12)} | {"renamed"}
    assert set(partners) == students  # everybody in a similar pair is still named in one
    assert len(pairs) < 13 * 12 // 2  # not every one of the 78 pairs
    assert all(n >= 1 for n in partners.values()) and max(partners.values()) <= 2 * MAX_PARTNERS
    # listed + unlisted = every partner at or above the threshold: 12 others for each of the 13
    more = unlisted["ex6_jacobian_hessian"]
    assert all(partners[s] + more.get(s, 0) == 12 for s in students)
    identical = [p for p in pairs if "renamed" not in (p.a, p.b)]
    assert identical and all(p.similarity == identical[0].similarity for p in identical)
    assert all(p.slices_a and p.slices_b for p in pairs)  # each listed pair highlights its own text
    update_similarity(tmp_path, COURSE, crowd(12))
    records = [StudentResult(s, []) for s in sorted(students)]
    write_gradebook(tmp_path / "grades.csv", records, COURSE)
    with open(tmp_path / "grades.csv", newline="") as fh:
        review = {r["student"]: r["review"] for r in csv.DictReader(fh)}
    shown = review["same_00"].count("similar to ")
    assert shown == partners["same_00"] and f"and {12 - shown} more similar in ex6_jacobian_hessian" in review["same_00"]
    assert "partners not shown" in (tmp_path / "similarity.html").read_text()


def test_scores_of_a_crowd_are_the_scores_of_each_pair_compared_alone():
    """Identical code is compared once per distinct fingerprint: the scores are those of comparing each pair."""
    from tensorgrade.similarity.detect import compare_class
    from tensorgrade.similarity.extract import boilerplate_of, exercise_sources

    ex = COURSE.exercise("ex6_jacobian_hessian")
    sources = {s.student: exercise_sources(s, ex) for s in crowd(3)}
    together = {(p.a, p.b): p for p in compare_class(ex.id, sources, boilerplate_of(ex), COURSE.spec.similarity).pairs}
    for (a, b), p in together.items():
        alone = compare_class(ex.id, {a: sources[a], b: sources[b]}, boilerplate_of(ex), COURSE.spec.similarity).pairs
        assert [(q.a, q.b, q.similarity, q.share_a, q.share_b, q.slices_a, q.slices_b) for q in alone] == [
            (p.a, p.b, p.similarity, p.share_a, p.share_b, p.slices_a, p.slices_b)]
    assert len(together) == 6  # 4 students, all similar: every pair listed (under the limit)
