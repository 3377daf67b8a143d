"""Rubric for ex4_higher_order: gradients of gradients (create_graph=True)."""

import torch

from tensorgrade.rubric import Rubric, draw, facts

rubric = Rubric("ex4_higher_order")

CREATE_GRAPH = ("Pass create_graph=True to torch.autograd.grad (or backward) so the gradient "
                "is itself part of a graph and can be differentiated again.")


def _vector_setup(t):
    n = draw.size(t.rng, 2, 4)
    return t.given("f", draw.scalar_function(t.rng, n)), t.given("x", draw.leaf(t.rng, n, torch.float64))


@rubric.check("grad_with_graph_value")
def grad_with_graph_value(t):
    f, x = _vector_setup(t)
    t.expect_tensor("the returned gradient ∂f/∂x", t.call("grad_with_graph", f, x),
                    hint="torch.autograd.grad(f(x), x, create_graph=True)[0] is the gradient.")


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
    t.expect_tensor("∂(g·v)/∂x, the gradient of your gradient along a vector v", second_derivative(g, x, v),
                    hint=CREATE_GRAPH)


@rubric.check("hessian_row_value")
def hessian_row_value(t):
    f, x = _vector_setup(t)
    i = t.given("i", t.rng.randrange(x.numel()))
    t.expect_tensor(f"row {i} of the Hessian", t.call("hessian_row", f, x, i),
                    hint="Differentiate the i-th component of a create_graph=True gradient once more with respect to x.")


@rubric.check("hessian_row_all_rows")
def hessian_row_all_rows(t):
    f, x = _vector_setup(t)
    for i in range(x.numel()):
        t.expect_tensor(f"row {i} of the Hessian", t.call("hessian_row", f, x, i),
                        hint="Row i is ∂g_i/∂x where g = ∂f/∂x was computed with create_graph=True.")


def _nth(t, n):
    f = t.given("f", draw.function_1d(t.rng))
    x = t.given("x", draw.scalar_leaf(t.rng))
    t.expect_tensor(f"the derivative of order {n}", t.call("nth_derivative", f, x, t.given("n", n)),
                    hint="Repeat torch.autograd.grad n times, each with create_graph=True, "
                         "differentiating the previous derivative.")


@rubric.check("nth_derivative_second")
def nth_derivative_second(t):
    _nth(t, 2)


@rubric.check("nth_derivative_higher")
def nth_derivative_higher(t):
    for n in (1, 3, t.rng.choice((4, 5))):
        _nth(t, n)
