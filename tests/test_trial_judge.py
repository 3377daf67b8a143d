"""rubric.trial (Trial, run_trial), judge.verdict.judge and rubric.ban.

Checks are written here the way graders write them; they run on a hand-made
"reference" and on "student" variants, and the two records are judged.
"""

from __future__ import annotations

import builtins
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from tensorgrade.judge.compare import compare_tensors
from tensorgrade.judge.verdict import ReferenceFailed, Verdict, judge
from tensorgrade.rubric.encode import encode
from tensorgrade.rubric import Rubric, Trial, facts
from tensorgrade.rubric.ban import banned_code
from tensorgrade.rubric.trial import run_trial
from tensorgrade.spec.models import CheckSpec, Tolerance
from tensorgrade.wire import TrialRecord

THIS_FILE = __file__
TOL = Tolerance(rtol=1e-5, atol=1e-5)

rubric = Rubric("ex_test")


@rubric.check("zero_in_place")
def zero_in_place(t):
    x = t.given("x", torch.tensor([1.0, -2.0, 3.0], requires_grad=True))
    (x ** 2).sum().backward()
    before = facts.grad_of(x)
    t.call("zero_grad_", x)
    after = facts.grad_of(x)
    t.expect("x.grad is still the same tensor object", after is before,
             hint="clear it in place with x.grad.zero_()")
    t.expect_tensor("x.grad after zero_grad_(x)", after)


@rubric.check("frozen")
def frozen(t):
    x = t.given("x", torch.tensor([0.5, -1.5], requires_grad=True))
    k = t.given("k", 3.0)
    out = t.call("scale_frozen", x, k)
    t.expect_connection("the result is cut from x's graph", out, x, hint="use detach() or torch.no_grad()")
    t.expect_tensor("the returned values", out)
    t.expect("requires grad", facts.requires_grad(out))


@rubric.check("gradient_sum")
def gradient_sum(t):
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    g = t.call("grad_of_square_sum", x)
    t.expect_tensor("the gradient", g)
    t.expect("the gradient has 3 elements", int(g.numel()))  # uses the result: may break on a list


def _check(check_id, function, hint="the check's hint from the YAML"):
    return CheckSpec(id=check_id, function=function, points=1, visibility="public",
                     verifies="what it verifies", hint=hint)


SPECS = {
    "zero_in_place": _check("zero_in_place", "zero_grad_"),
    "frozen": _check("frozen", "scale_frozen"),
    "gradient_sum": _check("gradient_sum", "grad_of_square_sum"),
}


# reference implementations -----------------------------------------------------------


def ref_zero_grad_(x):
    if x.grad is not None:
        x.grad.zero_()


def ref_scale_frozen(x, k):
    return (x * k).detach()


def ref_grad_of_square_sum(x):
    (x ** 2).sum().backward()
    return x.grad


REFERENCE = {"zero_grad_": ref_zero_grad_, "scale_frozen": ref_scale_frozen,
             "grad_of_square_sum": ref_grad_of_square_sum}


def grade(check_id, student_functions, **trial_kwargs) -> Verdict:
    check = rubric.checks[check_id]
    reference = run_trial(check, Trial(REFERENCE, seed=7))
    student = run_trial(check, Trial(student_functions, seed=7, student_files={THIS_FILE}, **trial_kwargs))
    return judge(SPECS[check_id], TOL, reference, student)


# equivalent idioms pass ----------------------------------------------------------------


def test_reference_passes_against_itself():
    for check_id in rubric.checks:
        assert grade(check_id, REFERENCE).passed, check_id


def test_zeroing_with_fill_passes():
    def zero_grad_(x):
        x.grad.fill_(0)

    v = grade("zero_in_place", {"zero_grad_": zero_grad_})
    assert v.passed
    assert v.feedback() == ""


def test_zeroing_with_mul_in_place_passes():
    def zero_grad_(x):
        x.grad.mul_(0.0)

    assert grade("zero_in_place", {"zero_grad_": zero_grad_}).passed


def test_product_under_no_grad_passes_like_detach():
    def scale_frozen(x, k):
        with torch.no_grad():
            return x * k

    assert grade("frozen", {"scale_frozen": scale_frozen}).passed


# wrong answers fail with expected / observed / hint --------------------------------------------


