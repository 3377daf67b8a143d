"""Mistake: momentum_step writes the results into the lists it was given and returns them.

The numbers are right, but the caller's params and velocity change behind its back (and a caller
that kept the old values to compare, or to retry a step, loses them).
"""

from __future__ import annotations

import math

LOSES = ("momentum_leaves_inputs",)


def momentum_step(params: list[float], grads: list[float], velocity: list[float], lr: float,
                  momentum: float) -> tuple[list[float], list[float]]:
    for i, g in enumerate(grads):
        velocity[i] = momentum * velocity[i] + g
        params[i] = params[i] - lr * velocity[i]
    return params, velocity


def adam_step(param: float, grad: float, m: float, v: float, t: int, lr: float, beta1: float, beta2: float,
              eps: float) -> tuple[float, float, float]:
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return param - lr * m_hat / (math.sqrt(v_hat) + eps), m, v
