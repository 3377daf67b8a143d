"""Rubric for ex7_custom_function: a Function's forward and backward, gradcheck, and a straight-through estimator.

The student's backward runs inside autograd (torch.autograd.grad, gradcheck), not inside t.call:
those steps go through t.run, which gives them their own deadline and names them in feedback
("Softplus.backward raised ..."). gradcheck calls softplus as often as it needs (fewer times when
it fails early), so those calls are named observations and the check's verdict is the named one.
"""

import torch

from tensorgrade.rubric import Rubric, draw, facts

rubric = Rubric("ex7_custom_function")


def _x(t, dtype=torch.float64):
    """A fresh leaf of a drawn size (float64 unless asked), shown in feedback as x."""
    return t.given("x", draw.leaf(t.rng, draw.size(t.rng), dtype))


def _matrix(t, dtype=torch.float32):
    """A fresh 2-D leaf (2×3), shown in feedback as x."""
    rows = [draw.values(t.rng, 3) for _ in range(2)]
    return t.given("x", torch.tensor(rows, dtype=dtype, requires_grad=True))


def _untied(rng, n):
    """n values in (-3, 3) whose fractional part is never 0.5: how ties round is a convention this task leaves open."""
    out = []
    for _ in range(n):
        whole, frac = rng.randint(-3, 2), rng.choice((0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9))
        out.append(round(whole + frac + rng.choice((0.0, 0.03, 0.06)), 2))
    return out


def _incoming(t, like):
    """The incoming gradient v handed to backward: drawn values, not ones, so that ignoring it shows."""
    shape = tuple(like.shape)
    v = torch.tensor(draw.values(t.rng, like.numel()), dtype=like.dtype).reshape(shape)
    return t.given("v (the incoming gradient)", v)


MADE_BY = ("The result must come from {cls}.apply(x): apply records your Function's node in the graph, and only "
           "then does the backward pass call your backward. Built-in operations record their own nodes instead.")


@rubric.check("softplus_forward")
def softplus_forward(t):
    x = _x(t)
    y = t.call("softplus", x)
    t.expect_tensor("softplus(x)", y)
    t.expect("the node that made softplus(x)", facts.grad_fn_name(y), hint=MADE_BY.format(cls="Softplus"))


@rubric.check("softplus_backward")
def softplus_backward(t):
    x = _x(t)
    v = _incoming(t, x)
    y = t.call("softplus", x)
    (g,) = t.run("Softplus.backward", torch.autograd.grad, y, x, v)
    t.expect_tensor("the gradient reaching x", g)
    # Checked against autograd too, independently of the reference: autograd differentiates torch's own
    # softplus, and the reference records True here.
    (auto,) = torch.autograd.grad(torch.nn.functional.softplus(x), x, v)
    t.expect("it agrees with autograd's gradient of log(1 + eˣ)",
             facts.kind(g) == "tensor" and tuple(g.shape) == tuple(auto.shape)
             and bool(torch.allclose(g.detach(), auto, rtol=1e-6, atol=1e-7)))


@rubric.check("softplus_gradcheck")
def softplus_gradcheck(t):
    x = _x(t)
    ok = t.run("gradcheck", torch.autograd.gradcheck,
               lambda v: t.call("softplus", v, name="a call made by gradcheck"), (x,), raise_exception=False)
    t.observe("passed gradcheck", bool(ok), what="torch.autograd.gradcheck accepts softplus")


@rubric.check("softplus_hidden")
def softplus_hidden(t):
    x = _matrix(t)
    y = t.call("softplus", x)
    t.expect_tensor("softplus(x)", y)
    (g,) = t.run("Softplus.backward", torch.autograd.grad, (y ** 2).sum(), x)
    t.expect_tensor("the gradient of Σ softplus(x)² with respect to x", g)


@rubric.check("round_ste_forward")
def round_ste_forward(t):
    x = t.given("x", torch.tensor(_untied(t.rng, draw.size(t.rng)), requires_grad=True))
    y = t.call("round_ste", x)
    t.expect_tensor("round_ste(x)", y)
    t.expect("the node that made round_ste(x)", facts.grad_fn_name(y), hint=MADE_BY.format(cls="RoundSTE"))


@rubric.check("round_ste_gradient")
def round_ste_gradient(t):
    x = t.given("x", torch.tensor(_untied(t.rng, draw.size(t.rng)), requires_grad=True))
    v = _incoming(t, x)
    y = t.call("round_ste", x)
    (g,) = t.run("RoundSTE.backward", torch.autograd.grad, y, x, v)
    t.expect_tensor("the gradient reaching x", g)


@rubric.check("round_ste_hidden")
def round_ste_hidden(t):
    x = t.given("x", torch.tensor([_untied(t.rng, 3) for _ in range(2)], requires_grad=True))
    w = t.given("w", torch.tensor([draw.values(t.rng, 3) for _ in range(2)]))
    y = t.call("round_ste", x)
    t.expect_tensor("round_ste(x)", y)
    (g,) = t.run("RoundSTE.backward", torch.autograd.grad, (w * y).sum(), x)
    t.expect_tensor("the gradient of Σ w · round_ste(x) with respect to x", g)