def test_setting_grad_to_none_fails_with_expected_observed_hint():
    def zero_grad_(x):
        x.grad = None

    v = grade("zero_in_place", {"zero_grad_": zero_grad_})
    assert not v.passed
    assert v.what == "x.grad is still the same tensor object"
    assert v.expected == "yes" and v.observed == "no"
    assert v.hint == "clear it in place with x.grad.zero_()"
    text = v.feedback()
    assert "expected: yes" in text and "observed: no" in text and "hint: clear it in place" in text
    assert "inputs: x = tensor([1, -2, 3])" in text


def test_new_zero_tensor_fails_on_identity():
    def zero_grad_(x):
        x.grad = torch.zeros_like(x.grad)

    v = grade("zero_in_place", {"zero_grad_": zero_grad_})
    assert not v.passed and v.what == "x.grad is still the same tensor object"


def test_tracked_product_fails_on_connection_and_shows_path():
    def scale_frozen(x, k):
        return x * k

    v = grade("frozen", {"scale_frozen": scale_frozen})
    assert not v.passed
    assert v.what == "the result is cut from x's graph"
    assert v.expected == "not connected"
    assert v.observed == "connected: MulBackward0 → AccumulateGrad"
    assert v.hint == "use detach() or torch.no_grad()"


def test_wrong_values_fail_with_details():
    def scale_frozen(x, k):
        return (x * (k + 1)).detach()

    v = grade("frozen", {"scale_frozen": scale_frozen})
    assert not v.passed
    assert v.what == "the returned values" and v.problem == "values differ"
    assert v.details[0] == "Mismatched elements: 2 / 2 (100.0%)"
    assert v.hint == "the check's hint from the YAML"  # no per-observation hint: the YAML hint
    text = v.feedback()
    for label in ("expected:", "observed:", "hint:"):
        assert label in text


# student errors -------------------------------------------------------------------------


def test_student_value_error_names_function_error_and_line():
    def zero_grad_(x):
        raise ValueError("grad is weird")

    line = zero_grad_.__code__.co_firstlineno + 1
    v = grade("zero_in_place", {"zero_grad_": zero_grad_})
    assert not v.passed
    assert v.problem == f"zero_grad_() raised ValueError: grad is weird (test_trial_judge.py, line {line})"
    assert v.hint == "the check's hint from the YAML"
    assert "inputs: x =" in v.feedback()


def test_error_line_is_the_innermost_student_line():
    def helper(x):
        return x.grad.nonexistent_method()

    def zero_grad_(x):
        return helper(x)

    line = helper.__code__.co_firstlineno + 1
    v = grade("zero_in_place", {"zero_grad_": zero_grad_})
    assert "raised AttributeError" in v.problem
    assert v.problem.endswith(f"(test_trial_judge.py, line {line})")


def test_not_implemented_stub():
    def zero_grad_(x):
        raise NotImplementedError("zero_grad_: not implemented yet")

    v = grade("zero_in_place", {"zero_grad_": zero_grad_})
    assert not v.passed
    assert v.problem == "zero_grad_() is not implemented yet"
    assert "NotImplementedError" in v.hint


def test_missing_function():
    v = grade("zero_in_place", {})
    assert not v.passed
    assert v.problem == "zero_grad_() is not defined in your code"


def test_system_exit_in_student_function_is_contained():
    def zero_grad_(x):
        sys.exit(3)

    v = grade("zero_in_place", {"zero_grad_": zero_grad_})
    assert not v.passed
    assert v.problem.startswith("zero_grad_() raised SystemExit: 3")


def test_keyboard_interrupt_in_student_function_is_contained():
    def zero_grad_(x):
        raise KeyboardInterrupt

    v = grade("zero_in_place", {"zero_grad_": zero_grad_})
    assert not v.passed and "KeyboardInterrupt" in v.problem


def test_exception_with_hostile_str_is_contained():
    class Nasty(Exception):
        def __str__(self):
            raise SystemExit("from __str__")

    def zero_grad_(x):
        raise Nasty()

    record = run_trial(rubric.checks["zero_in_place"], Trial({"zero_grad_": zero_grad_}, seed=7))
    assert record.observations[-1].kind in ("error", "broken")


