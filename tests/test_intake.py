"""Intake: any class folder an instructor really has becomes one submission per real student, nothing lost.

Fast (no sandbox): what discover() reads from hostile names, broken files and the LMS layouts.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from lms_fixtures import canvas_download, gradescope_export, zip_folder
from tensorgrade.intake.layouts import discover
from tensorgrade.intake.tree import LayoutError

EX = ["ex1_requires_grad", "ex2_zero_grad"]
SRC = "def make_leaf(values):\n    return values\n"


def by_student(intake):
    return {s.student: s for s in intake.submissions}


def reasons(intake):
    return {i.path: i.reason for i in intake.ignored}


# -- hostile entries fail into their own status; neighbours are read normally ----------
@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    cls = tmp_path / "class"
    (cls / "honest").mkdir(parents=True)
    (cls / "honest" / "ex1_requires_grad.py").write_text(SRC)
    (cls / "deep.ipynb").write_text('{"cells":' + "[" * 100_000 + "]" * 100_000 + "}")
    (cls / "rawu.py").write_bytes(b"# coding: raw_unicode_escape\n# \\udc80\n" + SRC.encode())
    magic = {"cells": [{"cell_type": "code", "source": "!echo \udc80\n" + SRC}]}
    (cls / "surrogate_line.ipynb").write_text(json.dumps(magic))
    bad_name = os.fsencode(str(cls)) + b"/caf\xe9"
    os.mkdir(bad_name)
    with open(bad_name + b"/ex1_requires_grad.py", "w") as fh:
        fh.write(SRC)
    os.symlink(cls / "honest", cls / "copy_of_honest")
    (cls / "notes.txt").write_text("not a submission")
    return cls


def test_hostile_entries_are_per_student_statuses(hostile):
    intake = discover(hostile, EX)
    subs = by_student(intake)
    assert subs["honest"].status == "ok" and subs["honest"].modules == {"ex1_requires_grad": "ex1_requires_grad"}
    assert subs["deep"].status == "unreadable" and "nests too deeply" in subs["deep"].detail
    assert subs["rawu"].status == "unreadable" and "not valid Unicode" in subs["rawu"].detail
    assert subs["surrogate_line"].status == "unreadable" and "not valid Unicode" in subs["surrogate_line"].detail
    assert subs["caf\\xe9"].status == "ok"  # a name that is not UTF-8 is shown, not fatal
    for sub in intake.submissions:
        sub.digest()  # never raises: every text is encodable


def test_symlinks_are_not_followed_and_stray_files_are_listed(hostile):
    intake = discover(hostile, EX)
    assert "copy_of_honest" not in by_student(intake)
    assert reasons(intake)["copy_of_honest"] == "a symbolic link: not followed"
    assert "not a submission" in reasons(intake)["notes.txt"]


def test_the_output_folder_inside_the_class_is_skipped(hostile):
    out = hostile / "out"
    (out / "honest").mkdir(parents=True)
    (out / "honest" / "record.json").write_text("{}")
    intake = discover(hostile, EX, skip=(out,))
    assert "out" not in by_student(intake)
    assert "output folder" in reasons(intake)["out/"]


def test_files_inside_a_student_folder_that_are_not_read_are_listed(tmp_path):
    (tmp_path / "c" / "bob").mkdir(parents=True)
    (tmp_path / "c" / "bob" / "ex1_requires_grad.py").write_text(SRC)
    (tmp_path / "c" / "bob" / "scratch.py").write_text("x = 1")
    intake = discover(tmp_path / "c", EX)
    assert reasons(intake)["bob/scratch.py"] == "not an exercise file"


# -- Gradescope -------------------------------------------------------------------
GS_FILES = {"submission_5001": {"ex1_requires_grad.py": SRC},
            "submission_5002": {"hw/ex1_requires_grad.py": SRC, "hw/ex2_zero_grad.py": "def zero_grad_(x):\n    pass\n"},
            "submission_9999": {"ex1_requires_grad.py": SRC}}


def check_gradescope(intake):
    assert intake.layout == "gradescope"
    subs = by_student(intake)
    assert sorted(subs) == ["1001", "1002", "1003", "1004"]  # one row per submitter, by SID
    assert (subs["1001"].name, subs["1001"].email) == ("Ada Lovelace", "ada@example.edu")
    assert subs["1001"].submitted_at == "2026-12-13T09:30:00+00:00"
    assert subs["1003"].submitted_at == "2026-12-14T18:05:12+01:00"
    assert subs["1003"].files == subs["1004"].files and set(subs["1004"].modules) == set(EX)  # the group's work
    assert any("Edsger Dijkstra" in n for n in subs["1003"].intake_notes)
    assert subs["1002"].status == "empty" and "no folder" in subs["1002"].detail  # listed, not uploaded
    assert any("submission_9999" in p and "not part of a submission" in r for p, r in reasons(intake).items())


def test_a_gradescope_export_folder(tmp_path):
    export = gradescope_export(tmp_path, GS_FILES)
    check_gradescope(discover(export, EX))
    check_gradescope(discover(tmp_path, EX))  # the folder holding the export's top folder


def test_a_gradescope_export_zip_as_given_or_in_a_folder(tmp_path):
    export = gradescope_export(tmp_path / "unpacked", GS_FILES)
    archive = zip_folder(export, tmp_path / "assignment_77_export.zip")
    check_gradescope(discover(archive, EX))
    (tmp_path / "downloads").mkdir()
    archive.rename(tmp_path / "downloads" / archive.name)
    check_gradescope(discover(tmp_path / "downloads", EX))  # not one student named after the zip


def test_a_broken_gradescope_metadata_file_is_a_layout_error(tmp_path):
    export = gradescope_export(tmp_path, {})
    (export / "submission_metadata.yml").write_text("submission_1: [unclosed")
    with pytest.raises(LayoutError, match="submission_metadata.yml: not readable YAML"):
        discover(export, EX)
    (export / "submission_metadata.yml").write_text("- just\n- a list\n")
    with pytest.raises(LayoutError, match="expected submission_<id>"):
        discover(export, EX)


# -- Canvas -----------------------------------------------------------------------
CANVAS = {
    "lovelaceada_2001_9001_ex1_requires_grad.py": "def make_leaf(values):\n    return 'old'\n",
    "lovelaceada_2001_9005_ex1_requires_grad-1.py": SRC,  # the re-upload wins
    "lovelaceada_2001_9002_ex2_zero_grad.py": "def zero_grad_(x):\n    pass\n",
    "turingalan_LATE_2002_9003_homework.py": SRC,
    "hopper grace notes.txt": "stray",
}


def test_a_canvas_download_folder(tmp_path):
    intake = discover(canvas_download(tmp_path / "canvas", CANVAS), EX)
    assert intake.layout == "canvas"
    subs = by_student(intake)
    assert sorted(subs) == ["2001", "2002"]  # grouped per Canvas user id, not one student per file
    ada = subs["2001"]
    assert set(ada.modules) == set(EX) and ada.files["ex1_requires_grad.py"] == SRC
    assert ada.name == "lovelaceada" and not ada.intake_notes
    assert subs["2002"].intake_notes == ["Canvas marked this submission LATE"]
    assert subs["2002"].modules == {"ex1_requires_grad": "submission", "ex2_zero_grad": "submission"}
    ignored = reasons(intake)
    assert "older upload of ex1_requires_grad.py" in ignored["lovelaceada_2001_9001_ex1_requires_grad.py"]
    assert "not named like a Canvas download" in ignored["hopper grace notes.txt"]


def test_a_canvas_download_zip(tmp_path):
    folder = canvas_download(tmp_path / "submissions", CANVAS)
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in folder.iterdir():
            zf.write(path, path.name)
    subs = by_student(discover(archive, EX))
    assert sorted(subs) == ["2001", "2002"] and subs["2001"].files["ex1_requires_grad.py"] == SRC


# -- the roster of submission times ---------------------------------------------------
def test_submissions_csv_gives_times_and_names(tmp_path):
    (tmp_path / "c" / "bob").mkdir(parents=True)
    (tmp_path / "c" / "bob" / "ex1_requires_grad.py").write_text(SRC)
    (tmp_path / "c" / "submissions.csv").write_text(
        "student,submitted_at,name\nbob,2026-12-16T01:00:00+01:00,Bob B\nzoe,2026-12-15T10:00:00+00:00,Zoe\n")
    intake = discover(tmp_path / "c", EX)
    bob = by_student(intake)["bob"]
    assert (bob.submitted_at, bob.name) == ("2026-12-16T01:00:00+01:00", "Bob B")
    assert "submissions.csv" not in by_student(intake)
    assert any("zoe" in p and "no submission found" in r for p, r in reasons(intake).items())


@pytest.mark.parametrize("cell, message", [
    ("2026-12-16T01:00:00", "has no time zone"),
    ("yesterday", "is not an ISO 8601 date-time"),
])
def test_a_bad_roster_time_names_the_line(tmp_path, cell, message):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "submissions.csv").write_text(f"student,submitted_at\nbob,{cell}\n")
    with pytest.raises(LayoutError, match=f"submissions.csv:2: .*{message}"):
        discover(tmp_path / "c", EX)


def test_file_times_only_when_asked(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "bob.py").write_text(SRC)
    os.utime(tmp_path / "c" / "bob.py", (1_765_000_000, 1_765_000_000))
    assert by_student(discover(tmp_path / "c", EX))["bob"].submitted_at == ""
    assert by_student(discover(tmp_path / "c", EX, time_from="mtime"))["bob"].submitted_at == "2025-12-06T05:46:40+00:00"


def test_two_entries_of_one_student_are_a_duplicate(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "bob.py").write_text(SRC)
    (tmp_path / "c" / "bob.ipynb").write_text(json.dumps({"cells": []}))
    bob = by_student(discover(tmp_path / "c", EX))["bob"]
    assert bob.status == "duplicate" and "bob.ipynb and bob.py" in bob.detail


def test_a_class_of_one_broken_zip_is_that_student_unreadable(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "bob.zip").write_bytes(b"PK\x03\x04 not really")
    bob = by_student(discover(tmp_path / "c", EX))["bob"]
    assert bob.status == "unreadable" and "not a readable zip" in bob.detail


def test_an_earlier_output_folder_in_the_class_is_not_a_student(tmp_path):
    (tmp_path / "c" / "old_out" / "bob").mkdir(parents=True)
    (tmp_path / "c" / "old_out" / "grades.csv").write_text("student\n")
    (tmp_path / "c" / "old_out" / "bob" / "record.json").write_text("{}")
    intake = discover(tmp_path / "c", EX)
    assert intake.submissions == [] and "earlier tensorgrade run" in reasons(intake)["old_out/"]


def test_check_reads_a_single_file_and_a_single_notebook(tmp_path):
    from tensorgrade.intake.layouts import read_submission

    (tmp_path / "mine.py").write_text(SRC)
    sub = read_submission(tmp_path / "mine.py", EX)
    assert sub.status == "ok" and sub.modules == {ex: "submission" for ex in EX}
    (tmp_path / "mine.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "source": SRC}]}))
    assert read_submission(tmp_path / "mine.ipynb", EX).notebooks == {"submission.py"}


def test_a_student_id_is_one_line_of_text(tmp_path):
    (tmp_path / "c" / "two\nlines").mkdir(parents=True)
    (tmp_path / "c" / "two\nlines" / "ex1_requires_grad.py").write_text(SRC)
    (tmp_path / "c" / "bell\x07.py").write_text(SRC)
    assert sorted(by_student(discover(tmp_path / "c", EX))) == ["bell\\x07", "two\\x0alines"]
