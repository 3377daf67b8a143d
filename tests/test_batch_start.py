"""How a class run starts and stops its workers: which runs start a sandbox ahead, and what stopping early cancels."""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import pytest

from gradekit import COURSE
from tensorgrade.batch import LocalPool, grade_concurrently
from tensorgrade.commands.grade import sandbox_ahead
from tensorgrade.grading import Plan
from tensorgrade.results.store import RECORD
from tensorgrade.run.start import Starting


def test_stopping_early_cancels_the_students_not_yet_started():
    started, lock = [], threading.Lock()

    def grade_one(sub):
        with lock:
            started.append(sub)
        time.sleep(0.05)
        return sub

    results = grade_concurrently(grade_one, list(range(40)), workers=2)
    next(results)
    results.close()  # what Ctrl-C or an error in the caller's loop does to it
    assert len(started) <= 4, f"{len(started)} of 40 students were graded after the run was stopped"


def test_every_student_is_graded_when_nobody_stops():
    results = dict(grade_concurrently(lambda sub: sub * 2, list(range(30)), workers=2))
    assert results == {i: i * 2 for i in range(30)}


def _args(tmp_path: Path, **given) -> argparse.Namespace:
    subs = tmp_path / "subs"
    (subs / "ada").mkdir(parents=True, exist_ok=True)
    return argparse.Namespace(**{"submissions": subs, "out": tmp_path / "out", "regrade": False, "only": None,
                                 "workers": 2, **given})


def test_a_fresh_output_folder_starts_a_sandbox_ahead(tmp_path):
    assert sandbox_ahead(_args(tmp_path)) is True


def test_a_graded_class_starts_none_ahead_so_reusing_it_stays_instant(tmp_path):
    args = _args(tmp_path)
    (args.out / "ada").mkdir(parents=True)
    (args.out / "ada" / RECORD).write_text("{}")
    assert sandbox_ahead(args) is False
    assert sandbox_ahead(_args(tmp_path, regrade=True)) is True  # everything will be graded again
    assert sandbox_ahead(_args(tmp_path, only=["ada"])) is True


def test_no_sandbox_ahead_for_a_submissions_folder_that_does_not_exist_or_is_empty(tmp_path):
    assert sandbox_ahead(_args(tmp_path, submissions=tmp_path / "missing")) is False
    (tmp_path / "empty" / ".hidden").mkdir(parents=True)
    assert sandbox_ahead(_args(tmp_path, submissions=tmp_path / "empty")) is False


def test_a_sandbox_that_cannot_start_stops_the_pool_with_the_reason(tmp_path):
    starting = Starting(COURSE, 1, hide=[tmp_path / "not-created"])
    with pytest.raises(FileNotFoundError, match="not-created"):
        LocalPool(COURSE, Plan(), 1, hide=[], starting=starting)


def test_starting_a_sandbox_imports_no_torch():
    import subprocess
    import sys

    code = "import sys, tensorgrade.run.start; print(sorted(m for m in ('torch', 'otter', 'rich') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
