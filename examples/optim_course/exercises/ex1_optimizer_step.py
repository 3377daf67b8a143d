"""Exercise 1 — one optimiser step, by hand, on plain Python floats.

Replace each ``raise NotImplementedError`` with your code, then run
``tensorgrade check ex1_optimizer_step`` to test it.
"""

from __future__ import annotations


def momentum_step(params: list[float], grads: list[float], velocity: list[float], lr: float,
                  momentum: float) -> tuple[list[float], list[float]]:
    """One step of SGD with momentum, for every parameter i.

    v_i <- momentum * v_i + g_i, then p_i <- p_i - lr * v_i (with the new v_i).

    Returns:
        ``(new_params, new_velocity)``: two new lists. The lists given are left unchanged.

    Example:
        >>> momentum_step([1.0], [0.5], [0.0], lr=0.1, momentum=0.9)
        ([0.95], [0.5])
    """
    raise NotImplementedError("momentum_step: not implemented yet")


def adam_step(param: float, grad: float, m: float, v: float, t: int, lr: float, beta1: float, beta2: float,
              eps: float) -> tuple[float, float, float]:
    """One Adam step on a single parameter; ``t`` counts steps from 1.

    Returns:
        ``(new_param, new_m, new_v)``.

    Example:
        >>> adam_step(1.0, 0.5, 0.0, 0.0, t=1, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
        (0.900000002, 0.05, 0.00025)   # about: the first step moves by lr, against the gradient
    """
    raise NotImplementedError("adam_step: not implemented yet")
