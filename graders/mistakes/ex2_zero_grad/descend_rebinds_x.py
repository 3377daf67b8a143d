"""Mistake: descend updates with `x = x - lr * x.grad`, outside no_grad and not in place.

The update is recorded in the graph: the new x is a non-leaf (it has a
grad_fn), so the next backward() does not fill its .grad (it flows back to the
original leaf instead) and `lr * x.grad` fails with None from the second step
on. The original tensor is never updated, and the function does not return it.
"""

from __future__ import annotations

from typing import Callable

import torch

LOSES = ("descend_steps", "descend_clears_grad")


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
        x = x - lr * x.grad
    return x
