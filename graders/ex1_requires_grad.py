"""Rubric for ex1_requires_grad: tensors that track gradients, and backward()."""

from tensorgrade.rubric import Rubric, draw, facts

rubric = Rubric("ex1_requires_grad")


def _expect_values(t, what, value, *, hint=None):
    """`value` must match the reference's shape and values; its dtype is not judged (the API asks for none)."""
    t.expect_value(what, value, hint=hint, check_dtype=False)


def _leaf_observations(t, out):
    # the one dtype the API asks for: make_leaf returns a float32 tensor, so dtype is judged here
    t.expect_tensor("the returned tensor", out,
                    hint="make_leaf must hold 32-bit floats (float32) whatever Python numbers it is given; "
                         "a tensor's dtype can be chosen when the tensor is created.")
    t.expect("requires_grad of the returned tensor", facts.requires_grad(out),
             hint="Autograd only records operations on tensors whose requires_grad flag is set; "
                  "the flag can be given when a tensor is created, or set afterwards in place.")
    t.expect("is_leaf of the returned tensor", facts.is_leaf(out),
             hint="A leaf is a tensor you create, not the result of an operation on a tracked tensor: "
                  "converting or multiplying a tensor that already requires grad records an operation. "
                  "Finish the tensor first, then switch tracking on.")


@rubric.check("make_leaf_is_leaf")
def make_leaf_is_leaf(t):
    values = t.given("values", draw.values(t.rng, 2))
    _leaf_observations(t, t.call("make_leaf", values))


@rubric.check("make_leaf_values")
def make_leaf_values(t):
    values = draw.values(t.rng, draw.size(t.rng, 1, 7))
    values[0] = float(round(values[0]) or 1)  # a whole-valued float such as 2.0 must stay a float
    _leaf_observations(t, t.call("make_leaf", t.given("values", values)))


def _gradient_trial(t):
    n = draw.size(t.rng)
    f = t.given("f", draw.scalar_function(t.rng, n))
    x = t.given("x", draw.leaf(t.rng, n))
    return x, t.call("gradient", f, x)


BACKWARD_STORES = ("The task asks for the gradient to be left in x.grad: backward() on the scalar f(x) "
                   "accumulates it there, whereas torch.autograd.grad only returns it and leaves x.grad as it was.")


@rubric.check("gradient_value")
def gradient_value(t):
    _, out = _gradient_trial(t)
    _expect_values(t, "the returned gradient ∂f/∂x", out,
                   hint="Return the gradient of the scalar f(x) with respect to x: one entry per entry of x, "
                        "∂f/∂x_i, the shape of x.")


@rubric.check("gradient_in_x_grad")
def gradient_in_x_grad(t):
    x, out = _gradient_trial(t)
    _expect_values(t, "x.grad after gradient(f, x)", facts.grad_of(x), hint=BACKWARD_STORES)
    # the API asks to return "that gradient": x.grad itself or a copy of it hold the same values
    _expect_values(t, "the returned gradient ∂f/∂x", out,
                   hint="Return the gradient that backward() left in x.grad.")
