"""Outcomes: one status vocabulary, who raised (student, grader, engine), t.run, named observations.

The fixture course `tests/fixtures/outcomes/` has a custom autograd.Function exercise (student code
that runs outside `t.call`: its backward, gradcheck) and a grader with a deliberate bug
(`graders/ex_buggy.py` line 20 gives a tensor to `t.expect`). Most tests run the checks in this
process; the few marked e2e grade `tests/fixtures/outcomes_class/` in the sandbox.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch
from rich.console import Console

from tensorgrade import wire
from tensorgrade.grading import GRADER_FEEDBACK, _absorb, _Run, grader_bug
from tensorgrade.judge.verdict import judge, paired_observations
from tensorgrade.render.terminal import exercise_panel, show_check
from tensorgrade.results import status
from tensorgrade.results.model import CheckResult, ExerciseResult, StudentResult
from tensorgrade.rubric import Rubric
from tensorgrade.rubric.registry import load_rubric
from tensorgrade.rubric.trial import GraderError, Trial, origin, run_trial
from tensorgrade.run.sandbox.limits import STATUSES as SANDBOX_STATUSES
from tensorgrade.spec.course import load_course
from tensorgrade.spec.models import CheckSpec, Tolerance

FIXTURES = Path(__file__).parent / "fixtures"
COURSE = load_course(FIXTURES / "outcomes")
CLASS = FIXTURES / "outcomes_class"
SQUARE = COURSE.exercise("ex_square_plus")
BUGGY = COURSE.exercise("ex_buggy")
TOL = Tolerance(rtol=1e-6, atol=1e-6)


def module(path: Path) -> dict:
    """A student file as the child runs it: compiled under its own base name (the child's file names)."""
    ns: dict = {"__name__": path.stem}
    exec(compile(path.read_text(), path.name, "exec"), ns)
    return ns


def verdict(ex, check_id: str, student_path: Path, seed: int = 5):
    rubric = load_rubric(ex.grader, ex.id)
    check = rubric.checks[check_id]
    reference = run_trial(check, Trial(module(ex.solution), seed))
    student = run_trial(check, Trial(module(student_path), seed, student_files={student_path.name}))
    return judge(ex.spec.check(check_id), ex.spec.tolerance_for(check_id), reference, student), student


# -- the vocabulary ------------------------------------------------------------------------------
EVERY_STATUS = ("ok", "missing", "unreadable", "empty", "duplicate", "syntax", "policy", "error", "timeout", "cpu",
                "memory", "crash", "exit", "protocol", "grader", "infrastructure")


def test_every_status_has_a_text_advice_and_rules():
    assert set(status.STATUSES) == set(EVERY_STATUS)
    for name, s in status.STATUSES.items():
        assert s.label and s.whose in ("student", "course", "ours", "none"), name
        assert s.look == (name != "ok"), name  # every fault is listed under "needs a look"
        assert bool(s.advice) == (name != "ok"), name


def test_statuses_the_summary_missed_need_a_look():
    for name in ("cpu", "protocol", "syntax", "grader", "empty", "duplicate"):
        assert status.needs_a_look(name), name
    assert not status.needs_a_look("ok")


def test_every_status_the_engine_produces_is_in_the_vocabulary():
    for sandbox in SANDBOX_STATUSES:
        assert status.from_sandbox(sandbox) in status.STATUSES, sandbox
    assert status.from_sandbox("crashed") == "crash"
    assert status.from_sandbox("ok") == "exit"  # a child that ended by itself before the job was done
    for kind in wire.IMPORT_FAILURES:
        assert status.import_failure(kind, "m")[0] in status.STATUSES, kind


def test_whose_doing_each_status_is():
    assert status.whose("syntax") == status.whose("timeout") == status.whose("protocol") == "student"
    assert status.whose("grader") == "course" and status.whose("infrastructure") == "ours"
    # "error": an exercise's file raised at import (the student's); a submission's is the pool's failure (ours)
    assert status.whose("error") == "student"
    assert status.get("error", "submission").name == "infrastructure"
    assert not status.graded_normally("error", "submission") and status.graded_normally("error")
    assert not status.graded_normally("grader") and status.graded_normally("ok")


def test_a_syntax_error_reads_as_the_students_with_file_and_line():
    name, detail = status.import_failure("syntax", "SyntaxError: '(' was never closed", "ex4_higher_order.py, line 12")
    assert (name, detail) == ("syntax", "your code is not valid Python: SyntaxError: '(' was never closed "
                                        "(ex4_higher_order.py, line 12)")
    text = status.learner_text(name, detail)
    assert text.startswith("syntax error in your file: your code is not valid Python")
    assert "ex4_higher_order.py, line 12" in text and "infrastructure" not in text
    assert "py_compile" in text  # what to do


def test_stopped_texts_fill_in_the_limits():
    assert status.stopped_text("timeout", limit=2, memory=2048) == "stopped: no progress within the time limit of 2 s"
    assert status.stopped_text("memory", limit=2, memory=2048) == "stopped: ran out of memory (limit 2048 MiB)"
    assert status.stopped_text("cpu", limit=2, memory=2048) == "stopped: used up the CPU time limit"
    assert status.stopped_text("killed", limit=2, memory=1, detail="by a signal") == "stopped: by a signal"


def test_unknown_status_reads_as_itself_and_needs_a_look():
    assert status.label("weird") == "weird" and status.needs_a_look("weird")


def test_grader_bug_flags_are_not_for_the_learner():
    flags = ["refused: a.py, line 1: importing 'os'", "grader bug in graders/ex_buggy.py line 20 (check x): E: m"]
    assert status.learner_flags(flags) == ["refused: a.py, line 1: importing 'os'"]


class _Ex:
    def __init__(self, ex_id):
        self.id = ex_id


def test_absorb_files_a_syntax_error_as_syntax_not_error():
    run = _Run()
    event = wire.ImportError_("ex_buggy", "syntax", "SyntaxError: '(' was never closed", "ex_buggy.py, line 7")
    assert _absorb([event.to_json()], [(_Ex("ex_buggy"), [])], run) == (None, None)
    assert run.states["ex_buggy"] == ("syntax", "your code is not valid Python: SyntaxError: '(' was never closed "
                                                "(ex_buggy.py, line 7)")


def _panel_text(ex: ExerciseResult) -> str:
    console = Console(record=True, width=200)
    console.print(exercise_panel(ex))
    return console.export_text()


def test_check_prints_the_status_in_words_and_what_to_do():
    detail = "your code is not valid Python: SyntaxError: '(' was never closed (ex_buggy.py, line 7)"
    ex = ExerciseResult("ex_buggy", "t", [CheckResult("c", "doubled", 1, 0, "public", "v", detail)], "syntax", detail)
    text = _panel_text(ex)
    assert f"syntax error in your file: {detail}" in text
    assert "what to do: Fix the line the message names" in text
    assert "(syntax)" not in text and "infrastructure" not in text


def test_check_does_not_show_the_instructors_grader_bug_flag():
    console = Console(record=True, width=200)
    result = StudentResult("you", [], flags=["grader bug in graders/ex_buggy.py line 20 (check c): E: m",
                                             "imports ctypes"])
    show_check(console, result)
    text = console.export_text()
    assert "imports ctypes" in text and "grader bug" not in text


# -- who raised -----------------------------------------------------------------------------------
def test_an_exception_in_a_custom_backward_is_that_backwards_error():
    path = SQUARE.mistakes / "backward_raises.py"
    v, _ = verdict(SQUARE, "backward_value", path)
    assert v.problem == "SquarePlus.backward() raised ValueError: backward is broken (backward_raises.py, line 16)"
    v, _ = verdict(SQUARE, "passes_gradcheck", path)  # inside gradcheck: still the backward that raised
    assert v.problem.startswith("SquarePlus.backward() raised ValueError: backward is broken")


def test_a_backward_run_by_grader_code_without_t_run_is_still_attributed_by_its_frames():
    rubric = Rubric("ex_square_plus")

    @rubric.check("plain_backward")
    def plain_backward(t):
        x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        t.call("square_plus", x).sum().backward()  # no t.run: the traceback still names who raised
        t.expect_tensor("x.grad", x.grad)

    path = SQUARE.mistakes / "backward_raises.py"
    record = run_trial(plain_backward, Trial(module(path), 1, student_files={path.name}))
    last = record.observations[-1]
    assert (last.kind, last.function, last.where) == ("error", "SquarePlus.backward", "backward_raises.py, line 16")


def test_not_implemented_in_a_stub_class_names_the_class_method():
    v, _ = verdict(SQUARE, "forward_value", SQUARE.stub)
    assert v.problem == "SquarePlus.forward() is not implemented yet"
    assert "square_plus() is not implemented" not in v.feedback()


def test_a_grader_bug_is_found_on_the_reference_run_with_its_line():
    rubric = load_rubric(BUGGY.grader, BUGGY.id)
    reference = run_trial(rubric.checks["doubled_bug"], Trial(module(BUGGY.solution), 3))
    bug = grader_bug(BUGGY.id, "doubled_bug", reference)
    assert bug.text() == ("grader bug in graders/ex_buggy.py line 20 (check doubled_bug): GraderError: t.expect "
                          "takes a bool, int, float, str, None or a list of them; got a torch.Tensor "
                          "(use t.expect_tensor)")
    assert 'ex_buggy.py", line 20, in doubled_bug' in bug.traceback and "Traceback" in bug.traceback
    # the correct check of the same grader is no bug
    assert grader_bug(BUGGY.id, "doubled_value", run_trial(rubric.checks["doubled_value"],
                                                           Trial(module(BUGGY.solution), 3))) is None


def test_a_reference_solution_that_raises_is_a_course_bug_not_the_students():
    error = {"kind": "error", "function": "doubled", "error": "RuntimeError", "message": "broken solution",
             "where": None}
    bug = grader_bug("ex_buggy", "doubled_value", record(_returns(), error))
    assert bug.text() == ("course bug in solutions/ex_buggy.py: the reference solution fails check doubled_value: "
                          "doubled() raised RuntimeError: broken solution")
    assert status.learner_flags([bug.text()]) == []


def test_a_grader_choking_only_on_the_students_value_is_not_a_grader_bug():
    rubric = Rubric("ex_buggy")

    @rubric.check("uses_result")
    def uses_result(t):
        t.expect("first value", float(t.call("doubled", torch.ones(2))[0]))

    reference = run_trial(uses_result, Trial({"doubled": lambda x: 2 * x}, 1))
    student = run_trial(uses_result, Trial({"doubled": lambda x: torch.tensor(2.0)}, 1))  # 0-dim: [0] raises
    assert grader_bug("ex_buggy", "uses_result", reference) is None
    assert student.observations[-1].origin == "grader"
    v = judge(CheckSpec(id="uses_result", function="doubled", points=1, visibility="public", verifies="v", hint="h"),
              TOL, reference, student)
    assert v.problem.startswith("could not use what the function returned (IndexError:")


def test_the_trial_api_refuses_values_json_cannot_carry():
    t = Trial({}, 0)
    with pytest.raises(GraderError, match="use t.expect_tensor"):
        t.expect("x", torch.ones(2))
    with pytest.raises(GraderError, match="float64"):
        t.expect("x", __import__("numpy").float64(1.5))
    t.expect("shape", (2, 3))
    assert t.observations[-1].value == [2, 3]  # as JSON gives it back on the student's side
    with pytest.raises(GraderError, match="name"):
        t.expect("x", 1, name="")


def test_keyboard_interrupt_in_grader_code_is_not_swallowed():
    rubric = Rubric("ex_buggy")

    @rubric.check("interrupted")
    def interrupted(t):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_trial(interrupted, Trial({}, 0))


def test_origin_skips_library_frames():
    path = SQUARE.mistakes / "backward_raises.py"
    square = module(path)["square_plus"]
    x = torch.ones(2, dtype=torch.float64, requires_grad=True)
    try:
        square(x).sum().backward()  # raised in the student's file, through torch's engine
    except ValueError as exc:
        found = origin(exc.__traceback__, {path.name}, __file__)
    assert (found.who, found.function, found.where) == ("student", "SquarePlus.backward", "backward_raises.py, line 16")


# -- t.run: its own step ----------------------------------------------------------------------------------
def test_t_run_is_a_step_of_its_own_and_calls_inside_it_nest():
    steps = []
    t = Trial({"square_plus": module(SQUARE.solution)["square_plus"]}, 0,
              on_call=lambda label: steps.append(("enter", label)), after_call=lambda: steps.append(("leave",)))
    x = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    t.run("gradcheck", lambda: [t.call("square_plus", x, name="call") for _ in range(2)])
    assert steps == [("enter", "gradcheck"), ("enter", "square_plus()"), ("leave",), ("enter", "square_plus()"),
                     ("leave",), ("leave",)]
    assert [o.name for o in t.observations] == ["call", "call"]


def test_t_run_lets_a_bug_in_the_graders_own_code_through():
    rubric = Rubric("ex_square_plus")

    @rubric.check("bad_lambda")
    def bad_lambda(t):
        t.run("SquarePlus.backward", lambda: {}["missing"])

    last = run_trial(bad_lambda, Trial({}, 0)).observations[-1]
    assert (last.kind, last.origin, last.error) == ("broken", "grader", "KeyError")


def test_torch_complaining_inside_t_run_counts_for_the_code_that_ran():
    t = Trial({}, 0)
    x = torch.ones(2)  # does not require grad: torch raises, with no frame of ours below t.run
    with pytest.raises(Exception) as info:
        t.run("SquarePlus.backward", torch.autograd.grad, (x * 2).sum(), x)
    raised = info.value.record
    assert (raised.kind, raised.function, raised.error) == ("error", "SquarePlus.backward", "RuntimeError")


def banned_backward() -> str:
    """The solution, with a backward that builds its Jacobian with the banned torch.autograd.functional."""
    return SQUARE.solution.read_text().replace(
        "        return grad * (2 * x + 1)",
        "        return grad @ torch.autograd.functional.jacobian(lambda v: v * v + v, x.detach())")


def test_a_ban_covers_a_step_run_for_the_class_that_holds_it(tmp_path):
    from tensorgrade.rubric.ban import banned_code

    path = tmp_path / "ex_square_plus.py"
    path.write_text(banned_backward())
    rubric = Rubric("ex_square_plus")

    @rubric.check("backward_value")
    def backward_value(t):
        x = torch.tensor([0.5, 2.0], dtype=torch.float64, requires_grad=True)
        y = t.call("square_plus", x)
        (g,) = t.run("SquarePlus.backward", torch.autograd.grad, y.sum(), x, bans_of="SquarePlus")
        t.expect_tensor("the gradient", g)

    banned = {"SquarePlus": banned_code(["torch.autograd.functional"])}
    student = run_trial(backward_value, Trial(module(path), 0, banned=banned, student_files={path.name}))
    last = student.observations[-1]
    assert (last.kind, last.banned, last.function) == ("error", True, "SquarePlus.backward")
    assert last.message == "torch.autograd.functional.jacobian may not be used in SquarePlus.backward"
    reference = run_trial(backward_value, Trial(module(SQUARE.solution), 0, banned=banned))
    assert grader_bug(SQUARE.id, "backward_value", reference) is None  # the solution's backward is allowed
    v = judge(SPEC, TOL, reference, student)
    assert v.problem == ("SquarePlus.backward() used an API that is not allowed here: "
                         "torch.autograd.functional.jacobian may not be used in SquarePlus.backward")

    @rubric.check("backward_unwatched")
    def backward_unwatched(t):  # without bans_of the step is not watched (documented): the same backward passes
        x = torch.tensor([0.5, 2.0], dtype=torch.float64, requires_grad=True)
        (g,) = t.run("SquarePlus.backward", torch.autograd.grad, t.call("square_plus", x).sum(), x)
        t.expect_tensor("the gradient", g)

    records = [run_trial(backward_unwatched, Trial(module(p), 0, banned=banned, student_files={p.name}))
               for p in (SQUARE.solution, path)]
    assert judge(SPEC, TOL, *records).passed


# -- named observations ----------------------------------------------------------------------------------
def record(*observations: dict) -> wire.TrialRecord:
    """A record as a child would send it (JSON), read the way the grading process reads it."""
    return wire.TrialRecord.from_json({"observations": list(observations), "inputs": []})


def _returns(name=None):
    obs = {"kind": "fact", "what": "what square_plus() returns", "value": "tensor", "show": "a torch.Tensor",
           "role": "returns"}
    return {**obs, "name": name} if name else obs


def _passed(value: bool):
    return {"kind": "fact", "what": "passed gradcheck", "value": value, "show": "yes" if value else "no",
            "name": "passed gradcheck"}


SPEC = CheckSpec(id="passes_gradcheck", function="square_plus", points=1, visibility="public", verifies="v", hint="h")


def test_named_observations_match_by_name_whatever_the_number_of_calls():
    reference = record(*[_returns("call")] * 10, _passed(True))
    same = record(*[_returns("call")] * 9, _passed(True))
    assert judge(SPEC, TOL, reference, same).passed
    failed = record(*[_returns("call")] * 9, _passed(False))
    v = judge(SPEC, TOL, reference, failed)
    assert (v.passed, v.what, v.problem, v.expected, v.observed) == (False, "passed gradcheck", "not as expected",
                                                                      "yes", "no")


def test_a_missing_name_or_an_error_among_named_calls_is_reported():
    reference = record(*[_returns("call")] * 3, _passed(True))
    v = judge(SPEC, TOL, reference, record(*[_returns("call")] * 3))
    assert (v.what, v.problem) == ("passed gradcheck", "no observation was recorded")
    error = {"kind": "error", "function": "SquarePlus.backward", "error": "ValueError", "message": "no",
             "where": "ex.py, line 3"}
    v = judge(SPEC, TOL, reference, record(_returns("call"), error))
    assert v.problem == "SquarePlus.backward() raised ValueError: no (ex.py, line 3)"


def test_records_without_names_pair_by_position_as_before():
    ref, stu = record(_returns(), _passed(True) | {"name": None}).observations, record(_returns()).observations
    assert paired_observations(ref, stu) == [(ref[0], stu[0]), (ref[1], None)]
    reference = record(*[_returns()] * 3)
    student = record(*[_returns()] * 2, _passed(True) | {"name": None})
    v = judge(SPEC, TOL, reference, student)  # positional: a different observation at position 3
    assert v.problem == "the check took a different path than expected"


def test_gradcheck_that_fails_after_fewer_calls_reads_as_a_failed_gradcheck():
    v, student = verdict(SQUARE, "passes_gradcheck", SQUARE.mistakes / "backward_wrong.py")
    reference_calls = sum(o.name == "gradcheck call" for o in
                          run_trial(load_rubric(SQUARE.grader, SQUARE.id).checks["passes_gradcheck"],
                                    Trial(module(SQUARE.solution), 5)).observations)
    student_calls = sum(o.name == "gradcheck call" for o in student.observations)
    assert student_calls < reference_calls  # the case positional matching got wrong
    assert (v.what, v.problem, v.expected, v.observed) == ("passed gradcheck", "not as expected", "yes", "no")


def test_wire_checks_names_and_drops_tracebacks():
    sent = wire.Record("e", "c", wire.TrialRecord((wire.Broken("E", "m", "grader", traceback="File /secret"),)))
    event = wire.from_json(sent.to_json())
    assert event.record.observations[0] == wire.Broken("E", "m", "grader")  # no traceback from a child
    frame = sent.to_json()

    def forged(**observation):
        return wire.from_json(frame | {"record": {"observations": [observation], "inputs": []}})

    with pytest.raises(wire.Malformed, match="name"):
        forged(kind="fact", what="w", value=1, show="1", name=3)
    with pytest.raises(wire.Malformed, match="origin"):
        forged(kind="broken", error="E", message="m", origin="x")
    with pytest.raises(wire.Malformed, match="not_implemented"):
        forged(kind="error", function="f", error="E", message="m", not_implemented="yes")
    with pytest.raises(wire.Malformed, match="show"):
        forged(kind="fact", what="w", value=1, show=["a list"])
    with pytest.raises(wire.Malformed, match="unknown observation kind"):
        forged(kind="verdict", passed=True)


# -- in the sandbox ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def graded():
    from tensorgrade.commands.common import grader
    from tensorgrade.grading import Plan
    from tensorgrade.intake.layouts import read_submission

    out = {}
    with grader(COURSE, Plan()) as g:
        for folder in sorted(CLASS.iterdir()):
            sub = read_submission(folder, [e.id for e in COURSE.exercises])
            sub.student = folder.name
            out[folder.name] = g.grade(sub)
    return out


def _checks(result: StudentResult, ex_id: str) -> dict[str, CheckResult]:
    return {c.id: c for e in result.exercises if e.id == ex_id for c in e.checks}


def _exercise(result: StudentResult, ex_id: str) -> ExerciseResult:
    return next(e for e in result.exercises if e.id == ex_id)


@pytest.mark.e2e
def test_sandbox_grader_bug_costs_no_student_and_tells_the_instructor(graded):
    solved = graded["solved"]
    assert {c.id: c.score for c in _checks(solved, "ex_buggy").values()} == {"doubled_value": 1, "doubled_bug": 0}
    bug = _checks(solved, "ex_buggy")["doubled_bug"]
    assert bug.feedback == GRADER_FEEDBACK
    assert "Traceback" not in bug.feedback and "/" not in bug.feedback and "crashed" not in bug.feedback
    assert (_exercise(solved, "ex_buggy").status, _exercise(solved, "ex_square_plus").status) == ("grader", "ok")
    assert any(f.startswith("grader bug in graders/ex_buggy.py line 20 (check doubled_bug): GraderError")
               for f in solved.flags)
    assert solved.total == 4


@pytest.mark.e2e
def test_sandbox_backward_that_raises_or_loops_costs_only_its_checks(graded):
    raises = _checks(graded["backward_raises"], "ex_square_plus")
    assert [raises[c].score for c in ("forward_value", "backward_value", "passes_gradcheck")] == [1, 0, 0]
    assert raises["backward_value"].feedback.startswith(
        "SquarePlus.backward() raised ValueError: backward is broken (ex_square_plus.py, line 16)")
    assert "could not use" not in raises["backward_value"].feedback
    loops = _checks(graded["backward_loops"], "ex_square_plus")
    assert [loops[c].score for c in ("forward_value", "backward_value", "passes_gradcheck")] == [1, 0, 0]
    assert loops["backward_value"].feedback.startswith(
        "stopped: no progress within the time limit of 2 s while running SquarePlus.backward")
    assert "while running gradcheck" in loops["passes_gradcheck"].feedback
    assert "square_plus()" not in loops["backward_value"].feedback


@pytest.mark.e2e
def test_sandbox_stub_class_and_syntax_error(graded):
    stub = _checks(graded["stub"], "ex_square_plus")
    assert all(c.feedback.startswith("SquarePlus.forward() is not implemented yet") for c in stub.values())
    syntax = _exercise(graded["syntax_error"], "ex_buggy")
    assert syntax.status == "syntax"
    assert syntax.detail == "your code is not valid Python: SyntaxError: '(' was never closed (ex_buggy.py, line 7)"
    assert status.label(syntax.status) == "syntax error in your file"
    assert graded["syntax_error"].total == 3  # ex_square_plus is the solution


@pytest.mark.e2e
def test_validate_shows_the_whole_traceback_of_a_grader_bug(capsys, monkeypatch):
    from tensorgrade.commands import validate

    monkeypatch.setenv("COLUMNS", "250")
    code = validate.run(argparse.Namespace(course=FIXTURES / "outcomes", exercises=["ex_buggy"]))
    out = capsys.readouterr().out
    assert code == 1
    assert "grader bug in graders/ex_buggy.py line 20 (check doubled_bug): GraderError: t.expect takes" in out
    assert "Traceback (most recent call last):" in out
    assert 't.expect("doubled(x)", out)' in out  # the grader's own line, from the traceback


def test_fixture_records_are_json():
    """What the child sends must survive JSON: a record with a tensor in a fact would have crashed it."""
    rubric = load_rubric(SQUARE.grader, SQUARE.id)
    for check in rubric.checks.values():
        record = run_trial(check, Trial(module(SQUARE.solution), 2))
        assert wire.TrialRecord.from_json(json.loads(json.dumps(record.to_json())), keep_tracebacks=True) == record