def test_list_instead_of_tensor_is_a_clear_verdict():
    def grad_of_square_sum(x):
        (x ** 2).sum().backward()
        return x.grad.tolist()

    v = grade("gradient_sum", {"grad_of_square_sum": grad_of_square_sum})
    assert not v.passed
    # every call first records the kind of value returned: one wording for all wrong types
    assert v.what == "what grad_of_square_sum() returns"
    assert v.problem == "expected a torch.Tensor, got a tuple (or list)"


def test_tensor_comparison_of_a_list_says_expected_a_tensor():
    exp = encode(torch.tensor([2.0, 4.0, 6.0]))
    m = compare_tensors(exp, encode([2.0, 4.0, 6.0]), TOL)
    assert m.problem == "expected a tensor"
    assert m.observed == "a list of length 3"
    assert "tensor(" in m.expected


def test_rubric_choking_on_student_result_is_broken_not_a_crash():
    rb = Rubric("ex_test")

    @rb.check("uses_result")
    def uses_result(t):
        g = t.call("grad_of_square_sum", torch.tensor([1.0, 2.0], requires_grad=True))
        t.expect("sum of the gradient", float(g.sum()))

    spec = _check("uses_result", "grad_of_square_sum")
    ref = run_trial(rb.checks["uses_result"], Trial(REFERENCE, seed=1))
    stu = run_trial(rb.checks["uses_result"],
                    Trial({"grad_of_square_sum": lambda x: torch.tensor([1 + 2j, 3j])}, seed=1))
    # a tensor, as asked; but float() of its complex sum raises inside the rubric
    assert stu.observations[-1].kind == "broken", stu.observations
    v = judge(spec, TOL, ref, stu)
    assert not v.passed
    assert v.problem.startswith("could not use what the function returned")


def test_reference_that_fails_raises_reference_failed():
    broken_reference = dict(REFERENCE, zero_grad_=lambda x: x.grad.no_such_thing())
    ref = run_trial(rubric.checks["zero_in_place"], Trial(broken_reference, seed=7))
    stu = run_trial(rubric.checks["zero_in_place"], Trial(REFERENCE, seed=7))
    with pytest.raises(ReferenceFailed, match="zero_in_place"):
        judge(SPECS["zero_in_place"], TOL, ref, stu)


def test_no_student_record_fails_with_the_stop_reason():
    ref = run_trial(rubric.checks["zero_in_place"], Trial(REFERENCE, seed=7))
    v = judge(SPECS["zero_in_place"], TOL, ref, None, stopped="time limit exceeded (5 s)")
    assert not v.passed
    assert v.problem == "time limit exceeded (5 s)"
    assert "time limit exceeded (5 s)" in v.feedback()


def test_no_student_record_without_reason_still_fails():
    ref = run_trial(rubric.checks["zero_in_place"], Trial(REFERENCE, seed=7))
    v = judge(SPECS["zero_in_place"], TOL, ref, None)
    assert not v.passed and v.problem


def test_run_trial_records_inputs_and_observations():
    record = run_trial(rubric.checks["frozen"], Trial(REFERENCE, seed=7))
    assert [name for name, _ in record.inputs] == ["x", "k"]
    # the call's return kind first, then what the check records
    assert [o.kind for o in record.observations] == ["fact", "fact", "tensor", "fact"]
    assert record.observations[0].role == "returns"
    assert record.observations[2].value["data"] == [1.5, -4.5]


def test_rubric_rejects_duplicate_check_ids():
    rb = Rubric("ex_dup")
    rb.check("a")(lambda t: None)
    with pytest.raises(ValueError, match="defined twice"):
        rb.check("a")(lambda t: None)


# the ban --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jacobian_ban():
    return {"jacobian_rows": banned_code(["torch.autograd.functional", "torch.func"])}


def f_vec(x):
    return torch.stack([x[0] * x[1], torch.sin(x[2]), (x ** 2).sum()])


rb_jac = Rubric("ex_jac")


@rb_jac.check("jacobian")
def jacobian_check(t):
    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    t.expect_tensor("the Jacobian", t.call("jacobian_rows", f_vec, x))


JAC_SPEC = _check("jacobian", "jacobian_rows")


def ref_jacobian_rows(f, x):
    y = f(x)
    rows = [torch.autograd.grad(y[i], x, retain_graph=True)[0] for i in range(y.shape[0])]
    return torch.stack(rows)


