"""Intake end to end: hostile class folders and real LMS exports, graded by `run_batch` in the sandbox.

One student can never stop the class or change a neighbour's grade; an export is graded one row per
real student, with the LMS's ids, names and times in the gradebook.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import pytest

from gradekit import COURSE, EXERCISES, read_gradebook, solution, write_folder
from lms_fixtures import canvas_download, gradescope_export, zip_folder
from tensorgrade.batch import run_batch

FORMULA = re.compile(r"^[=+\-@\t\r]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
EX1 = solution("ex1_requires_grad")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("hostile")
    cls = root / "class"
    write_folder(cls / "honest")
    write_folder(cls / "grades.csv")  # OUT's own file name
    write_folder(cls / "Jane Doe")
    write_folder(cls / "Jane_Doe~0123456789ab")  # looks like a hashed folder name
    bad = os.fsencode(str(cls)) + b"/caf\xe9"
    os.mkdir(bad)
    with open(bad + b"/ex1_requires_grad.py", "w") as fh:
        fh.write(EX1)
    (cls / "surrogate.py").write_text(EX1 + "\nraise ValueError('\\udc80 boom')\n")
    (cls / "deep.ipynb").write_text('{"cells":' + "[" * 100_000 + "]" * 100_000 + "}")
    (cls / "rawu.py").write_bytes(b"# coding: raw_unicode_escape\n# \\udc80\n" + EX1.encode())
    (cls / "markup[bold red].py").write_text(EX1 + "\nraise ValueError('[/]oops[red]')\n")
    (cls / "=HYPERLINK(1).py").write_text(EX1)
    (cls / "\x1b[2Jclear.py").write_text(EX1)
    os.symlink(cls / "honest", cls / "copy_of_honest")
    out = cls / "out"  # inside the class folder
    run_batch(COURSE, cls, out, workers=2, pdf=False)
    again = run_batch(COURSE, cls, out, workers=2, pdf=False)  # now OUT exists inside the class folder
    assert (again.graded, again.reused) == (0, 11)
    return cls, out


def test_every_hostile_entry_is_its_own_status_and_neighbours_are_graded(hostile):
    _, out = hostile
    _, rows = read_gradebook(out / "grades.csv")
    assert float(rows["honest"]["total"]) == COURSE.points
    assert float(rows["Jane Doe"]["total"]) == float(rows["Jane_Doe~0123456789ab"]["total"]) == COURSE.points
    assert float(rows["grades.csv"]["total"]) == COURSE.points
    assert rows["deep"]["status"].startswith("unreadable") and "nests too deeply" in rows["deep"]["status"]
    assert rows["rawu"]["status"].startswith("unreadable")
    ex1 = COURSE.exercise("ex1_requires_grad").spec.points
    assert float(rows["caf\\xe9"]["ex1_requires_grad"]) == ex1
    for name in ("surrogate", "markup[bold red]"):  # raising at import: an error in each exercise, nothing more
        assert rows[name]["status"].startswith("error in ex1_requires_grad"), rows[name]
    assert "copy_of_honest" not in rows and "out" not in rows


def test_two_ids_never_share_an_output_folder(hostile):
    _, out = hostile
    records = [json.loads(p.read_text())["student"] for p in out.glob("*/record.json")]
    _, rows = read_gradebook(out / "grades.csv")
    assert len(records) == len(set(records)) == len(rows) == 11  # every entry but the link and OUT itself


def test_no_cell_is_a_formula_and_no_control_character_reaches_the_gradebook(hostile):
    _, out = hostile
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert not [c for c in cells if FORMULA.match(c)]
    assert not [c for c in cells if CONTROL.search(c)]
    assert "'=HYPERLINK(1)" in cells and "\\x1b[2Jclear" in cells  # the escape character shown, not sent


def test_what_was_not_graded_is_listed_in_intake_csv(hostile):
    _, out = hostile
    with open(out / "intake.csv", newline="", encoding="utf-8") as fh:
        rows = {r["path"]: r["reason"] for r in csv.DictReader(fh)}
    assert rows["copy_of_honest"] == "a symbolic link: not followed"
    assert "output folder" in rows["out/"]


def test_a_gradescope_export_zip_is_graded_one_row_per_submitter(tmp_path):
    files = {"submission_5001": {f"{ex}.py": solution(ex) for ex in EXERCISES},
             "submission_5002": {"ex1_requires_grad.py": EX1}}
    archive = zip_folder(gradescope_export(tmp_path / "gs", files), tmp_path / "assignment_77_export.zip")
    out = tmp_path / "out"
    report = run_batch(COURSE, archive, out, workers=2, pdf=False)
    assert report.intake.layout == "gradescope"
    header, rows = read_gradebook(out / "grades.csv")
    assert sorted(rows) == ["1001", "1002", "1003", "1004"]
    assert float(rows["1001"]["total"]) == COURSE.points
    ex1 = COURSE.exercise("ex1_requires_grad").spec.points
    assert float(rows["1003"]["total"]) == float(rows["1004"]["total"]) == ex1  # the group shares one grade
    assert rows["1002"]["status"].startswith("empty")
    assert (rows["1001"]["name"], rows["1001"]["email"]) == ("Ada Lovelace", "ada@example.edu")
    assert rows["1003"]["submitted_at"] == "2026-12-14T18:05:12+01:00"


def test_a_canvas_download_is_graded_per_canvas_user(tmp_path):
    files = {f"lovelaceada_2001_{9000 + i}_{ex}.py": solution(ex) for i, ex in enumerate(EXERCISES)}
    files["turingalan_LATE_2002_9100_hw3.py"] = EX1
    out = tmp_path / "out"
    run_batch(COURSE, canvas_download(tmp_path / "canvas", files), out, workers=2, pdf=False)
    _, rows = read_gradebook(out / "grades.csv")
    assert sorted(rows) == ["2001", "2002"]
    assert float(rows["2001"]["total"]) == COURSE.points
    assert float(rows["2002"]["ex1_requires_grad"]) == COURSE.exercise("ex1_requires_grad").spec.points


def test_a_report_that_cannot_be_written_costs_only_that_student(tmp_path, monkeypatch):
    import tensorgrade.render.report as report_module

    real = report_module.write_student_report

    def flaky(out, result, course, **kw):
        if result.student == "bob":
            raise OSError("disk says no")
        return real(out, result, course, **kw)

    monkeypatch.setattr(report_module, "write_student_report", flaky)
    write_folder(tmp_path / "class" / "alice")
    write_folder(tmp_path / "class" / "bob")
    out = tmp_path / "out"
    report = run_batch(COURSE, tmp_path / "class", out, workers=2, pdf=False)
    assert report.infrastructure_failures == 1
    _, rows = read_gradebook(out / "grades.csv")
    assert float(rows["alice"]["total"]) == COURSE.points
    assert rows["bob"]["status"].startswith("infrastructure: grading infrastructure failed: WriteFailed")
    assert "disk says no" in rows["bob"]["status"]
    assert not (out / "bob" / "record.json").exists()  # nothing stored: the next run grades bob again
    monkeypatch.setattr(report_module, "write_student_report", real)
    again = run_batch(COURSE, tmp_path / "class", out, workers=2, pdf=False)
    assert (again.graded, again.reused, again.infrastructure_failures) == (1, 1, 0)


def test_the_command_line_survives_the_hostile_class(hostile, tmp_path):
    """Markup, escape sequences and formulas in ids and messages: exit 0, the terminal gets plain text."""
    import subprocess
    import sys

    cls, _ = hostile
    proc = subprocess.run([sys.executable, "-m", "tensorgrade.cli", "grade", str(cls), "-o", str(tmp_path / "out"),
                           "--no-pdf", "--workers", "2"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "\x1b" not in proc.stdout and "MarkupError" not in proc.stderr
    assert "Read 11 student(s) from a folders layout" in proc.stdout
    assert "Not graded (" in proc.stdout and "intake.csv" in proc.stdout


def test_without_typst_grade_writes_html_reports_and_keeps_every_record(tmp_path, monkeypatch, capsys):
    import tensorgrade.render.typst as typst_module
    from tensorgrade.cli import main

    monkeypatch.setattr(typst_module, "available", lambda: False)
    write_folder(tmp_path / "class" / "alice")
    out = tmp_path / "out"
    assert main(["grade", str(tmp_path / "class"), "-o", str(out), "--workers", "1"]) == 0
    assert "typst package is not installed" in capsys.readouterr().out
    assert (out / "alice" / "report.html").exists() and not (out / "alice" / "report.pdf").exists()
    assert (out / "alice" / "record.json").exists()  # stored: the next run reuses it
