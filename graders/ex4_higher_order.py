"""Rubric for ex4_higher_order: gradients of gradients (create_graph=True)."""

import torch

from tensorgrade.rubric import Rubric, draw, facts

rubric = Rubric("ex4_higher_order")


def _expect_values(t, what, value, *, hint=None):
    """`value` must match the reference's shape and values; its dtype is not judged (the API asks for none)."""
    t.expect_value(what, value, hint=hint, check_dtype=False)


CREATE_GRAPH = ("By default autograd does not record the backward pass itself, so the gradient it gives is a "
                "constant with no grad_fn. Ask it to record that pass too (the create_graph option of "
                "torch.autograd.grad and backward()) and the gradient can be differentiated again.")


def _vector_setup(t):
    n = draw.size(t.rng, 2, 4)
    return t.given("f", draw.scalar_function(t.rng, n)), t.given("x", draw.leaf(t.rng, n, torch.float64))


@rubric.check("grad_with_graph_value")
def grad_with_graph_value(t):
    f, x = _vector_setup(t)
    _expect_values(t, "the returned gradient ∂f/∂x", t.call("grad_with_graph", f, x),
                   hint="Return the gradient of f(x) with respect to x, with the shape of x; "
                        "torch.autograd.grad returns a tuple holding one gradient per input.")


def second_derivative(g, x, v):
    """∂(g·v)/∂x: a Hessian-vector product if g is a differentiable gradient, else None."""
    if not facts.requires_grad(g):
        return None
    try:
        return torch.autograd.grad(g, x, grad_outputs=v, allow_unused=True)[0]
    except RuntimeError:
        return None


@rubric.check("grad_with_graph_differentiable")
def grad_with_graph_differentiable(t):
    f, x = _vector_setup(t)
    g = t.call("grad_with_graph", f, x)
    t.expect("the gradient has a grad_fn (it belongs to a graph)", facts.grad_fn_name(g) is not None, hint=CREATE_GRAPH)
    v = torch.tensor(draw.values(t.rng, x.numel()), dtype=x.dtype)
    _expect_values(t, "∂(g·v)/∂x, the gradient of your gradient along a vector v", second_derivative(g, x, v),
                   hint=CREATE_GRAPH)


@rubric.check("hessian_row_value")
def hessian_row_value(t):
    f, x = _vector_setup(t)
    i = t.given("i", t.rng.randrange(x.numel()))
    _expect_values(t, f"row {i} of the Hessian", t.call("hessian_row", f, x, i),
                   hint="Row i is the gradient of one scalar, the i-th component g_i of the gradient g = ∂f/∂x; "
                        "g can only be differentiated again if its own computation was recorded (create_graph).")


@rubric.check("hessian_row_all_rows")
def hessian_row_all_rows(t):
    f, x = _vector_setup(t)
    for i in range(x.numel()):
        _expect_values(t, f"row {i} of the Hessian", t.call("hessian_row", f, x, i),
                       hint="Each row depends on i: row i differentiates the component g_i alone, not a sum "
                            "of components.")


def _nth(t, n):
    f = t.given("f", draw.function_1d(t.rng))
    x = t.given("x", draw.scalar_leaf(t.rng))
    _expect_values(t, f"the derivative of order {n}", t.call("nth_derivative", f, x, t.given("n", n)),
                   hint="Differentiate n times, each time the previous derivative; every derivative that will be "
                        "differentiated again must be computed with its graph recorded (create_graph).")


@rubric.check("nth_derivative_second")
def nth_derivative_second(t):
    _nth(t, 2)


@rubric.check("nth_derivative_higher")
def nth_derivative_higher(t):
    for n in (1, 3, t.rng.choice((4, 5))):
        _nth(t, n)
