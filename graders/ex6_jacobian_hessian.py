"""Rubric for ex6_jacobian_hessian: full Jacobian and Hessian matrices, in float64."""

import torch

from tensorgrade.rubric import Rubric, draw

rubric = Rubric("ex6_jacobian_hessian")

SHAPE_HINT = "The Jacobian of f: Rⁿ → Rᵐ has shape (m, n): row i holds ∂f_i/∂x."
BY_ROWS_HINT = (SHAPE_HINT + " Build row i with torch.autograd.grad(y[i], x, retain_graph=True)[0] "
                "and stack the rows; torch.autograd.functional and torch.func are not allowed here.")


def _nonsquare(t):
    n = draw.size(t.rng, 2, 4)
    m = t.rng.choice([k for k in range(2, 6) if k != n])
    return t.given("f", draw.vector_function(t.rng, n, m)), t.given("x", draw.leaf(t.rng, n, torch.float64))


def _jacobian(t, function):
    f, x = _nonsquare(t)
    hint = BY_ROWS_HINT if function == "jacobian_by_rows" else SHAPE_HINT + " torch.autograd.functional.jacobian(f, x) builds it."
    t.expect_tensor("the Jacobian", t.call(function, f, x), hint=hint)


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
    t.expect_tensor("the Hessian", t.call("hessian", f, x),
                    hint="The Hessian is the Jacobian of the gradient: torch.autograd.functional.hessian(f, x), "
                         "or differentiate a create_graph=True gradient row by row.")


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
