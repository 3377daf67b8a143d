"""Mistake: the parameter moves by the old velocity instead of the new one.

From a zero velocity the first step then does not move the parameters at all: the gradient
reaches them one step late.
"""

from __future__ import annotations

import math

LOSES = ("momentum_first_step", "momentum_accumulates")


def momentum_step(params: list[float], grads: list[float], velocity: list[float], lr: float,
                  momentum: float) -> tuple[list[float], list[float]]:
    new_velocity = [momentum * v + g for v, g in zip(velocity, grads)]
    new_params = [p - lr * v for p, v in zip(params, velocity)]
    return new_params, new_velocity


def adam_step(param: float, grad: float, m: float, v: float, t: int, lr: float, beta1: float, beta2: float,
              eps: float) -> tuple[float, float, float]:
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return param - lr * m_hat / (math.sqrt(v_hat) + eps), m, v
