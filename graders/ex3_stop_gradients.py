"""Rubric for ex3_stop_gradients: no_grad() and detach() cut tensors out of the graph."""

import torch

from tensorgrade.rubric import Rubric, draw, facts

rubric = Rubric("ex3_stop_gradients")

UNTRACKED_HINT = ("Compute it inside `with torch.no_grad():` (or call .detach() on the result): "
                  "then autograd records nothing and the result does not require grad.")


def _scaled(t):
    x = t.given("x", draw.leaf(t.rng))
    factor = t.given("factor", round(t.rng.uniform(1.5, 4.0), 2))
    return x, t.call("scale_untracked", x, factor)


@rubric.check("scale_untracked_value")
def scale_untracked_value(t):
    _, out = _scaled(t)
    t.expect_tensor("x * factor", out, hint="The value is still x * factor; only the tracking changes.")
    t.expect("requires_grad of the result", facts.requires_grad(out), hint=UNTRACKED_HINT)


@rubric.check("scale_untracked_unconnected")
def scale_untracked_unconnected(t):
    x, out = _scaled(t)
    t.expect("grad_fn of the result", facts.grad_fn_name(out), hint=UNTRACKED_HINT)
    t.expect_connection("the result is connected to x in the autograd graph", out, x, hint=UNTRACKED_HINT)
    t.expect("x.grad afterwards", facts.kind(facts.grad_of(x)), hint="Do not call backward() here.")


def _detached(t):
    x = t.given("x", draw.leaf(t.rng))
    return x, t.call("detached", x)


@rubric.check("detached_shares_storage")
def detached_shares_storage(t):
    x, out = _detached(t)
    t.expect("shares storage with x", facts.shares_storage(out, x),
             hint="detach() returns a view of the same memory; clone() or torch.tensor(...) make a copy.")
    t.expect_tensor("the detached tensor", out, hint="It holds the same values as x.")
    t.expect("requires_grad of the detached tensor", facts.requires_grad(out),
             hint="A detached tensor is cut from the graph, so it does not require grad.")


@rubric.check("detached_cut")
def detached_cut(t):
    x, out = _detached(t)
    t.expect("grad_fn of the detached tensor", facts.grad_fn_name(out), hint="x.detach() has no grad_fn.")
    t.expect_connection("the detached tensor is connected to x", out, x,
                        hint="x.detach() is not connected to x in the graph.")
    with torch.no_grad():
        x.mul_(2)
    t.expect_tensor("the detached tensor after x was doubled in place", out,
                    hint="A detached tensor shares memory with x, so it sees in-place changes to x.")


def _frozen(t):
    n = draw.size(t.rng)
    x = t.given("x", draw.leaf(t.rng, n))
    w = t.given("w", draw.leaf(t.rng, n))
    return x, w, t.call("frozen_input_loss", x, w)


@rubric.check("frozen_input_loss_value")
def frozen_input_loss_value(t):
    _, _, loss = _frozen(t)
    t.expect_tensor("the loss sum(x * w)", loss, hint="The loss is the scalar (x * w).sum().")


@rubric.check("frozen_input_loss_grads")
def frozen_input_loss_grads(t):
    x, w, loss = _frozen(t)
    t.expect("the loss requires grad", facts.requires_grad(loss),
             hint="Gradients must still reach w: do not compute the whole loss under no_grad().")
    t.expect_connection("the loss is connected to x in the autograd graph", loss, x,
                        hint="Use x.detach() in the product so that no gradient flows back to x.")
    loss.backward()
    t.expect_tensor("w.grad after loss.backward()", facts.grad_of(w), hint="∂(Σ x·w)/∂w = x.")
    t.expect("x.grad after loss.backward()", facts.kind(facts.grad_of(x)),
             hint="x must receive no gradient at all: detach it inside the loss.")