def grade_jac(student, ban):
    ref = run_trial(jacobian_check, Trial({"jacobian_rows": ref_jacobian_rows}, seed=0, banned=ban))
    stu = run_trial(jacobian_check, Trial({"jacobian_rows": student}, seed=0, banned=ban,
                                          student_files={THIS_FILE}))
    return stu, judge(JAC_SPEC, TOL, ref, stu)


@pytest.fixture(autouse=True)
def _no_profile_left_behind():
    yield
    assert sys.getprofile() is None
    sys.setprofile(None)


def test_ban_allows_autograd_grad_row_by_row(jacobian_ban):
    def jacobian_rows(f, x):
        y = f(x)
        out = torch.zeros(y.shape[0], x.shape[0])
        for i in range(y.shape[0]):
            (g,) = torch.autograd.grad(y[i], x, retain_graph=True)
            out[i] = g
        return out

    stu, v = grade_jac(jacobian_rows, jacobian_ban)
    assert v.passed, v.feedback()


def test_ban_catches_autograd_functional_jacobian(jacobian_ban):
    stu, v = grade_jac(lambda f, x: torch.autograd.functional.jacobian(f, x), jacobian_ban)
    assert stu.observations[-1].banned is True
    assert not v.passed
    assert "torch.autograd.functional.jacobian" in v.problem


def test_ban_catches_obfuscated_getattr(jacobian_ban):
    def jacobian_rows(f, x):
        return getattr(torch.autograd, "func" + "tional").jacobian(f, x)

    stu, v = grade_jac(jacobian_rows, jacobian_ban)
    assert stu.observations[-1].banned is True
    assert not v.passed and "not allowed" in v.problem


def test_ban_catches_torch_func_jacrev(jacobian_ban):
    stu, v = grade_jac(lambda f, x: torch.func.jacrev(f)(x), jacobian_ban)
    assert stu.observations[-1].banned is True
    assert not v.passed and "torch.func" in v.problem


def test_ban_reports_switching_the_hook_off(jacobian_ban):
    def jacobian_rows(f, x):
        sys.setprofile(None)
        return ref_jacobian_rows(f, x)

    stu, v = grade_jac(jacobian_rows, jacobian_ban)
    assert stu.observations[-1].banned is True
    assert not v.passed and "switching off" in v.problem


def test_without_ban_the_same_call_passes():
    stu, v = grade_jac(lambda f, x: torch.autograd.functional.jacobian(f, x), None)
    assert v.passed, v.feedback()


def test_ban_reports_hook_switched_off_and_back_on(jacobian_ban):
    def jacobian_rows(f, x):
        hook = sys.getprofile()
        sys.setprofile(None)
        try:
            return torch.autograd.functional.jacobian(f, x)
        finally:
            sys.setprofile(hook)

    stu, v = grade_jac(jacobian_rows, jacobian_ban)
    assert not v.passed


def test_ban_reports_caught_banned_call_then_retry(jacobian_ban):
    def jacobian_rows(f, x):
        try:
            torch.autograd.functional.jacobian(f, x)
        except Exception:
            pass
        return torch.autograd.functional.jacobian(f, x)

    stu, v = grade_jac(jacobian_rows, jacobian_ban)
    assert not v.passed


def test_ban_refuses_starting_a_thread_while_the_function_runs(jacobian_ban):
    import _thread

    def jacobian_rows(f, x):
        _thread.start_new_thread(lambda: None, ())  # would run outside the profile hook
        return ref_jacobian_rows(f, x)

    stu, v = grade_jac(jacobian_rows, jacobian_ban)
    assert stu.observations[-1].banned is True
    assert not v.passed and "starting a thread" in v.problem


def test_ban_does_not_flag_torch_code_that_only_looks_like_banned_code(jacobian_ban):
    """Banned means *defined in* a banned module: torch.Tensor's own methods are imported into
    torch.func's files and one wrapper there has the same bytecode as one in torch/_tensor.py."""
    def jacobian_rows(f, x):
        y = f(x)
        rows = [torch.autograd.grad(y[i], x, retain_graph=True)[0] for i in range(y.shape[0])]
        return 1.0 - (1.0 - torch.stack(rows))  # Tensor.__rsub__ goes through torch/_tensor.py's `wrapped`

    stu, v = grade_jac(jacobian_rows, jacobian_ban)
    assert v.passed, v.feedback()


