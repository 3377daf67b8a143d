"""Idiom: numpy for momentum (numpy floats, tuples), torch float64 for Adam (0-dim tensors), other orders.

momentum_step computes with numpy arrays and returns tuples of numpy.float64; it expands
p − lr·(μv + g) as p − lr·μ·v − lr·g. adam_step works on 0-dim float64 tensors and returns them.
Every value is the same number up to the last bits: where a float is asked, a numpy scalar or a
0-dim tensor is a number, and floats are compared with the exercise's tolerance, not exactly.
"""

from __future__ import annotations

import numpy as np
import torch


def momentum_step(params: list[float], grads: list[float], velocity: list[float], lr: float,
                  momentum: float) -> tuple[list[float], list[float]]:
    p, g, v = np.array(params), np.array(grads), np.array(velocity)
    new_params = p - lr * momentum * v - lr * g
    return tuple(new_params), tuple(momentum * v + g)


def adam_step(param: float, grad: float, m: float, v: float, t: int, lr: float, beta1: float, beta2: float,
              eps: float) -> tuple[float, float, float]:
    g = torch.tensor(grad, dtype=torch.float64)
    m = beta1 * torch.tensor(m, dtype=torch.float64) + (1 - beta1) * g
    v = beta2 * torch.tensor(v, dtype=torch.float64) + (1 - beta2) * g ** 2
    step = lr * (m / (1 - beta1 ** t)) / (torch.sqrt(v / (1 - beta2 ** t)) + eps)
    return torch.tensor(param, dtype=torch.float64) - step, m, v
