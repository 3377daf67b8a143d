"""Rubric for ex2_lr_schedule: the rate at chosen steps of two schedules, each float within the YAML's tolerance.

Each check calls the schedule at a few steps; each value is an observation of its own, named
by its step in feedback ("warmup_cosine(step=7)"), and the observations are compared in order.
"""

from tensorgrade.rubric import Rubric

rubric = Rubric("ex2_lr_schedule")


def _cosine_setup(t):
    base_lr = t.given("base_lr", round(t.rng.uniform(0.01, 0.5), 3))
    warmup = t.given("warmup_steps", t.rng.randint(4, 10))
    total = t.given("total_steps", warmup + t.rng.randint(20, 80))
    min_lr = t.given("min_lr", round(base_lr * t.rng.uniform(0.01, 0.2), 5))
    return base_lr, warmup, total, min_lr


def _rate_at(t, function, step, *args):
    out = t.call(function, step, *args)
    t.expect_tensor(f"{function}(step={step})", out)


@rubric.check("warmup_rises")
def warmup_rises(t):
    base_lr, warmup, total, min_lr = _cosine_setup(t)
    for step in (0, t.rng.randint(1, warmup - 1), warmup - 1):
        _rate_at(t, "warmup_cosine", step, base_lr, warmup, total, min_lr)


@rubric.check("cosine_decays")
def cosine_decays(t):
    base_lr, warmup, total, min_lr = _cosine_setup(t)
    middle = (warmup + total) // 2
    for step in (t.rng.randint(warmup + 1, middle), t.rng.randint(middle + 1, total - 1)):
        _rate_at(t, "warmup_cosine", step, base_lr, warmup, total, min_lr)


@rubric.check("schedule_endpoints")
def schedule_endpoints(t):
    base_lr, warmup, total, min_lr = _cosine_setup(t)
    for step in (warmup, total, total + t.rng.randint(1, 30)):
        _rate_at(t, "warmup_cosine", step, base_lr, warmup, total, min_lr)


def _decay_setup(t):
    base_lr = t.given("base_lr", round(t.rng.uniform(0.01, 0.5), 3))
    gamma = t.given("gamma", round(t.rng.uniform(0.1, 0.9), 2))
    size = t.given("step_size", t.rng.randint(3, 12))
    return base_lr, gamma, size


@rubric.check("step_decay_value")
def step_decay_value(t):
    base_lr, gamma, size = _decay_setup(t)
    k = t.rng.randint(1, 4)
    for step in (k * size - 1, k * size, k * size + t.rng.randint(1, size - 2)):
        _rate_at(t, "step_decay", step, base_lr, gamma, size)


@rubric.check("step_decay_hidden")
def step_decay_hidden(t):
    base_lr, gamma, size = _decay_setup(t)
    # five decays at most: after twenty, base_lr · gamma²⁰ can be below atol, where any answer is "close"
    for step in (0, t.rng.randint(3, 5) * size + t.rng.randint(1, size - 2)):
        _rate_at(t, "step_decay", step, base_lr, gamma, size)
