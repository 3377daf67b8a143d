"""Mistake: vjp calls f(x).backward(v) and returns x.grad.

backward(v) computes the same vector-Jacobian product, but it accumulates it
into x.grad: whatever x.grad held before is changed (a fresh None becomes the
product, an existing gradient gets the product added).
"""

from __future__ import annotations

from typing import Callable

import torch

LOSES = ("vjp_grad_untouched",)


def vjp(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Return the vector-Jacobian product ``v^T J`` of ``f`` at ``x``, leaving ``x.grad`` untouched."""
    f(x).backward(v)
    return x.grad


def grads(f: Callable[..., torch.Tensor], inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Return the gradients of the scalar ``f(*inputs)`` w.r.t. each input, in order."""
    return tuple(torch.autograd.grad(f(*inputs), inputs))
