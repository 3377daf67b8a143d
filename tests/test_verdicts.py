"""Verdicts of the bundled course's checks against the API (../shared/exercise-api.md).

Each test grades a small implementation in this process (the grader's checks on the
reference solution and on the implementation, same seeds, judged as in grading):
correct idioms must earn full credit, the central mistake of each exercise must fail
a public check, and hints must point at the API rather than dictate the code.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import torch

from gradekit import COURSE, ROOT, mistake
from tensorgrade import seeds
from tensorgrade.judge.verdict import Verdict, judge
from tensorgrade.otter.expected import public_grader_source
from tensorgrade.rubric.ban import banned_code
from tensorgrade.rubric.registry import load_rubric
from tensorgrade.rubric.trial import Trial, run_trial

IDIOMS = ROOT / "graders" / "idioms"
STUDENTS = ("verdicts-1", "verdicts-2")


def functions_of(path: Path) -> dict:
    spec = importlib.util.spec_from_file_location(f"verdicts_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


def grade(exercise: str, functions: dict, student: str = STUDENTS[0]) -> dict[str, Verdict]:
    """{check id: verdict} for `functions` on every check of `exercise`, seeded as in grading."""
    ex = COURSE.exercise(exercise)
    rubric = load_rubric(ex.grader, ex.id)
    reference = functions_of(ex.solution)
    bans = {f.name: banned_code(f.banned) for f in ex.spec.functions if f.banned}
    verdicts = {}
    for check in ex.spec.checks:
        seed = seeds.check_seed(COURSE.spec.grading.seed, student, ex.id, check.id)
        ref = run_trial(rubric.checks[check.id], Trial(reference, seed, banned=bans))
        stu = run_trial(rubric.checks[check.id], Trial(functions, seed, banned=bans))
        verdicts[check.id] = judge(check, ex.spec.tolerance_for(check.id), ref, stu)
    return verdicts


def failed(verdicts: dict[str, Verdict]) -> set[str]:
    return {c for c, v in verdicts.items() if not v.passed}


def public(exercise: str) -> set[str]:
    return {c.id for c in COURSE.exercise(exercise).spec.checks if c.visibility == "public"}


def with_function(exercise: str, **replaced) -> dict:
    return {**functions_of(COURSE.exercise(exercise).solution), **replaced}


# -- demands the API does not make -------------------------------------------------------------------


def test_gradient_returning_a_copy_of_x_grad_earns_full_credit():
    def gradient(f, x):
        f(x).backward()
        return x.grad.clone()

    for student in STUDENTS:
        assert failed(grade("ex1_requires_grad", with_function("ex1_requires_grad", gradient=gradient), student)) == set()


def test_gradient_left_out_of_x_grad_fails_the_public_check_on_x_grad():
    verdicts = grade("ex1_requires_grad", functions_of(mistake("ex1_requires_grad", "autograd_grad_instead_of_backward")))
    v = verdicts["gradient_in_x_grad"]
    assert "gradient_in_x_grad" in public("ex1_requires_grad")
    assert not v.passed and v.what == "x.grad after gradient(f, x)"
    assert v.problem == "expected a tensor" and v.observed == "None"
    assert verdicts["gradient_value"].passed  # the returned values are right


def test_clearing_after_each_update_is_clearing_before_each_backward_pass():
    def descend(f, x, lr, steps):
        for _ in range(steps):
            f(x).backward()
            with torch.no_grad():
                x -= lr * x.grad
            x.grad = None  # cleared before the next pass; nothing is left at the end
        return x

    assert failed(grade("ex2_zero_grad", with_function("ex2_zero_grad", descend=descend))) == set()


def test_descent_that_never_clears_still_fails_both_descend_checks():
    verdicts = grade("ex2_zero_grad", functions_of(mistake("ex2_zero_grad", "descend_without_clearing")))
    assert failed(verdicts) == {"descend_steps", "descend_clears_grad"}
    assert verdicts["descend_clears_grad"].what == "x after the descent steps"


def test_a_float32_jacobian_is_judged_by_its_values_where_no_dtype_is_asked():
    def jacobian(f, x):
        y = f(x)
        out = torch.zeros(y.shape[0], x.shape[0])  # float32 by default; x is float64
        for i in range(y.shape[0]):
            out[i] = torch.autograd.grad(y[i], x, retain_graph=True)[0]
        return out

    verdicts = grade("ex6_jacobian_hessian", with_function("ex6_jacobian_hessian", jacobian=jacobian))
    assert failed(verdicts) == set()


def test_a_float32_jacobian_of_wrong_values_fails_and_mentions_the_dtype():
    def jacobian(f, x):
        return torch.zeros(f(x).shape[0], x.shape[0])

    v = grade("ex6_jacobian_hessian", with_function("ex6_jacobian_hessian", jacobian=jacobian))["jacobian_nonsquare"]
    assert not v.passed and v.problem == "values differ"
    assert v.details[-1] == "The dtype differs too: expected float64, observed float32"


def test_make_leaf_is_where_the_api_asks_for_a_dtype():
    v = grade("ex1_requires_grad", functions_of(mistake("ex1_requires_grad", "float64_leaf")))["make_leaf_is_leaf"]
    assert not v.passed and v.problem == "expected dtype float32, observed float64"


def test_scale_untracked_is_not_judged_on_x_grad():
    def scale_untracked(x, factor):
        x.sum().backward()  # odd, but the API says nothing of x.grad here
        return (x * factor).detach()

    verdicts = grade("ex3_stop_gradients", with_function("ex3_stop_gradients", scale_untracked=scale_untracked))
    assert failed(verdicts) == set()


def test_vjp_must_leave_the_very_tensor_in_x_grad():
    """'leaving x.grad untouched': restoring a copy after backward() changed the original is touching it."""
    def vjp(f, x, v):
        saved = None if x.grad is None else x.grad.clone()
        f(x).backward(v)
        out = x.grad.clone()
        x.grad = saved
        return out

    v = grade("ex5_autograd_grad", with_function("ex5_autograd_grad", vjp=vjp))["vjp_grad_untouched"]
    assert not v.passed and v.what == "x.grad is the same tensor as before"


# -- every exercise's central idea is public ---------------------------------------------------------------

CENTRAL_MISTAKES = [
    ("ex1_requires_grad", "no_requires_grad"),
    ("ex1_requires_grad", "autograd_grad_instead_of_backward"),
    ("ex2_zero_grad", "accumulate_zeroes_between"),
    ("ex2_zero_grad", "zero_by_new_tensor"),
    ("ex2_zero_grad", "descend_without_clearing"),
    ("ex3_stop_gradients", "scale_tracked"),
    ("ex3_stop_gradients", "detach_by_clone"),
    ("ex3_stop_gradients", "frozen_without_detach"),
    ("ex4_higher_order", "grad_without_create_graph"),
    ("ex4_higher_order", "grad_via_backward_without_create_graph"),
    ("ex4_higher_order", "hessian_row_without_create_graph"),
    ("ex4_higher_order", "nth_derivative_without_create_graph"),
    ("ex5_autograd_grad", "vjp_ignores_v"),
    ("ex5_autograd_grad", "grads_via_backward"),
    ("ex6_jacobian_hessian", "jacobian_transposed"),
    ("ex6_jacobian_hessian", "hessian_gradient_without_create_graph"),
    ("ex6_jacobian_hessian", "by_rows_uses_functional"),
]


@pytest.mark.parametrize("exercise, name", CENTRAL_MISTAKES)
def test_the_central_mistake_of_each_function_fails_a_public_check(exercise, name):
    assert failed(grade(exercise, functions_of(mistake(exercise, name)))) & public(exercise)


def test_grad_with_graph_without_create_graph_fails_publicly_on_the_graph():
    verdicts = grade("ex4_higher_order", functions_of(mistake("ex4_higher_order", "grad_without_create_graph")))
    v = verdicts["grad_with_graph_differentiable"]
    assert "grad_with_graph_differentiable" in public("ex4_higher_order")
    assert not v.passed and v.what == "the gradient has a grad_fn (it belongs to a graph)"
    assert (v.expected, v.observed) == ("yes", "no")
    assert "create_graph" in v.hint


@pytest.mark.bundled
def test_every_exercise_has_public_and_hidden_checks_for_each_function():
    for ex in COURSE.exercises:
        for fn in ex.spec.functions:
            kinds = {c.visibility for c in ex.spec.checks if c.function == fn.name}
            assert kinds == {"public", "hidden"}, (ex.id, fn.name)


def test_the_public_graders_mention_no_hidden_check():
    for ex in COURSE.exercises:
        hidden = {c.id for c in ex.spec.checks if c.visibility == "hidden"}
        public_grader_source(ex.grader.read_text(), hidden, str(ex.grader))  # raises if a hidden id leaks


# -- idioms --------------------------------------------------------------------------------------------------


def idiom_files() -> list[Path]:
    return sorted(IDIOMS.glob("*/*.py"))


def test_every_exercise_ships_an_idiom():
    assert {p.parent.name for p in idiom_files()} == {e.id for e in COURSE.exercises}


@pytest.mark.parametrize("path", idiom_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_idioms_earn_full_credit(path):
    for student in STUDENTS:
        verdicts = grade(path.parent.name, functions_of(path), student)
        assert failed(verdicts) == set(), {c: v.feedback() for c, v in verdicts.items() if not v.passed}


# -- hints teach -------------------------------------------------------------------------------------------

# what a dictated line of code looks like: a call with keyword arguments, an index into a call's result,
# an augmented assignment, a method called on a parenthesised expression
CODE = re.compile(r"\w\([^()]*\b\w+=|\)\[\d+\]|\w [-+*/]= |\)\.\w+\(")


def hints_of_the_course() -> list[tuple[str, str]]:
    found = []
    for ex in COURSE.exercises:
        rubric = load_rubric(ex.grader, ex.id)
        reference = functions_of(ex.solution)
        for check in ex.spec.checks:
            found.append((f"{ex.id}.yml {check.id}", check.hint))
            record = run_trial(rubric.checks[check.id], Trial(reference, 0))
            found += [(f"graders/{ex.id}.py {check.id}: {o.what}", o.hint)
                      for o in record.observations if o.hint]
    return found


def test_hints_point_at_the_api_and_never_dictate_the_code():
    dictated = [(where, hint) for where, hint in hints_of_the_course() if CODE.search(hint)]
    assert dictated == []


@pytest.mark.parametrize("line", ["torch.tensor(values, dtype=torch.float32, requires_grad=True)",
                                  "torch.autograd.grad(f(x), x, create_graph=True)[0]",
                                  "x -= lr * x.grad", "(x.detach() * w).sum()"])
def test_the_dictation_pattern_catches_the_old_hints(line):
    assert CODE.search(f"Use {line} here.")
