"""Rubric for ex5_autograd_grad: torch.autograd.grad with grad_outputs, leaving .grad alone."""

import torch

from tensorgrade.rubric import Rubric, draw, facts

rubric = Rubric("ex5_autograd_grad")


def _expect_values(t, what, value, *, hint=None):
    """`value` must match the reference's shape and values; its dtype is not judged (the API asks for none)."""
    t.expect_value(what, value, hint=hint, check_dtype=False)


UNTOUCHED = ("backward() adds the gradients it computes into .grad; torch.autograd.grad returns them and "
             "writes nothing, which is what this task asks for.")


def _vjp(t, preset_grad):
    n = draw.size(t.rng, 2, 4)
    m = t.rng.choice([k for k in range(2, 6) if k != n])
    f = t.given("f", draw.vector_function(t.rng, n, m))
    x = t.given("x", draw.leaf(t.rng, n))
    v = t.given("v", torch.tensor(draw.values(t.rng, m)))
    if preset_grad:
        x.grad = torch.tensor(draw.values(t.rng, n))
    before = facts.grad_of(x)
    return x, before, t.call("vjp", f, x, v)


@rubric.check("vjp_value")
def vjp_value(t):
    _, _, out = _vjp(t, preset_grad=False)
    _expect_values(t, "vᵀ·∂f/∂x", out,
                   hint="vᵀJ weights the gradient of each output f_i by v_i and sums them: a vector with the "
                        "shape of x. A non-scalar output needs the weights given to autograd (grad_outputs).")


@rubric.check("vjp_grad_untouched")
def vjp_grad_untouched(t):
    x, _, _ = _vjp(t, preset_grad=False)
    t.expect("x.grad when it was None before", facts.kind(facts.grad_of(x)), hint=UNTOUCHED)
    x, before, _ = _vjp(t, preset_grad=True)
    # "leaving x.grad untouched": the tensor x.grad held stays there, unchanged
    t.expect("x.grad is the same tensor as before", facts.grad_of(x) is before, hint=UNTOUCHED)
    _expect_values(t, "x.grad when it held a gradient before", facts.grad_of(x), hint=UNTOUCHED)


def _grads(t, preset_grad):
    count = t.rng.randint(2, 3)
    n = draw.size(t.rng, 2, 4)
    f = t.given("f", draw.multi_input_function(t.rng, count))
    inputs = tuple(draw.leaf(t.rng, n) for _ in range(count))
    t.given("inputs", inputs)
    if preset_grad:
        for tensor in inputs:
            tensor.grad = torch.tensor(draw.values(t.rng, n))
    return inputs, t.call("grads", f, inputs)


@rubric.check("grads_values")
def grads_values(t):
    inputs, out = _grads(t, preset_grad=False)
    t.expect("number of gradients", len(out) if isinstance(out, (tuple, list)) else None,
             hint="Return one gradient per input tensor, in the same order.")
    for i, g in enumerate(out):
        _expect_values(t, f"gradient with respect to inputs[{i}]", g,
                       hint="torch.autograd.grad accepts several inputs at once and returns their gradients "
                            "in the order it was given them.")


@rubric.check("grads_grad_untouched")
def grads_grad_untouched(t):
    inputs, _ = _grads(t, preset_grad=True)
    for i, tensor in enumerate(inputs):
        _expect_values(t, f"inputs[{i}].grad after grads()", facts.grad_of(tensor), hint=UNTOUCHED)