# checks that need no reference run ----------------------------------------------------------


def test_unimplemented_first_step_needs_no_reference():
    from tensorgrade.judge.verdict import unimplemented_verdict

    def stub(x):
        raise NotImplementedError("zero_grad_: not implemented yet")

    rec = run_trial(rubric.checks["zero_in_place"], Trial({**REFERENCE, "zero_grad_": stub}, seed=3))
    v = unimplemented_verdict(rec)
    assert v is not None and not v.passed and "not implemented yet" in v.problem
    missing = run_trial(rubric.checks["zero_in_place"], Trial({}, seed=3))
    assert "not defined" in unimplemented_verdict(missing).problem
    # anything else still needs the reference: a wrong answer, a crash, no record at all
    assert unimplemented_verdict(run_trial(rubric.checks["zero_in_place"], Trial(REFERENCE, seed=3))) is None
    assert unimplemented_verdict(None) is None


# values of every kind through a check: sequences, numbers, facts ---------------------------------------

rb_kinds = Rubric("ex_kinds")


@rb_kinds.check("both_grads")
def both_grads(t):
    a = t.given("a", torch.tensor([1.0, -2.0], requires_grad=True))
    b = t.given("b", torch.tensor([0.5, 3.0], requires_grad=True))
    t.expect_tensor("the gradients (∂/∂a, ∂/∂b)", t.call("both_grads", a, b))


@rb_kinds.check("lr_at")
def lr_at(t):
    t.expect_tensor("the learning rate at step 3", t.call("lr_at", t.given("step", 3)))


@rb_kinds.check("loss_as_fact")
def loss_as_fact(t):
    x = torch.tensor([0.3, 0.7], requires_grad=True)
    t.expect("the loss, as a Python float", float(t.call("loss", x).detach()))


KIND_SPECS = {c: _check(c, f) for c, f in (("both_grads", "both_grads"), ("lr_at", "lr_at"), ("loss_as_fact", "loss"))}


def ref_both_grads(a, b):
    (a * b).sum().backward()
    return a.grad, b.grad


def ref_lr_at(step):
    return 0.1 * 0.95 ** step  # 0.0857375


KIND_REFERENCE = {"both_grads": ref_both_grads, "lr_at": ref_lr_at, "loss": lambda x: (x ** 2).sum()}


def grade_kind(check_id, student) -> Verdict:
    check = rb_kinds.checks[check_id]
    ref = run_trial(check, Trial(KIND_REFERENCE, seed=1))
    stu = run_trial(check, Trial({KIND_SPECS[check_id].function: student}, seed=1, student_files={THIS_FILE}))
    return judge(KIND_SPECS[check_id], TOL, ref, stu)


def test_reference_returning_a_tuple_of_grads_and_a_tuple_of_zeros_fails_naming_the_index():
    v = grade_kind("both_grads", lambda a, b: (torch.zeros(2), torch.zeros(2)))
    assert not v.passed
    assert v.problem == "item [0]: values differ"
    assert v.expected == "tensor([0.5, 3]) (float32, shape (2,))"  # ∂(a·b)/∂a = b
    assert v.observed == "tensor([0, 0]) (float32, shape (2,))"


def test_tuple_with_the_second_gradient_wrong_names_index_1():
    v = grade_kind("both_grads", lambda a, b: (b.detach().clone(), b.detach().clone()))
    assert not v.passed and v.problem == "item [1]: values differ"
    assert v.expected.startswith("tensor([1, -2])")  # ∂(a·b)/∂b = a


def test_right_grads_in_a_list_pass():
    def both_grads(a, b):
        return list(torch.autograd.grad((a * b).sum(), (a, b)))

    assert grade_kind("both_grads", both_grads).passed


@pytest.mark.parametrize("student", [lambda step: 0.0857375 + 1e-12, lambda step: np.float64(0.0857375),
                                     lambda step: torch.tensor(0.0857375), lambda step: torch.tensor(0.0857375,
                                                                                                      dtype=torch.float64)])
def test_a_number_close_to_the_reference_passes_whatever_its_kind(student):
    v = grade_kind("lr_at", student)
    assert v.passed, v.feedback()


