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


class _ReplayRunner:
    """A child that ran every check and saw one fact: the events a finished run sends, no sandbox."""

    def __init__(self, record):
        self.record = record

    def run(self, job, limits):
        from tensorgrade import wire
        from tensorgrade.run.sandbox import Outcome

        events = []
        for ex in job["exercises"]:
            events.append(wire.Imported(ex["id"]).to_json())
            events += [{"ev": "record", "exercise": ex["id"], "check": c["id"], "record": self.record.to_json(),
                        "output": "", "refusals": []} for c in ex["checks"]]
        return Outcome(messages=events)


class _OverlapNotingReference:
    """The expected records, slowly, noting how many students' trials ran at once."""

    def __init__(self, record):
        self.record_of, self.lock, self.inside, self.most = record, threading.Lock(), set(), 0

    def record(self, exercise, check, seed):
        with self.lock:
            self.inside.add(threading.get_ident())
            self.most = max(self.most, len(self.inside))
        time.sleep(0.002)  # a trial's length: long enough for another thread to come in
        with self.lock:
            self.inside.discard(threading.get_ident())
        return self.record_of


def test_students_graded_side_by_side_run_their_reference_one_at_a_time():
    """torch lets go of the GIL in every backward: two threads running reference trials at once hand it
    back and forth all the time (a tenth of a class's CPU), so one student's judging runs at a time."""
    from tensorgrade import wire
    from tensorgrade.grading import Grader
    from tensorgrade.intake.submission import Submission

    fact = wire.TrialRecord((wire.Fact("the answer", 1, "1"),))
    reference = _OverlapNotingReference(fact)
    modules = {ex.id: ex.id for ex in COURSE.exercises}
    subs = [Submission(f"s{i}", f"s{i}", files={f"{m}.py": "" for m in modules}, modules=modules) for i in range(6)]
    results = [r for _, r in grade_concurrently(lambda s: Grader(COURSE, _ReplayRunner(fact), reference).grade(s),
                                                 subs, 3)]
    assert len(results) == 6 and all(not isinstance(r, BaseException) and r.total == r.possible > 0
                                     for r in results), results
    assert reference.most == 1, f"{reference.most} students' reference trials ran at the same time"


@pytest.mark.parametrize("source", [
    "return torch.func.jacrev(f)(x)", "from torch import func", "import torch.func as tf",
    "fw = torch.autograd.forward_ad", 'torch.autograd.functional.jacobian(f, x, vectorize=True, strategy="forward-mode")',
])
def test_check_warms_torch_func_up_for_code_that_names_it(source):
    from tensorgrade.run.init import may_need_torch_func

    assert may_need_torch_func(["import torch\n", source])


def test_check_skips_the_torch_func_warm_up_for_code_that_does_not_name_it():
    """The solutions use torch.autograd.functional, custom Functions (`def forward`) and helpers named
    function: none of them needs torch.func, so `check` on them saves the warm-up."""
    from tensorgrade.run.init import may_need_torch_func

    solutions = [ex.solution.read_text() for ex in COURSE.exercises]
    assert not any(may_need_torch_func([text]) for text in solutions)
    assert not may_need_torch_func(["funcs = [functools.partial(f)]", "def forward(ctx, x):"])



class _FirstChildRunner(_ReplayRunner):
    """A zygote whose first child may be `lean` (forked before the zygote warmed torch.func up:
    run/child.after_first_job) and may have been refused something (there, torch's own lazy import of
    dynamo from a student's torch.func call is refused: "marshal.loads"). Later children: warm, nothing refused."""

    def __init__(self, record, *, lean_first: bool, refused_first: str | None):
        super().__init__(record)
        self.lean_first, self.refused_first, self.jobs = lean_first, refused_first, 0

    def run(self, job, limits):
        outcome = super().run(job, limits)
        self.jobs += 1
        if self.jobs == 1:
            outcome.lean = self.lean_first
            if self.refused_first:
                outcome.messages[1]["refusals"] = [{"file": "ex.py", "line": 3, "what": self.refused_first,
                                                    "kind": "event"}]
        return outcome


def _grade_one_student(runner):
    from tensorgrade import wire
    from tensorgrade.grading import Grader
    from tensorgrade.intake.submission import Submission

    modules = {ex.id: ex.id for ex in COURSE.exercises}
    sub = Submission("s", "s", files={f"{m}.py": "" for m in modules}, modules=modules)
    return Grader(COURSE, runner, _OverlapNotingReference(runner.record)).grade(sub)


def _refused(result) -> list[str]:
    return [f for f in result.flags if f.startswith("refused")]


def test_a_student_refused_something_in_a_lean_first_child_is_graded_again_in_a_warm_one():
    from tensorgrade import wire

    runner = _FirstChildRunner(wire.TrialRecord((wire.Fact("the answer", 1, "1"),)), lean_first=True,
                               refused_first="marshal.loads")
    result = _grade_one_student(runner)
    assert runner.jobs == 2, "the lean child's run was kept"
    assert _refused(result) == []  # the warm run's verdicts and flags, not the lean one's
    assert result.total == result.possible > 0


@pytest.mark.parametrize("lean_first, refused_first", [(True, None), (False, "os.system")])
def test_a_student_is_graded_once_when_the_lean_child_refused_nothing_or_the_child_was_warm(lean_first, refused_first):
    from tensorgrade import wire

    runner = _FirstChildRunner(wire.TrialRecord((wire.Fact("the answer", 1, "1"),)), lean_first=lean_first,
                               refused_first=refused_first)
    result = _grade_one_student(runner)
    assert runner.jobs == 1
    assert _refused(result) == ([f"refused: ex.py, line 3: {refused_first}"] if refused_first else [])
