"""Rubric for ex5_autograd_grad: torch.autograd.grad with grad_outputs, leaving .grad alone."""

import torch

from tensorgrade.rubric import Rubric, draw, facts

rubric = Rubric("ex5_autograd_grad")

UNTOUCHED = ("torch.autograd.grad returns gradients without storing them; backward() adds them into .grad. "
             "Use torch.autograd.grad here.")


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
    t.expect_tensor("vᵀ·∂f/∂x", out,
                    hint="torch.autograd.grad(f(x), x, grad_outputs=v)[0] weights each output f_i by v_i; "
                         "its shape is that of x.")


@rubric.check("vjp_grad_untouched")
def vjp_grad_untouched(t):
    x, _, _ = _vjp(t, preset_grad=False)
    t.expect("x.grad when it was None before", facts.kind(facts.grad_of(x)), hint=UNTOUCHED)
    x, before, _ = _vjp(t, preset_grad=True)
    t.expect("x.grad is the same tensor as before", facts.grad_of(x) is before, hint=UNTOUCHED)
    t.expect_tensor("x.grad when it held a gradient before", facts.grad_of(x), hint=UNTOUCHED)


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
        t.expect_tensor(f"gradient with respect to inputs[{i}]", g,
                        hint="Pass the whole tuple `inputs` to torch.autograd.grad; the results keep its order.")


@rubric.check("grads_grad_untouched")
def grads_grad_untouched(t):
    inputs, _ = _grads(t, preset_grad=True)
    for i, tensor in enumerate(inputs):
        t.expect_tensor(f"inputs[{i}].grad after grads()", facts.grad_of(tensor), hint=UNTOUCHED)
