"""Text from submissions shown safely: no spreadsheet formulas in grades.csv, no terminal control from ids or output."""

from __future__ import annotations

import csv
import io

import pytest

from tensorgrade.results.gradebook import render_csv
from tensorgrade.results.model import CheckResult, ExerciseResult, StudentResult
from tensorgrade.results.text import csv_cell, printable
from tensorgrade.spec.course import load_course
from gradekit import ROOT

COURSE = load_course(ROOT)


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_starts_are_neutralised(text):
    cell = csv_cell(text)
    assert cell.startswith("'") and not cell[1:].startswith(("\t", "\r")) or cell.startswith("'")
    assert cell[0] not in "=+-@"


@pytest.mark.parametrize("text, shown", [
    ("alice\x1b[2J\x1b[Hbob", "alicebob"),  # clear screen, cursor home
    ("\x1b]0;pwned\x07name", "name"),  # set the terminal title
    ("a\x00b\x08c\x7fd\x85e", "abcde"),
    ("x\x9b2Jy", "xy"),  # the one-byte CSI is a sequence too
    ("line one\nline two\tend", "line one\nline two\tend"),
    ("lone \udc80 surrogate", "lone ? surrogate"),
])
def test_control_characters_and_escape_sequences_are_dropped(text, shown):
    assert printable(text) == shown


def _result(student: str, status: str = "ok", flags=()) -> StudentResult:
    exercises = [ExerciseResult(id=e.id, title=e.spec.title, checks=[
        CheckResult(id=c.id, function=c.function, points=c.points, score=0.0, visibility=c.visibility,
                    verifies=c.verifies) for c in e.spec.checks]) for e in COURSE.exercises]
    return StudentResult(student=student, exercises=exercises, status=status, detail="=cmd|' /C calc'!A0",
                         flags=list(flags))


def test_no_gradebook_cell_from_a_submission_starts_a_formula_or_holds_a_control_character():
    results = [_result('=HYPERLINK("http://evil","x")'), _result("\x1b[31mred\x1b[0m", flags=["+SUM(1)"]),
               _result("plain", status="unreadable")]
    rows = list(csv.reader(io.StringIO(render_csv(results, COURSE))))
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell
            assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in cell), cell
    assert {r[0] for r in rows[1:]} == {"'=HYPERLINK(\"http://evil\",\"x\")", "red", "plain"}
