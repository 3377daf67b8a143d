"""Mistake: grads returns the gradients in reverse order.

torch.autograd.grad returns one gradient per input, in the order of the inputs
it was given; reversing them pairs each gradient with the wrong tensor.
"""

from __future__ import annotations

from typing import Callable

import torch

LOSES = ("grads_values",)


def vjp(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Return the vector-Jacobian product ``v^T J`` of ``f`` at ``x``, leaving ``x.grad`` untouched."""
    (g,) = torch.autograd.grad(f(x), x, grad_outputs=v)
    return g


def grads(f: Callable[..., torch.Tensor], inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Return the gradients of the scalar ``f(*inputs)`` w.r.t. each input, in order."""
    return tuple(reversed(torch.autograd.grad(f(*inputs), inputs)))
