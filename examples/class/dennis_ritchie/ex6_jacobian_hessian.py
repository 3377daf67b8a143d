"""Dennis Ritchie -- Homework 3, ex6_jacobian_hessian."""

from __future__ import annotations

from typing import Callable

import torch


def jacobian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the (m, n) Jacobian of ``f: R^n -> R^m`` at ``x``."""
    return torch.autograd.functional.jacobian(f, x)


def hessian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the (n, n) Hessian of the scalar ``f`` at the 1-D ``x``."""
    return torch.autograd.functional.hessian(f, x)


def jacobian_by_rows(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Build the (m, n) Jacobian one row at a time with ``torch.autograd.grad``."""
    y = f(x)
    rows = [torch.autograd.grad(y[i], x, retain_graph=True)[0] for i in range(y.shape[0])]
    return torch.stack(rows)
