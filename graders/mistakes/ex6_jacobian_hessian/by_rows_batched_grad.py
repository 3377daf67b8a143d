"""Mistake: jacobian_by_rows asks torch.autograd.grad for every row at once (is_grads_batched=True).

The matrix is right, but this function must build it one row at a time; batched
gradients run through the same vmap machinery as torch.func and are disabled
while it is graded, so the call raises.
"""

from __future__ import annotations

from typing import Callable

import torch

LOSES = ("jacobian_by_rows_value", "jacobian_by_rows_no_functional")


def jacobian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the (m, n) Jacobian of ``f: R^n -> R^m`` at ``x``."""
    return torch.autograd.functional.jacobian(f, x)


def hessian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the (n, n) Hessian of the scalar ``f`` at the 1-D ``x``."""
    return torch.autograd.functional.hessian(f, x)


def jacobian_by_rows(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Build the (m, n) Jacobian one row at a time with ``torch.autograd.grad``."""
    y = f(x)
    eye = torch.eye(y.shape[0], dtype=y.dtype)
    return torch.autograd.grad(y, x, grad_outputs=eye, is_grads_batched=True)[0]
