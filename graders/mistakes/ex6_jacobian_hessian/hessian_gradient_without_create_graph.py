"""Mistake: hessian takes the Jacobian of a gradient computed without create_graph=True.

The inner torch.autograd.grad call does not record its computation, so the
gradient looks constant to the outer Jacobian: the "Hessian" comes out as
zeros.
"""

from __future__ import annotations

from typing import Callable

import torch

LOSES = ("hessian_value", "hessian_hidden")


def jacobian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the (m, n) Jacobian of ``f: R^n -> R^m`` at ``x``."""
    return torch.autograd.functional.jacobian(f, x)


def hessian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the (n, n) Hessian of the scalar ``f`` at the 1-D ``x``."""
    return torch.autograd.functional.jacobian(lambda t: torch.autograd.grad(f(t), t)[0], x)


def jacobian_by_rows(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Build the (m, n) Jacobian one row at a time with ``torch.autograd.grad``."""
    y = f(x)
    rows = [torch.autograd.grad(y[i], x, retain_graph=True)[0] for i in range(y.shape[0])]
    return torch.stack(rows)
