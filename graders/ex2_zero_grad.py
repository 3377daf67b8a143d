"""Rubric for ex2_zero_grad: gradients accumulate; clearing them in place."""

import torch

from tensorgrade.rubric import Rubric, draw, facts

rubric = Rubric("ex2_zero_grad")


def _expect_values(t, what, value, *, hint=None):
    """`value` must match the reference's shape and values; its dtype is not judged (the API asks for none)."""
    t.expect_value(what, value, hint=hint, check_dtype=False)


def _setup(t):
    n = draw.size(t.rng)
    return t.given("f", draw.scalar_function(t.rng, n)), t.given("x", draw.leaf(t.rng, n))


def _accumulate(t, times):
    f, x = _setup(t)
    out = t.call("accumulate", f, x, t.given("times", times))
    _expect_values(t, "the returned gradient", out,
                   hint="backward() adds into x.grad instead of overwriting it: after k passes x.grad holds "
                        "k × ∂f/∂x. A graph is freed by its backward pass, so each pass needs f(x) built again.")
    _expect_values(t, "x.grad afterwards", facts.grad_of(x),
                   hint="Let the passes add up: nothing may clear x.grad between them.")


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
    # identity is what the API asks: "afterwards it is the same tensor object, holding zeros"
    t.expect("x.grad is still the same tensor object", after is before,
             hint="x.grad was replaced by a new tensor (or set to None). Clear the tensor that is already "
                  "there, with an in-place method (the ones ending in _, such as x.grad.zero_()), so that "
                  "anyone holding it sees the zeros.")
    _expect_values(t, "x.grad after zero_grad_(x)", after, hint="After clearing, every element of x.grad is 0.")


@rubric.check("zero_grad_keeps_none")
def zero_grad_keeps_none(t):
    _, x = _setup(t)
    t.call("zero_grad_", x)
    t.expect("x.grad of a tensor that had no gradient yet", facts.kind(facts.grad_of(x)),
             hint="Before the first backward() x.grad is None, and None has no methods: "
                  "there is nothing to clear, so leave it as it is.")


def _descend(t):
    f, x = _setup(t)
    lr = t.given("lr", round(t.rng.uniform(0.01, 0.05), 3))
    steps = t.given("steps", t.rng.randint(2, 5))
    return x, t.call("descend", f, x, lr, steps)


STEP_HINT = ("Each step needs the gradient at the current x alone: backward() adds to what x.grad already holds, "
             "so clear it before every backward pass; then move x against the gradient, by lr times it.")


@rubric.check("descend_steps")
def descend_steps(t):
    x, out = _descend(t)
    # identity is what the API asks: "updating x in place ...; return x itself"
    t.expect("the returned tensor is x itself", out is x,
             hint="The caller's x must move: change its values in place (an augmented assignment or an "
                  "in-place method) and return it; `x = x - ...` binds the name to a new tensor instead.")
    _expect_values(t, "x after the descent steps", x.detach(), hint=STEP_HINT)


@rubric.check("descend_clears_grad")
def descend_clears_grad(t):
    x, _ = _descend(t)
    t.expect("x is still a leaf", facts.is_leaf(x),
             hint="An update that autograd records turns x into a computed tensor; make it where autograd "
                  "records nothing (torch.no_grad()).")
    t.expect("x still requires grad", facts.requires_grad(x), hint="Leave requires_grad of x switched on.")
    # the API asks to clear "before each backward pass", not what x.grad holds at the end: whether the last
    # step leaves its gradient there or clears it afterwards, the iterates tell whether every pass was cleared
    _expect_values(t, "x after the descent steps", x.detach(), hint=STEP_HINT)


__all__ = ["rubric", "torch"]
