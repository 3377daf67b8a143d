"""Rubric for ex1_requires_grad: tensors that track gradients, and backward()."""

from tensorgrade.rubric import Rubric, draw, facts

rubric = Rubric("ex1_requires_grad")


def _leaf_observations(t, out):
    t.expect_tensor("the returned tensor", out, hint="Pass dtype=torch.float32 so the tensor holds 32-bit floats.")
    t.expect("requires_grad of the returned tensor", facts.requires_grad(out),
             hint="Autograd only tracks tensors created with requires_grad=True.")
    t.expect("is_leaf of the returned tensor", facts.is_leaf(out),
             hint="A leaf is created directly by you, not computed from another tensor: "
                  "pass requires_grad=True to the constructor instead of multiplying or converting afterwards.")


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


@rubric.check("gradient_value")
def gradient_value(t):
    _, out = _gradient_trial(t)
    t.expect_tensor("the returned gradient ∂f/∂x", out,
                    hint="Call backward() on the scalar f(x); the gradient then sits in x.grad.")


@rubric.check("gradient_in_x_grad")
def gradient_in_x_grad(t):
    x, out = _gradient_trial(t)
    t.expect_tensor("x.grad after gradient(f, x)", facts.grad_of(x),
                    hint="backward() stores the gradient in x.grad; torch.autograd.grad returns it without storing it.")
    t.expect("the returned tensor is x.grad", out is facts.grad_of(x),
             hint="Return x.grad itself after calling backward().")
