"""`tensorgrade export`: final scores into the files Canvas and Gradescope import, from stored records."""

from __future__ import annotations

import csv
from pathlib import Path

from tensorgrade.cli import main
from tensorgrade.results.model import CheckResult, ExerciseResult, StudentResult
from tensorgrade.results.store import save_record
from tensorgrade.spec.course import load_course

ROOT = Path(__file__).resolve().parents[1]
ROSTER = ROOT / "tests" / "fixtures" / "canvas_roster.csv"
ENGINE = ROOT / "tests" / "fixtures" / "engine_course"  # the bundled six exercises, frozen at 60 points
COURSE = load_course(ENGINE, check_graders=False)


def record(student: str, lost: int = 0, email: str = "", name: str = "") -> StudentResult:
    """All checks passed (60 points) except the first `lost` checks of ex1 (3, 2, 2, 3 points)."""
    exercises = []
    for ex in COURSE.exercises:
        checks = [CheckResult(c.id, c.function, c.points,
                              0.0 if ex.id == "ex1_requires_grad" and i < lost else c.points,
                              c.visibility, c.verifies) for i, c in enumerate(ex.spec.checks)]
        exercises.append(ExerciseResult(ex.id, ex.spec.title, checks))
    return StudentResult(student=student, exercises=exercises, email=email, name=name)


def course_with(tmp_path: Path, adjustments: str = "") -> Path:
    dst = tmp_path / "course"
    dst.mkdir()
    for name in ("course.yml", "extensions.csv", "exercises", "solutions", "graders"):
        (dst / name).symlink_to(ENGINE / name)
    if adjustments:
        (dst / "adjustments.csv").write_text(adjustments)
    return dst


def read(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_canvas_roster_round_trip(tmp_path, capsys):
    out = tmp_path / "out"
    save_record(out, record("ada_lovelace"))                            # matched by SIS User ID
    save_record(out, record("turing", lost=1, email="ATuring@example.edu"))  # by SIS Login ID (the email)
    save_record(out, record("2003", lost=2))                            # by the Canvas ID: 60 - 3 - 2 = 55
    save_record(out, record("nobody_knows"))                            # not in the roster
    course = course_with(tmp_path, "student,target,delta,comment\nada_lovelace,total,-4,late lab sheet\n")
    upload = tmp_path / "upload.csv"
    assert main(["export", "canvas", str(out), "--roster", str(ROSTER), "-o", str(upload),
                 "--course", str(course)]) == 0
    rows = read(upload)
    column = "Homework 3: PyTorch autograd (4411)"  # the roster's own column for the course's title
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column]
    assert rows[1] == ["Points Possible", "", "", "", "", "60"]
    by_id = {r[1]: r for r in rows[2:]}
    assert by_id["2001"] == ["Lovelace, Ada", "2001", "ada_lovelace", "alovelace", "DLF 101 A", "56"]  # 60 - 4
    assert by_id["2002"][-1] == "57" and by_id["2003"][-1] == "55"
    assert by_id["2004"][-1] == ""  # no score: blank, Canvas leaves it unchanged
    said = capsys.readouterr().out
    assert "Graded but not in the roster (1): nobody_knows" in said
    assert "In the roster without a score, left blank (1): Hamilton, Margaret" in said


def test_canvas_column_option_and_bad_roster(tmp_path, capsys):
    out = tmp_path / "out"
    save_record(out, record("ada_lovelace"))
    upload = tmp_path / "upload.csv"
    assert main(["export", "canvas", str(out), "--roster", str(ROSTER), "-o", str(upload), "--column", "HW3",
                 "--course", str(ENGINE)]) == 0
    assert read(upload)[0][-1] == "HW3"
    bad = tmp_path / "bad.csv"
    bad.write_text("Name,Score\nx,1\n")
    assert main(["export", "canvas", str(out), "--roster", str(bad), "-o", str(upload), "--course", str(ENGINE)]) == 2
    assert "line 1: not a Canvas gradebook export: no column Student, ID, SIS User ID" in capsys.readouterr().err


def test_gradescope_csv(tmp_path):
    out = tmp_path / "out"
    save_record(out, record("1003", lost=4, email="grace@example.edu", name="Grace Hopper"))  # 60 - 10 = 50
    target = tmp_path / "gs.csv"
    assert main(["export", "gradescope-csv", str(out), "-o", str(target), "--course", str(ENGINE)]) == 0
    assert read(target) == [["Name", "SID", "Email", "Score"], ["Grace Hopper", "1003", "grace@example.edu", "50"]]
