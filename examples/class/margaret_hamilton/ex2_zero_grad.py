"""Margaret Hamilton -- Homework 3, ex2_zero_grad."""

from __future__ import annotations

from typing import Callable

import torch


def accumulate(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, times: int) -> torch.Tensor:
    """Call ``backward()`` on ``f(x)`` ``times`` times without clearing; return ``x.grad``."""
    for _ in range(times):
        f(x).backward()
    return x.grad


def zero_grad_(x: torch.Tensor) -> None:
    """Zero ``x.grad`` in place (same tensor object); leave a ``None`` gradient alone."""
    if x.grad is not None:
        x.grad.zero_()


def descend(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    """Run ``steps`` steps of gradient descent on ``f``, updating ``x`` in place; return ``x``."""
    for _ in range(steps):
        if x.grad is not None:
            x.grad.zero_()
        f(x).backward()
        with torch.no_grad():
            x -= lr * x.grad
    return x
