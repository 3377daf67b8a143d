"""The instructor's term: late policy, extensions and adjustments, applied the same way to grades.csv,
results.json and the reports. Expected numbers are worked out by hand in the comments."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest

from tensorgrade.render.report import render_report_html
from tensorgrade.results.gradebook import render_csv
from tensorgrade.results.model import CheckResult, ExerciseResult, StudentResult
from tensorgrade.results.otter import gradescope_dict
from tensorgrade.spec.course import load_course
from tensorgrade.spec.errors import SpecError
from tensorgrade.spec.models import LateSpec
from tensorgrade.term import Term, load_term, standing

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "tests" / "fixtures" / "engine_course"  # the bundled six exercises, frozen at 60 points
UTC = dt.timezone.utc
DUE = dt.datetime(2026, 12, 15, 23, 59, tzinfo=UTC)  # the bundled course.yml's due
LATE = LateSpec(grace_minutes=15, penalty_per_day=10, max_days_late=5)
POLICY = """
policy:
  late:
    grace_minutes: 15
    penalty_per_day: 10
    max_days_late: 5
  extensions: extensions.csv
"""


def record(student: str, submitted_at: str = "", lose: tuple[str, ...] = ()) -> StudentResult:
    """Every check of the bundled course passed (60 points) except the check ids in `lose`."""
    course = load_course(ENGINE, check_graders=False)
    exercises = [ExerciseResult(ex.id, ex.spec.title, [
        CheckResult(c.id, c.function, c.points, 0.0 if c.id in lose else c.points, c.visibility, c.verifies,
                    "lost" if c.id in lose else "") for c in ex.spec.checks]) for ex in course.exercises]
    return StudentResult(student=student, exercises=exercises, submitted_at=submitted_at)


def at(days: float = 0, minutes: float = 0) -> str:
    return (DUE + dt.timedelta(days=days, minutes=minutes)).isoformat()


@pytest.fixture
def course(tmp_path):
    """A copy of the course with the late policy and an extension file (the rest: shared with the bundle)."""
    dst = tmp_path / "course"
    dst.mkdir()
    for name in ("exercises", "solutions", "graders", "templates"):
        (dst / name).symlink_to(ROOT / name)
    (dst / "course.yml").write_text((ENGINE / "course.yml").read_text().split("\npolicy:")[0] + POLICY)
    (dst / "extensions.csv").write_text("student,due,days\nemmy,2026-12-20T12:00:00+01:00,\nrosa,,3\n")
    return dst


# --- the arithmetic ----------------------------------------------------------------------------------------

def test_one_and_a_half_days_late_loses_20_percent():
    # 1.5 days after the due: past due + 15 min, 2 started days x 10 % = 20 % of 60 = 12 points
    st = standing(record("ann", at(days=1.5)), Term(due=DUE, late=LATE))
    assert (st.late_days, st.penalty_percent, st.penalty, st.total) == (2, 20.0, 12.0, 48.0)
    assert st.raw_total == 60


@pytest.mark.parametrize("minutes, days", [(15, 0), (16, 1), (24 * 60, 1), (24 * 60 + 1, 2)])
def test_grace_and_started_days(minutes, days):
    assert standing(record("ann", at(minutes=minutes)), Term(due=DUE, late=LATE)).late_days == days


def test_beyond_max_days_late_scores_zero_but_keeps_the_grading():
    rec = record("ann", at(days=5, minutes=1), lose=("make_leaf_values",))  # 6 started days > 5; raw 58
    st = standing(rec, Term(due=DUE, late=LATE))
    assert (st.late_days, st.beyond_max, st.raw_total, st.total) == (6, True, 58.0, 0.0)
    assert rec.total == 58  # the record itself is untouched


def test_no_submission_time_is_on_time_and_says_so():
    st = standing(record("ann", ""), Term(due=DUE, late=LATE))
    assert st.total == 60 and st.late_days == 0
    assert any("no submission time known" in n and "on time" in n for n in st.notes)


def test_extension_by_date_and_by_days(course):
    term = load_term(load_course(course, check_graders=False))
    # emmy: due 2026-12-20 12:00+01:00 = 11:00 UTC; submitted 2026-12-20 10:00 UTC: on time
    assert standing(record("emmy", "2026-12-20T10:00:00+00:00"), term).total == 60
    # rosa: 3 extra days -> due 2026-12-18 23:59 UTC; 1.5 days after the course due is on time
    st = standing(record("rosa", at(days=1.5)), term)
    assert (st.late_days, st.total, st.extended) == (0, 60, True)
    # rosa 3.5 days after the course due = 0.5 days after her own: 1 started day, 10 % of 60 = 6
    assert standing(record("rosa", at(days=3.5)), term).total == 54
    assert standing(record("other", at(days=1.5)), term).total == 48


# --- files beside course.yml ---------------------------------------------------------------------------

def spec_error(course_dir: Path) -> str:
    with pytest.raises(SpecError) as exc:
        load_term(load_course(course_dir, check_graders=False))
    return str(exc.value)


@pytest.mark.parametrize("text, message", [
    ("student,due\nann,2026-12-20T12:00:00\n", "extensions.csv: line 2: due: has no time zone;"),
    ("student,due\nann,next week\n", "extensions.csv: line 2: due: must be a date and time with a zone"),
    ("student,days\nann,-1\n", "extensions.csv: line 2: days: must be a positive number, found '-1'"),
    ("student,due,days\nann,2026-12-20T12:00:00+00:00,2\n", "extensions.csv: line 2: give exactly one of"),
    ("student,days\nann,1\n\nann,2\n", "extensions.csv: line 4: 'ann' already has an extension on line 2"),
    ("student,weeks\nann,1\n", "extensions.csv: line 1: unknown column 'weeks'"),
])
def test_bad_extension_rows_are_one_line_errors(course, text, message):
    (course / "extensions.csv").write_text(text)
    assert spec_error(course).startswith(message)


def test_missing_extension_file_is_named(course):
    (course / "extensions.csv").unlink()
    assert spec_error(course) == "extensions.csv: file not found"


@pytest.mark.parametrize("text, message", [
    ("student,target,delta,comment\nann,ex9,1,x\n", "adjustments.csv: line 2: target: 'ex9' is not 'total'"),
    ("student,target,delta,comment\nann,ex1_requires_grad.nope,1,x\n", "adjustments.csv: line 2: target:"),
    ("student,target,delta,comment\nann,total,lots,x\n", "adjustments.csv: line 2: delta: must be a non-zero"),
    ("student,target,delta,comment\nann,total,1,\n", "adjustments.csv: line 2: comment: is empty"),
    ("student,target,delta\nann,total,1\n", "adjustments.csv: line 1: column 'comment' is missing"),
])
def test_bad_adjustment_rows_are_one_line_errors(course, text, message):
    (course / "adjustments.csv").write_text(text)
    assert spec_error(course).startswith(message)


def test_due_without_zone_is_a_course_error(course):
    text = (course / "course.yml").read_text().replace("due: 2026-12-15T23:59:00+00:00", "due: 2026-12-15T23:59:00")
    (course / "course.yml").write_text(text)
    with pytest.raises(SpecError, match=r"^course.yml: assignment.due: has no time zone"):
        load_course(course, check_graders=False)


def test_unknown_policy_key_is_a_course_error(course):
    (course / "course.yml").write_text((course / "course.yml").read_text().replace("grace_minutes", "grace_minute"))
    with pytest.raises(SpecError, match=r"policy.late.grace_minute: is not a known field \(did you mean 'grace_minutes'"):
        load_course(course, check_graders=False)


# --- adjustments ---------------------------------------------------------------------------------------

def test_adjustments_apply_after_the_late_policy_within_bounds(course):
    (course / "adjustments.csv").write_text(
        "student,target,delta,comment\n"
        "ann,ex1_requires_grad.make_leaf_values,5,regrade: your leaf was right\n"  # lost 2 -> at most +2
        "ann,total,-1,copied the docstring\n"
        "bob,total,7,bonus\n"                                                   # bob: 0 after max days, +7
        "ghost,total,1,never submitted\n")
    term = load_term(load_course(course, check_graders=False))
    ann = standing(record("ann", at(days=0.5), lose=("make_leaf_values",)), term)
    # raw 58; 1 day late: -10 % = -5.8 -> 52.2; +2 (capped by the check's 2 points) -> 54.2; -1 -> 53.2
    assert [a.points for a in ann.applied] == [2.0, -1.0]
    assert ann.total == pytest.approx(53.2)
    bob = standing(record("bob", at(days=9)), term)
    assert bob.total == 7.0 and bob.beyond_max
    full = standing(record("cy"), Term(due=DUE, adjustments=term.adjustments[2:3]))  # bob's row: not cy's
    assert full.total == 60
    assert term.unknown_students({"ann", "bob", "emmy", "rosa"}) == [
        "adjustments.csv: line 5: no submission from 'ghost' (not applied)"]


def test_total_adjustment_never_exceeds_possible():
    from tensorgrade.term.adjustments import Adjustment
    term = Term(due=DUE, adjustments=(Adjustment("ann", "total", 10, "bonus", 2),))
    st = standing(record("ann"), term)
    assert st.total == 60 and st.applied[0].points == 0


# --- the same numbers in all three outputs ------------------------------------------------------------

def test_grades_csv_results_json_and_report_agree(course):
    (course / "adjustments.csv").write_text("student,target,delta,comment\n"
                                            "ann,ex1_requires_grad,1.5,partial credit for the idea\n")
    c = load_course(course, check_graders=False)
    ann = record("ann", at(days=1.5), lose=("make_leaf_values",))  # raw 58, -20 % = -11.6, +1.5 -> 47.9
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(render_csv([ann, record("bo")], c)))}
    a = rows["ann"]
    assert (a["raw_total"], a["late_days"], a["penalty"], a["adjustment"], a["total"], a["percent"]) == \
           ("58", "2", "11.6", "1.5", "47.9", "79.8")
    assert a["submitted_at"] == at(days=1.5) and a["ex1_requires_grad"] == "8"
    b = rows["bo"]
    assert (b["raw_total"], b["late_days"], b["penalty"], b["total"]) == ("60", "0", "0", "60")
    data = gradescope_dict(ann, c)
    assert data["score"] == pytest.approx(47.9)
    assert sum(t.get("score", 0) for t in data["tests"]) == pytest.approx(47.9)
    late = next(t for t in data["tests"] if t["name"] == "Late policy")
    assert late["score"] == pytest.approx(-11.6) and "2 started days" in late["output"]
    adj = next(t for t in data["tests"] if t["name"].startswith("Adjustment"))
    assert "partial credit for the idea" in adj["output"] and adj["score"] == 1.5
    html = render_report_html(ann, c)
    assert re.search(r"<b>47\.9</b> / 60", html)
    assert "late penalty −11.6" in html and "partial credit for the idea" in html
    assert "2 started days" in html


def test_report_says_on_time_when_no_time_is_known(course):
    html = render_report_html(record("ann"), load_course(course, check_graders=False))
    assert "no submission time known: counted as on time" in html and "<b>60</b> / 60" in html


def test_report_pdf_shows_the_final_score(course):
    pypdf = pytest.importorskip("pypdf")
    pytest.importorskip("typst")
    from tensorgrade.render.report import render_report_pdf
    data = render_report_pdf(record("ann", at(days=9)), load_course(course, check_graders=False))
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "scored 0" in text and "Your score" in text


# --- tensorgrade report: outputs rebuilt from stored records -----------------------------------------

def test_report_after_editing_adjustments_changes_only_the_affected_rows(course, tmp_path):
    from tensorgrade.cli import main
    from tensorgrade.results.store import save_record, student_dir

    out = tmp_path / "out"
    for name, when in (("ann", at(days=1.5)), ("bob", ""), ("cy", at(minutes=-5))):
        save_record(out, record(name, when))
    args = ["report", str(out), "--no-pdf", "--course", str(course)]
    assert main(args) == 0
    book = (out / "grades.csv").read_text().splitlines()
    files = {n: (student_dir(out, n) / "results.json").read_bytes() for n in ("ann", "bob", "cy")}
    assert main(args) == 0  # nothing changed: the same bytes
    assert (out / "grades.csv").read_text().splitlines() == book
    (course / "adjustments.csv").write_text("student,target,delta,comment\nbob,total,-3,missing honour statement\n")
    assert main(args) == 0
    after = (out / "grades.csv").read_text().splitlines()
    changed = [i for i, (x, y) in enumerate(zip(book, after)) if x != y]
    assert len(after) == len(book) and [after[i].split(",")[0] for i in changed] == ["bob"]
    bob = dict(zip(after[0].split(","), next(r for r in after if r.startswith("bob,")).split(",")))
    assert (bob["adjustment"], bob["total"]) == ("-3", "57")
    assert (student_dir(out, "ann") / "results.json").read_bytes() == files["ann"]
    assert (student_dir(out, "cy") / "results.json").read_bytes() == files["cy"]
    assert json.loads((student_dir(out, "bob") / "results.json").read_text())["score"] == 57
    assert "missing honour statement" in (student_dir(out, "bob") / "report.html").read_text()
    ann = dict(zip(after[0].split(","), next(r for r in after if r.startswith("ann,")).split(",")))
    assert (ann["late_days"], ann["total"]) == ("2", "48")
