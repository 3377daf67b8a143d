"""Rubric for ex1_optimizer_step: momentum SGD and Adam on plain floats.

Everything a student's function returns is recorded with t.expect_tensor, whatever its kind:
the comparator follows the reference's value (a tuple item by item, floats within the YAML's
tolerance), so a numpy scalar or a 0-dim tensor where a float is expected earns the same credit.
t.expect is for facts the grader computes itself, such as whether the inputs were left unchanged.
"""

from tensorgrade.rubric import Rubric, draw

rubric = Rubric("ex1_optimizer_step")


def _momentum_inputs(t, zero_velocity):
    n = draw.size(t.rng)
    params = t.given("params", draw.values(t.rng, n))
    grads = t.given("grads", draw.values(t.rng, n))
    velocity = t.given("velocity", [0.0] * n if zero_velocity else draw.values(t.rng, n))
    lr = t.given("lr", round(t.rng.uniform(0.01, 0.2), 3))
    momentum = t.given("momentum", round(t.rng.uniform(0.5, 0.95), 2))
    return params, grads, velocity, lr, momentum


def _momentum(t, zero_velocity):
    out = t.call("momentum_step", *_momentum_inputs(t, zero_velocity))
    t.expect_tensor("(new params, new velocity)", out)


@rubric.check("momentum_first_step")
def momentum_first_step(t):
    _momentum(t, zero_velocity=True)


@rubric.check("momentum_accumulates")
def momentum_accumulates(t):
    _momentum(t, zero_velocity=False)


@rubric.check("momentum_leaves_inputs")
def momentum_leaves_inputs(t):
    params, grads, velocity, lr, momentum = _momentum_inputs(t, zero_velocity=False)
    before = [list(params), list(grads), list(velocity)]
    t.call("momentum_step", params, grads, velocity, lr, momentum)
    # only the inputs: the values returned are the other checks' business (a mistake loses one check)
    t.expect("params, grads and velocity are unchanged afterwards", [params, grads, velocity] == before,
             hint="The caller's lists changed: build new lists for the results instead of assigning into them.")


def _adam(t, later):
    param = t.given("param", draw.values(t.rng, 1)[0])
    grad = t.given("grad", draw.values(t.rng, 1)[0])
    if later:
        m = t.given("m", draw.values(t.rng, 1, -0.5, 0.5)[0])
        v = t.given("v", round(t.rng.uniform(0.01, 1.0), 3))
        step = t.given("t", t.rng.randint(2, 100))
        beta1 = t.given("beta1", round(t.rng.uniform(0.8, 0.95), 2))
        beta2 = t.given("beta2", t.rng.choice((0.99, 0.995, 0.999)))
        eps = t.given("eps", t.rng.choice((1e-3, 1e-2)))
    else:
        m, v, step = t.given("m", 0.0), t.given("v", 0.0), t.given("t", 1)
        beta1, beta2, eps = t.given("beta1", 0.9), t.given("beta2", 0.999), t.given("eps", 1e-3)
    lr = t.given("lr", round(t.rng.uniform(0.001, 0.1), 4))
    out = t.call("adam_step", param, grad, m, v, step, lr, beta1, beta2, eps)
    t.expect_tensor("(new param, new m, new v)", out)


@rubric.check("adam_first_step")
def adam_first_step(t):
    _adam(t, later=False)


@rubric.check("adam_later_steps")
def adam_later_steps(t):
    _adam(t, later=True)
    _adam(t, later=True)
