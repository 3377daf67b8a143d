"""Rubric for ex2_zero_grad: gradients accumulate; clearing them in place."""

import torch

from tensorgrade.rubric import Rubric, draw, facts

rubric = Rubric("ex2_zero_grad")


def _setup(t):
    n = draw.size(t.rng)
    return t.given("f", draw.scalar_function(t.rng, n)), t.given("x", draw.leaf(t.rng, n))


def _accumulate(t, times):
    f, x = _setup(t)
    out = t.call("accumulate", f, x, t.given("times", times))
    t.expect_tensor("the returned gradient", out,
                    hint="backward() adds into x.grad instead of overwriting it: after k calls x.grad holds k × ∂f/∂x. "
                         "Build f(x) again for each call (or pass retain_graph=True).")
    t.expect_tensor("x.grad afterwards", facts.grad_of(x), hint="Do not clear x.grad between the backward() calls.")


@rubric.check("accumulate_sums")
def accumulate_sums(t):
    _accumulate(t, 3)


@rubric.check("accumulate_times_vary")
def accumulate_times_vary(t):
    _accumulate(t, t.rng.choice((2, 4, 5)))


@rubric.check("zero_grad_in_place")
def zero_grad_in_place(t):
    f, x = _setup(t)
    f(x).backward()
    before = facts.grad_of(x)
    t.call("zero_grad_", x)
    after = facts.grad_of(x)
    t.expect("x.grad is still the same tensor object", after is before,
             hint="x.grad was replaced by a new tensor (or set to None); clear it in place with x.grad.zero_().")
    t.expect_tensor("x.grad after zero_grad_(x)", after, hint="After clearing, every element of x.grad is 0.")


@rubric.check("zero_grad_keeps_none")
def zero_grad_keeps_none(t):
    _, x = _setup(t)
    t.call("zero_grad_", x)
    t.expect("x.grad of a tensor that had no gradient yet", facts.kind(facts.grad_of(x)),
             hint="Before the first backward() x.grad is None: check for None before calling x.grad.zero_().")


def _descend(t):
    f, x = _setup(t)
    lr = t.given("lr", round(t.rng.uniform(0.01, 0.05), 3))
    steps = t.given("steps", t.rng.randint(2, 5))
    return x, t.call("descend", f, x, lr, steps)


@rubric.check("descend_steps")
def descend_steps(t):
    x, out = _descend(t)
    t.expect("the returned tensor is x itself", out is x,
             hint="Update x in place (x -= lr * x.grad inside torch.no_grad()) and return x; "
                  "x = x - lr * x.grad makes a new tensor.")
    t.expect_tensor("x after the descent steps", x.detach(),
                    hint="Each step: clear x.grad, compute f(x).backward(), then x -= lr * x.grad under torch.no_grad().")


@rubric.check("descend_clears_grad")
def descend_clears_grad(t):
    x, _ = _descend(t)
    t.expect("x is still a leaf", facts.is_leaf(x),
             hint="An update recorded in the graph turns x into a computed tensor; do it under torch.no_grad().")
    t.expect("x still requires grad", facts.requires_grad(x), hint="Do not switch off requires_grad on x.")
    t.expect_tensor("x.grad after the last step", facts.grad_of(x),
                    hint="Without clearing, x.grad sums the gradients of all steps; clear it before each backward().")


__all__ = ["rubric", "torch"]
