"""Reference solution for ex1_optimizer_step: SGD with momentum and Adam on plain floats."""

from __future__ import annotations

import math


def momentum_step(params: list[float], grads: list[float], velocity: list[float], lr: float,
                  momentum: float) -> tuple[list[float], list[float]]:
    new_velocity = [momentum * v + g for v, g in zip(velocity, grads)]
    new_params = [p - lr * v for p, v in zip(params, new_velocity)]
    return new_params, new_velocity


def adam_step(param: float, grad: float, m: float, v: float, t: int, lr: float, beta1: float, beta2: float,
              eps: float) -> tuple[float, float, float]:
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return param - lr * m_hat / (math.sqrt(v_hat) + eps), m, v
