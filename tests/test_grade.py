"""`tensorgrade grade` end to end: the demo class, exit codes, resuming, a kill midway, seeding.

Expected scores are derived from the course spec (points of each check) and the
`LOSES` tuples of the classic-mistake modules the demo students copied; see
examples/class/README.md for the story of each student.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from gradekit import (COURSE, EXERCISES, ROOT, checks_of, copy_course, exercise_of, expected_scores, loses, mistake,
                      read_gradebook, record, replace_function, sandbox_processes, scores, solution, wait_gone, write_folder)
from tensorgrade.batch import run_batch
from tensorgrade.grading import Plan
from tensorgrade.results.visibility import hidden_visibility
from tensorgrade.run.sandbox import Limits
from tensorgrade.spec.course import load_course

DEMO = ROOT / "examples" / "class"


def tensorgrade(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tensorgrade.cli", "grade", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"})


def ids(exercise: str, function: str | None = None) -> set[str]:
    return {c.id for c in checks_of(exercise, function)}


# -- the demo class -------------------------------------------------------------------
# student -> (checks lost, gradebook status (prefix), words in the lost checks' feedback, words in the review column)
DEMO_EXPECTED = {
    "ada_lovelace": (set(), "ok", [], []),
    # scale_tracked's LOSES names only scale_untracked_unconnected, but its result requires grad, which the spec's
    # scale_untracked_value ("... a tensor that does not require grad") also rules out: both are lost.
    "alan_turing": (loses(mistake("ex2_zero_grad", "zero_by_new_tensor")) | loses(mistake("ex3_stop_gradients", "scale_tracked"))
                    | {"scale_untracked_value"} | ids("ex6_jacobian_hessian"), "missing in ex6_jacobian_hessian", [], []),
    "barbara_liskov": (set(), "ok", [], []),
    "claude_shannon": (loses(mistake("ex4_higher_order", "grad_without_create_graph"))
                       | loses(mistake("ex5_autograd_grad", "vjp_ignores_v")), "ok", [],
                       ["similar to frank_abagnale in ex5_autograd_grad"]),  # both copied the same wrong vjp
    # the NULL dereference needs ctypes, which the policy refuses where make_leaf uses it: gradient keeps its points
    "dennis_ritchie": (ids("ex1_requires_grad", "make_leaf"), "ok", ["importing 'ctypes' is not allowed"],
                       ["imports ctypes", "importing 'ctypes'"]),
    "edsger_dijkstra": (ids("ex2_zero_grad"), "policy in ex2_zero_grad", ['"_exit"', "not allowed in submissions"],
                        ["os._exit"]),
    "frank_abagnale": (loses(mistake("ex5_autograd_grad", "vjp_ignores_v"))
                       | loses(mistake("ex6_jacobian_hessian", "jacobian_transposed")), "ok", [],
                       ["changing torch.allclose", "changing torch.equal",
                        "similar to claude_shannon in ex5_autograd_grad"]),
    "katherine_johnson": (loses(mistake("ex2_zero_grad", "descend_without_clearing")), "ok", [], []),
    # the answer-key hunt at the top level of ex1 stops at the refused pathlib: the file cannot be imported
    "kevin_mitnick": (ids("ex1_requires_grad"), "error in ex1_requires_grad", ["importing 'pathlib' is not allowed"],
                      ["importing 'os'", "importing 'pathlib'"]),
    "linus_torvalds": (ids("ex5_autograd_grad", "grads"), "timeout in ex5_autograd_grad",
                       ["no progress within the time limit", "grads()"], []),
    "margaret_hamilton": (ids("ex4_higher_order"), "syntax in ex4_higher_order",
                          ["SyntaxError", "ex4_higher_order.py, line"], []),
}
NOT_GRADED = {  # student -> (status prefix, words of the detail)
    "grace_hopper": ("duplicate", ["grace_hopper.py", "grace_hopper.zip"]),
    "john_mccarthy": ("unreadable", ["not a valid notebook"]),
    "niklaus_wirth": ("unreadable", ["not UTF-8"]),
    "ken_thompson": ("empty", ["no .py or .ipynb"]),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    started = time.perf_counter()
    proc = tensorgrade(str(DEMO), "-o", str(out), "--workers", "2")
    header, book = read_gradebook(out / "grades.csv")
    return dict(out=out, proc=proc, header=header, book=book, seconds=time.perf_counter() - started)


def test_demo_class_exits_zero_although_students_failed(demo):
    assert demo["proc"].returncode == 0, demo["proc"].stdout + demo["proc"].stderr
    assert "Traceback" not in demo["proc"].stdout + demo["proc"].stderr
    assert any(float(r["total"]) < float(r["possible"]) for r in demo["book"].values())


def test_gradebook_has_one_row_per_student_and_the_columns(demo):
    assert demo["header"] == ["student", "name", "email", *EXERCISES, "raw_total", "submitted_at", "late_days",
                              "penalty", "adjustment", "total", "possible", "percent", "status", "review"]
    assert sorted(demo["book"]) == sorted([*DEMO_EXPECTED, *NOT_GRADED])  # README.md and notes.txt are no students
    for row in demo["book"].values():
        assert float(row["possible"]) == COURSE.points
        assert float(row["raw_total"]) == pytest.approx(sum(float(row[e]) for e in EXERCISES))
        final = float(row["raw_total"]) - float(row["penalty"]) + float(row["adjustment"])
        assert float(row["total"]) == pytest.approx(final)
        assert float(row["percent"]) == pytest.approx(100 * float(row["total"]) / COURSE.points, abs=0.05)


@pytest.mark.parametrize("student", sorted(DEMO_EXPECTED))
def test_demo_student_outcome(demo, student):
    lost, status, words, review = DEMO_EXPECTED[student]
    rec = record(demo["out"], student)
    assert scores(rec) == expected_scores(lost)
    row = demo["book"][student]
    assert row["status"] == status
    expected = expected_scores(lost)
    for ex in COURSE.exercises:
        assert float(row[ex.id]) == sum(expected[c.id] for c in ex.spec.checks)
    assert float(row["raw_total"]) == COURSE.points - sum(c.points for e in COURSE.exercises for c in e.spec.checks
                                                          if c.id in lost)
    for check in (c for e in rec["exercises"] for c in e["checks"] if c["id"] in lost):
        assert check["feedback"], check["id"]
        for word in words:
            assert word in check["feedback"], (check["id"], check["feedback"])
    for word in review:
        assert word in row["review"], row["review"]
    if not review:
        assert row["review"] == ""


def test_correct_students_get_the_course_points(demo):
    for student in ("ada_lovelace", "barbara_liskov"):
        assert float(demo["book"][student]["raw_total"]) == COURSE.points


# examples/class/submissions.csv gives times; course.yml: grace 15 min, 10 %/day, at most 5 days;
# extensions.csv gives katherine_johnson 2 more days. Due 2026-12-15 23:59 UTC.
DEMO_LATE = {  # student -> (late days, final total)
    "ada_lovelace": (0, 60.0),                   # 3 h early
    "claude_shannon": (0, None),                 # 11 min after the due: within the grace
    "barbara_liskov": (2, 48.0),                 # 1.5 days late: 2 started days, -20 % of 60
    "katherine_johnson": (0, None),              # 1.4 days late, but her due is 2 days later
    "frank_abagnale": (7, 0.0),                  # 6 days 9 h late: beyond 5 days, 0 (still graded)
    "margaret_hamilton": (0, None),              # no time known: on time
}


@pytest.mark.parametrize("student", sorted(DEMO_LATE))
def test_demo_late_policy(demo, student):
    days, total = DEMO_LATE[student]
    row = demo["book"][student]
    assert int(row["late_days"]) == days
    assert float(row["total"]) == (float(row["raw_total"]) if total is None else total)
    results = json.loads((demo["out"] / student / "results.json").read_text())
    assert results["score"] == pytest.approx(float(row["total"]))
    html = (demo["out"] / student / "report.html").read_text()
    if student == "margaret_hamilton":
        assert "no submission time known: counted as on time" in html
    if student == "frank_abagnale":
        assert "scored 0" in html and float(row["raw_total"]) > 0
    if student == "katherine_johnson":
        assert "extension: due 2026-12-17 23:59 UTC" in html


def test_only_regrades_those_students_and_keeps_every_other_row(tmp_path, demo):
    out = tmp_path / "out"
    shutil.copytree(demo["out"], out)
    before = (out / "grades.csv").read_bytes().splitlines()
    other = (out / "ada_lovelace" / "results.json").read_bytes()
    stamp = (out / "barbara_liskov" / "record.json").stat().st_mtime_ns
    proc = tensorgrade(str(DEMO), "-o", str(out), "--workers", "1", "--no-pdf", "--only", "barbara_liskov")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / "grades.csv").read_bytes().splitlines() == before  # same verdicts: every row identical
    assert (out / "barbara_liskov" / "record.json").stat().st_mtime_ns != stamp  # graded again
    assert (out / "ada_lovelace" / "results.json").read_bytes() == other
    bad = tensorgrade(str(DEMO), "-o", str(out), "--only", "nobody_here")
    assert bad.returncode == 2 and "--only: no submission for nobody_here" in bad.stderr


def test_grading_one_student_keeps_the_others_rows(tmp_path, demo):
    out = tmp_path / "out"
    shutil.copytree(demo["out"], out)
    before = (out / "grades.csv").read_bytes().splitlines()
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(DEMO / "barbara_liskov.py", one / "barbara_liskov.py")  # no submissions.csv: no time known
    proc = tensorgrade(str(one), "-o", str(out), "--workers", "1", "--no-pdf", "--regrade")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    after = (out / "grades.csv").read_bytes().splitlines()
    assert len(after) == len(before)
    changed = [a for a, b in zip(before, after) if a != b]
    assert [c.split(b",")[0] for c in changed] == [b"barbara_liskov"]  # now on time: no time known


def test_a_refusal_costs_only_the_function_that_hits_it(demo):
    rec = record(demo["out"], "dennis_ritchie")
    for ex in COURSE.exercises:
        got = exercise_of(rec, ex.id)
        assert got["status"] == "ok"
        for check in got["checks"]:
            refused = check["function"] == "make_leaf"
            assert check["score"] == (0 if refused else check["points"]), check["id"]


def test_missing_exercise_scores_zero_on_exactly_that_exercise(demo):
    rec = record(demo["out"], "alan_turing")
    ex6 = exercise_of(rec, "ex6_jacobian_hessian")
    assert ex6["status"] == "missing" and all(c["score"] == 0 for c in ex6["checks"])
    assert "no file ex6_jacobian_hessian.py" in ex6["detail"]
    assert all(exercise_of(rec, e)["status"] == "ok" for e in EXERCISES if e != "ex6_jacobian_hessian")


@pytest.mark.parametrize("student", sorted(NOT_GRADED))
def test_submissions_that_cannot_be_graded(demo, student):
    status, words = NOT_GRADED[student]
    row = demo["book"][student]
    assert row["status"].startswith(f"{status}: "), row["status"]
    for word in words:
        assert word in row["status"]
    assert float(row["total"]) == 0
    rec = record(demo["out"], student)
    assert rec["status"] == status
    results = json.loads((demo["out"] / student / "results.json").read_text())
    assert results["score"] == 0


def test_solution_text_never_reaches_the_output(demo):
    rec = record(demo["out"], "kevin_mitnick")
    assert "importing 'pathlib' is not allowed" in exercise_of(rec, "ex1_requires_grad")["detail"]
    marker = solution("ex1_requires_grad").splitlines()[0]
    for path in demo["out"].rglob("*"):
        if path.is_file():
            assert marker not in path.read_text(errors="replace"), path


@pytest.mark.parametrize("student", sorted([*DEMO_EXPECTED, *NOT_GRADED]))
def test_results_json_is_gradescope_format(demo, student):
    results = json.loads((demo["out"] / student / "results.json").read_text())
    rec = record(demo["out"], student)
    assert results["score"] == pytest.approx(float(demo["book"][student]["total"]))
    standing = [t for t in results["tests"] if t["name"] == "Late policy" or t["name"].startswith("Adjustment › ")]
    assert all(t["max_score"] == 0 for t in standing)  # the late policy and adjustments: entries that add up
    entries = {t["name"]: t for t in results["tests"] if t.get("name") != "Public Tests" and t not in standing}
    specs = {f"{e.id} › {c.id}": c for e in COURSE.exercises for c in e.spec.checks}
    assert set(entries) == set(specs)
    before_due = dt.datetime.now(dt.timezone.utc) < COURSE.spec.assignment.due
    for name, entry in entries.items():
        spec = specs[name]
        assert set(entry) >= {"name", "score", "max_score", "visibility", "output"}
        assert entry["max_score"] == spec.points
        assert entry["score"] == scores(rec)[spec.id]
        assert isinstance(entry["output"], str) and spec.verifies in entry["output"]
        if spec.visibility == "public":
            assert entry["visibility"] == "visible"
        elif before_due and COURSE.spec.grading.hidden_feedback == "after_due":
            assert entry["visibility"] != "visible"
    assert sum(t["score"] for t in [*entries.values(), *standing]) == pytest.approx(results["score"])


def test_hidden_checks_open_at_the_due_date():
    due = COURSE.spec.assignment.due
    assert hidden_visibility(COURSE, due - dt.timedelta(seconds=1)) != "visible"
    assert hidden_visibility(COURSE, due) == "visible"


def test_record_json_round_trips(demo):
    from tensorgrade.results.model import StudentResult

    for student in DEMO_EXPECTED:
        data = record(demo["out"], student)
        assert StudentResult.from_dict(data).to_dict() == data
        assert data["digest"]


# -- exit codes -------------------------------------------------------------------
def test_missing_submissions_folder_is_an_error(tmp_path):
    proc = tensorgrade(str(tmp_path / "nowhere"), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("nowhere: no such folder or zip") and len(proc.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_broken_course_is_an_error_and_grades_nobody(tmp_path):
    course = copy_course(tmp_path / "course")
    with open(course / "course.yml", "a") as fh:
        fh.write("\nextra: [unclosed\n")
    out = tmp_path / "out"
    proc = tensorgrade(str(DEMO), "-o", str(out), "--course", str(course))
    assert proc.returncode != 0
    assert "course error" in proc.stderr and "course.yml" in proc.stderr and "YAML" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists() or not any(out.iterdir())


# -- resuming ---------------------------------------------------------------------
def mtimes(out: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/record.json")}


def test_resume_reuses_unchanged_and_regrades_what_changed(tmp_path):
    course_root = copy_course(tmp_path / "course")  # same content as the repository's: same course version
    course = load_course(course_root)
    subs, out = tmp_path / "class", tmp_path / "out"
    subs.mkdir()
    shutil.copytree(DEMO / "ada_lovelace", subs / "ada_lovelace")
    shutil.copytree(DEMO / "alan_turing", subs / "alan_turing")
    shutil.copy(DEMO / "barbara_liskov.py", subs / "barbara_liskov.py")

    first = run_batch(course, subs, out, workers=2)
    assert (first.graded, first.reused) == (3, 0)
    book, stamps = (out / "grades.csv").read_bytes(), mtimes(out)

    second = run_batch(course, subs, out, workers=2)
    assert (second.graded, second.reused) == (0, 3)
    assert (out / "grades.csv").read_bytes() == book
    assert mtimes(out) == stamps

    # one student hands in a fix for ex6: only that student is graded again
    shutil.copy(ROOT / "solutions" / "ex6_jacobian_hessian.py", subs / "alan_turing" / "ex6_jacobian_hessian.py")
    third = run_batch(course, subs, out, workers=2)
    assert (third.graded, third.reused) == (1, 2)
    now = mtimes(out)
    assert now["alan_turing"] != stamps["alan_turing"]
    assert {k: v for k, v in now.items() if k != "alan_turing"} == {k: v for k, v in stamps.items() if k != "alan_turing"}
    _, rows = read_gradebook(out / "grades.csv")
    assert float(rows["alan_turing"]["ex6_jacobian_hessian"]) == course.exercise("ex6_jacobian_hessian").spec.points

    # --regrade grades everyone again, with the same result
    stamps = mtimes(out)
    book = (out / "grades.csv").read_bytes()
    proc = tensorgrade(str(subs), "-o", str(out), "--course", str(course_root), "--regrade", "--workers", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Graded 3, reused 0" in proc.stdout
    assert all(mtimes(out)[s] != stamps[s] for s in stamps)
    assert (out / "grades.csv").read_bytes() == book

    # a changed grader file changes the course version: every record is stale
    grader = course_root / "graders" / "ex3_stop_gradients.py"
    grader.write_text(grader.read_text() + "\n# tweaked hint wording\n")
    fourth = run_batch(load_course(course_root), subs, out, workers=2)
    assert (fourth.graded, fourth.reused) == (3, 0)


# -- kill midway ------------------------------------------------------------------
def make_class(folder: Path, n: int, layout: str = "folders") -> None:
    """n submissions: solutions with a different classic mistake each (some fully correct).

    layout "gradescope": the same work as a Gradescope export (metadata + submission_<id>/ folders).
    """
    mistakes = sorted((ROOT / "graders" / "mistakes").glob("*/*.py"))
    folder.mkdir()
    meta = []
    for i in range(n):
        files = {}
        if i % 4:
            m = mistakes[i % len(mistakes)]
            files[m.parent.name] = m.read_text()
        name = f"student_{i:02d}" if layout == "folders" else f"submission_{6000 + i}"
        write_folder(folder / name, files)
        meta.append(f"{name}:\n  :submitters:\n  - :name: Student {i}\n    :sid: 's{i:02d}'\n"
                    f"  :created_at: 2026-12-15 10:{i:02d}:00.000000000 +00:00\n")
    if layout == "gradescope":
        (folder / "submission_metadata.yml").write_text("".join(meta))


@pytest.mark.parametrize("layout", ["folders", "gradescope"])
def test_kill_midway_then_resume_gives_the_uninterrupted_gradebook(tmp_path, layout):
    subs = tmp_path / "class"
    make_class(subs, 40, layout)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "tensorgrade.cli", "grade", str(subs), "-o", str(out), "--workers", "2"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    ours: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while len(list(out.glob("*/record.json"))) < 4:
            assert proc.poll() is None, "finished before it could be killed"
            assert time.monotonic() < deadline, "no records within 120 s"
            ours |= {p.pid for p in sandbox_processes() if _descends_from(p, proc.pid)}
            time.sleep(0.05)
        ours |= {p.pid for p in sandbox_processes() if _descends_from(p, proc.pid)}
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert ours, "no zygote seen while the grader ran"
    done = len(list(out.glob("*/record.json")))
    assert 4 <= done < 40
    for path in [*out.glob("*/record.json"), *out.glob("*/results.json")]:
        json.loads(path.read_text())  # every final name holds a whole file
    if (out / "grades.csv").exists():
        assert (out / "grades.csv").read_text().startswith("student,")
    # the zygotes notice their parent is gone and take their children with them
    assert wait_gone(ours, timeout=15) == set()

    resumed = tensorgrade(str(subs), "-o", str(out), "--workers", "2")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"{done} of 40 submission(s) unchanged" in resumed.stdout
    assert not list(out.rglob("*.tmp")), list(out.rglob("*.tmp"))

    fresh = tmp_path / "fresh"
    straight = tensorgrade(str(subs), "-o", str(fresh), "--workers", "2")
    assert straight.returncode == 0
    assert (out / "grades.csv").read_bytes() == (fresh / "grades.csv").read_bytes()


def _descends_from(proc: psutil.Process, ancestor: int) -> bool:
    try:
        return any(p.pid == ancestor for p in proc.parents())
    except psutil.Error:
        return False


# -- seeding ----------------------------------------------------------------------
def twin_feedback(tmp_path: Path, plan: Plan) -> tuple[str, str]:
    subs = tmp_path / plan.seed_by
    bad = {"ex1_requires_grad": mistake("ex1_requires_grad", "float64_leaf").read_text()}
    write_folder(subs / "twin_a", bad)
    write_folder(subs / "twin_b", bad)
    out = tmp_path / f"out_{plan.seed_by}"
    run_batch(COURSE, subs, out, plan=plan, workers=2)
    lost = loses(mistake("ex1_requires_grad", "float64_leaf"))
    texts = []
    for student in ("twin_a", "twin_b"):
        rec = record(out, student)
        assert scores(rec) == expected_scores(lost)
        texts.append("\n".join(c["feedback"] for c in exercise_of(rec, "ex1_requires_grad")["checks"]))
    assert all(texts)
    return texts[0], texts[1]


def test_seed_by_fixed_gives_everyone_the_same_inputs(tmp_path):
    a, b = twin_feedback(tmp_path, Plan(seed_by="fixed"))
    assert a == b


def test_seed_by_student_gives_each_student_their_own_inputs(tmp_path):
    a, b = twin_feedback(tmp_path, Plan())
    assert a != b
    assert "inputs: values = " in a and "inputs: values = " in b


def test_sandboxes_started_ahead_and_not_taken_are_closed(tmp_path):
    from tensorgrade.run.start import Starting

    existing = {p.pid for p in sandbox_processes()}
    taken = Starting(COURSE, 2, hide=[tmp_path]).take(1)  # the second is not needed: discarded
    started, deadline = set(), time.monotonic() + 30
    while len(started) < 2 and time.monotonic() < deadline:  # both are spawned at once, long before they are up
        started |= {p.pid for p in sandbox_processes(exclude=existing)}
        time.sleep(0.01)
    zygote = taken[0].result()
    try:
        others = started - {zygote.pid}
        assert len(started) == 2 and len(others) == 1, started
        assert wait_gone(others, timeout=60) == set()
        assert zygote.run({"files": {}, "exercises": []}, Limits()).status == "ok"  # the taken one still works
    finally:
        zygote.close()


# -- torch.func in a class ---------------------------------------------------------------
def torch_func_ex6(reach: str = "torch.func") -> str:
    """The ex6 solution with jacobian and hessian written with torch.func, reached through `reach`."""
    source = replace_function(solution("ex6_jacobian_hessian"), "jacobian",
                              f"def jacobian(f, x):\n    return {reach}.jacrev(f)(x)\n")
    return replace_function(source, "hessian", f"def hessian(f, x):\n    return {reach}.hessian(f)(x)\n")


def test_torch_func_users_graded_first_by_a_zygote_get_full_marks(tmp_path):
    """A class's zygote forks its first child before it warms torch.func up (the first result a second
    sooner); there torch's first import of dynamo from a student's call is refused. The student that child
    graded is graded again in a warm one: the first in line, whether their code names torch.func or not."""
    subs = tmp_path / "subs"
    write_folder(subs / "a_names_it", {"ex6_jacobian_hessian": torch_func_ex6()})
    write_folder(subs / "b_reaches_it", {"ex6_jacobian_hessian": torch_func_ex6('getattr(torch, "fu" + "nc")')})
    out = tmp_path / "out"
    report = run_batch(COURSE, subs, out, workers=1, pdf=False)
    assert report.graded == 2
    for student in ("a_names_it", "b_reaches_it"):
        rec = record(out, student)
        assert scores(rec) == expected_scores(set()), (student, rec["flags"])
        assert not [f for f in rec["flags"] if f.startswith("refused")], (student, rec["flags"])
