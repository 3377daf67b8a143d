"""Mistake: accumulate clears the gradient before every backward().

Zeroing between calls is right in a training loop but defeats the point here:
backward() adds into .grad, and the task is to observe that x.grad ends up
holding `times` times the gradient. With the clearing it holds it once.
"""

from __future__ import annotations

from typing import Callable

import torch

LOSES = ("accumulate_sums", "accumulate_times_vary")


def accumulate(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, times: int) -> torch.Tensor:
    """Call ``backward()`` on ``f(x)`` ``times`` times without clearing; return ``x.grad``."""
    for _ in range(times):
        if x.grad is not None:
            x.grad.zero_()
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
