"""Mistake: vjp weights the outputs with ones instead of v.

grad_outputs=torch.ones_like(y) gives 1^T J, the gradient of sum(f(x)), for
every v: the weighting vector is ignored.
"""

from __future__ import annotations

from typing import Callable

import torch

LOSES = ("vjp_value",)


def vjp(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Return the vector-Jacobian product ``v^T J`` of ``f`` at ``x``, leaving ``x.grad`` untouched."""
    y = f(x)
    (g,) = torch.autograd.grad(y, x, grad_outputs=torch.ones_like(y))
    return g


def grads(f: Callable[..., torch.Tensor], inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Return the gradients of the scalar ``f(*inputs)`` w.r.t. each input, in order."""
    return tuple(torch.autograd.grad(f(*inputs), inputs))
