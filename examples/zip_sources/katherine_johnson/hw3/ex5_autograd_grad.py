"""Katherine Johnson -- Homework 3, ex5_autograd_grad."""

from __future__ import annotations

from typing import Callable

import torch


def vjp(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Return the vector-Jacobian product ``v^T J`` of ``f`` at ``x``, leaving ``x.grad`` untouched."""
    (g,) = torch.autograd.grad(f(x), x, grad_outputs=v)
    return g


def grads(f: Callable[..., torch.Tensor], inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Return the gradients of the scalar ``f(*inputs)`` w.r.t. each input, in order."""
    return tuple(torch.autograd.grad(f(*inputs), inputs))
