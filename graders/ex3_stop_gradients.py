"""Rubric for ex3_stop_gradients: no_grad() and detach() cut tensors out of the graph."""

import torch

from tensorgrade.rubric import Rubric, draw, facts

rubric = Rubric("ex3_stop_gradients")


def _expect_values(t, what, value, *, hint=None):
    """`value` must match the reference's shape and values; its dtype is not judged (the API asks for none)."""
    t.expect_value(what, value, hint=hint, check_dtype=False)


UNTRACKED_HINT = ("Autograd records an operation whenever an input requires grad. Either compute the product "
                  "where recording is switched off (torch.no_grad()), or cut the result out of the graph "
                  "afterwards (detach()): both give a result that does not require grad.")


def _scaled(t):
    x = t.given("x", draw.leaf(t.rng))
    factor = t.given("factor", round(t.rng.uniform(1.5, 4.0), 2))
    return x, t.call("scale_untracked", x, factor)


@rubric.check("scale_untracked_value")
def scale_untracked_value(t):
    _, out = _scaled(t)
    _expect_values(t, "x * factor", out, hint="The value is still x * factor; only the tracking changes.")
    t.expect("requires_grad of the result", facts.requires_grad(out), hint=UNTRACKED_HINT)


@rubric.check("scale_untracked_unconnected")
def scale_untracked_unconnected(t):
    x, out = _scaled(t)
    t.expect("grad_fn of the result", facts.grad_fn_name(out), hint=UNTRACKED_HINT)
    t.expect_connection("the result is connected to x in the autograd graph", out, x, hint=UNTRACKED_HINT)


def _detached(t):
    x = t.given("x", draw.leaf(t.rng))
    return x, t.call("detached", x)


@rubric.check("detached_shares_storage")
def detached_shares_storage(t):
    x, out = _detached(t)
    t.expect("shares storage with x", facts.shares_storage(out, x),
             hint="The result must be a view of x's own memory, only cut from the graph; copying the values "
                  "(clone(), a new tensor from a list) gives a tensor with memory of its own.")
    _expect_values(t, "the detached tensor", out, hint="It holds the same values as x.")
    t.expect("requires_grad of the detached tensor", facts.requires_grad(out),
             hint="A tensor cut from the graph does not require grad.")


@rubric.check("detached_cut")
def detached_cut(t):
    x, out = _detached(t)
    t.expect("grad_fn of the detached tensor", facts.grad_fn_name(out),
             hint="A tensor cut from the graph was made by no recorded operation: its grad_fn is None.")
    t.expect_connection("the detached tensor is connected to x", out, x,
                        hint="No path may lead from the result back to x in the autograd graph.")
    with torch.no_grad():
        x.mul_(2)
    _expect_values(t, "the detached tensor after x was doubled in place", out,
                   hint="A detached tensor shares memory with x, so it sees in-place changes to x; a copy does not.")


def _frozen(t):
    n = draw.size(t.rng)
    x = t.given("x", draw.leaf(t.rng, n))
    w = t.given("w", draw.leaf(t.rng, n))
    return x, w, t.call("frozen_input_loss", x, w)


@rubric.check("frozen_input_loss_value")
def frozen_input_loss_value(t):
    _, _, loss = _frozen(t)
    _expect_values(t, "the loss sum(x * w)", loss,
                   hint="The loss is the scalar (0-dim tensor) Σᵢ xᵢ·wᵢ; freezing x changes the graph, not the value.")


@rubric.check("frozen_input_loss_grads")
def frozen_input_loss_grads(t):
    x, w, loss = _frozen(t)
    t.expect("the loss requires grad", facts.requires_grad(loss),
             hint="Gradients must still reach w, so the product with w has to be recorded: switching recording "
                  "off for the whole loss freezes w too.")
    t.expect_connection("the loss is connected to x in the autograd graph", loss, x,
                        hint="Freeze only x: use a version of x cut from the graph in the product, so that "
                             "no path leads back to x.")
    loss.backward()
    _expect_values(t, "w.grad after loss.backward()", facts.grad_of(w), hint="∂(Σ x·w)/∂w = x.")
    t.expect("x.grad after loss.backward()", facts.kind(facts.grad_of(x)),
             hint="x must receive no gradient at all: no path from the loss may lead back to x.")
