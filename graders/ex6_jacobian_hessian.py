"""Rubric for ex6_jacobian_hessian: full Jacobian and Hessian matrices, in float64."""

import torch

from tensorgrade.rubric import Rubric, draw

rubric = Rubric("ex6_jacobian_hessian")


def _expect_values(t, what, value, *, hint=None):
    """`value` must match the reference's shape and values; its dtype is not judged ("by any means")."""
    t.expect_value(what, value, hint=hint, check_dtype=False)


SHAPE_HINT = "The Jacobian of f: Rⁿ → Rᵐ has shape (m, n): row i holds ∂f_i/∂x, one column per input."
BY_ROWS_HINT = (SHAPE_HINT + " Row i is the gradient of the scalar f_i with respect to x; one graph of f(x) "
                "serves every row if it is kept alive between the calls (retain_graph). "
                "torch.autograd.functional and torch.func are not allowed here.")


def _nonsquare(t):
    n = draw.size(t.rng, 2, 4)
    m = t.rng.choice([k for k in range(2, 6) if k != n])
    return t.given("f", draw.vector_function(t.rng, n, m)), t.given("x", draw.leaf(t.rng, n, torch.float64))


def _jacobian(t, function):
    f, x = _nonsquare(t)
    hint = BY_ROWS_HINT if function == "jacobian_by_rows" else (
        SHAPE_HINT + " Any means will do: rows from torch.autograd.grad, or the helpers of torch.autograd.functional.")
    _expect_values(t, "the Jacobian", t.call(function, f, x), hint=hint)


@rubric.check("jacobian_nonsquare")
def jacobian_nonsquare(t):
    _jacobian(t, "jacobian")


@rubric.check("jacobian_hidden")
def jacobian_hidden(t):
    _jacobian(t, "jacobian")
    _jacobian(t, "jacobian")


def _hessian(t):
    n = draw.size(t.rng, 2, 4)
    f = t.given("f", draw.scalar_function(t.rng, n))
    x = t.given("x", draw.leaf(t.rng, n, torch.float64))
    _expect_values(t, "the Hessian", t.call("hessian", f, x),
                   hint="The Hessian is the Jacobian of the gradient ∇f: its row i is the gradient of ∂f/∂x_i, "
                        "which needs a gradient whose own computation was recorded (create_graph).")


@rubric.check("hessian_value")
def hessian_value(t):
    _hessian(t)


@rubric.check("hessian_hidden")
def hessian_hidden(t):
    _hessian(t)
    _hessian(t)


@rubric.check("jacobian_by_rows_value")
def jacobian_by_rows_value(t):
    _jacobian(t, "jacobian_by_rows")


@rubric.check("jacobian_by_rows_no_functional")
def jacobian_by_rows_no_functional(t):
    _jacobian(t, "jacobian_by_rows")
    _jacobian(t, "jacobian_by_rows")