@pytest.mark.parametrize("student, observed", [
    (lambda step: 0.0857375 * 1.01, "the Python float 0.0865949"),
    (lambda step: np.float64(0.09), "the numpy.float64 0.09"),
    (lambda step: torch.tensor(0.09, dtype=torch.float64), "tensor(0.09) (float64)"),
])
def test_a_number_not_close_to_the_reference_fails_saying_both(student, observed):
    v = grade_kind("lr_at", student)
    assert not v.passed
    assert v.what == "the learning rate at step 3" and v.problem == "the numbers are not close"
    assert v.expected == "the Python float 0.0857375" and v.observed == observed


def test_a_string_where_a_number_is_returned_fails_on_the_return_kind():
    v = grade_kind("lr_at", lambda step: "0.0857375")
    assert not v.passed and v.problem == "expected an object of type float, got an object of type str"


def test_float_facts_use_the_tolerance():
    assert grade_kind("loss_as_fact", lambda x: (x ** 2).sum() + 1e-7).passed  # 0.58 + 1e-7: within 1e-5
    v = grade_kind("loss_as_fact", lambda x: (x ** 2).sum() + 1e-3)
    assert not v.passed and v.expected != v.observed


def test_fact_values_that_would_read_alike_are_shown_with_their_exact_values():
    rb = Rubric("ex_alike")

    @rb.check("c")
    def c(t):
        t.expect("the mode", t.call("mode"), show="a mode")

    ref = run_trial(c, Trial({"mode": lambda: "sum"}, seed=0))
    stu = run_trial(c, Trial({"mode": lambda: "mean"}, seed=0))
    v = judge(_check("c", "mode"), TOL, ref, stu)
    assert (v.expected, v.observed) == ("a mode ('sum')", "a mode ('mean')")


def test_a_waived_dtype_is_read_from_the_reference_record_only():
    rb = Rubric("ex_dtype")

    @rb.check("c")
    def c(t):
        t.expect_tensor("the matrix", t.call("m"), check_dtype=False)

    spec = _check("c", "m")
    ref = run_trial(c, Trial({"m": lambda: torch.eye(2, dtype=torch.float64)}, seed=0))
    stu = run_trial(c, Trial({"m": lambda: torch.eye(2)}, seed=0))
    assert judge(spec, TOL, ref, stu).passed
    # a student's record cannot waive the dtype for itself
    ref = replace(ref, observations=(*ref.observations[:-1], replace(ref.observations[-1], check_dtype=True)))
    stu = replace(stu, observations=(*stu.observations[:-1], replace(stu.observations[-1], check_dtype=False)))
    v = judge(spec, TOL, ref, stu)
    assert not v.passed and v.problem == "expected dtype float64, observed float32"


def test_a_forged_tensor_record_raises_so_grading_reports_a_malformed_record():
    from tensorgrade.judge.compare import Malformed

    ref = run_trial(rb_kinds.checks["lr_at"], Trial(KIND_REFERENCE, seed=1))
    forged = TrialRecord.from_json({"observations": [ref.observations[0].to_json(),
                                                     {"kind": "tensor", "what": "the learning rate at step 3",
                                                      "value": {"type": "tensor"}}], "inputs": []})
    with pytest.raises(Malformed):
        judge(KIND_SPECS["lr_at"], TOL, ref, forged)


def test_facts_compare_numbers_with_the_tolerance_and_everything_else_exactly():
    from tensorgrade.judge.verdict import facts_match

    assert facts_match(0.560625, 0.560625 + 1e-12, TOL)
    assert not facts_match(0.560625, 0.5607, TOL)
    assert facts_match(3, 3, TOL) and not facts_match(3, 4, Tolerance(rtol=1.0, atol=5.0))  # counts are exact
    assert not facts_match(True, 1, TOL) and not facts_match(1, True, TOL)  # a bool is no number
    assert facts_match([1.0, 2.0], [1.0, 2.0 + 1e-9], TOL) and not facts_match([1.0, 2.0], [1.0], TOL)
    assert facts_match("MulBackward0", "MulBackward0", TOL) and not facts_match("MulBackward0", "AddBackward0", TOL)
    assert facts_match(None, None, TOL) and not facts_match(None, 0, TOL)
