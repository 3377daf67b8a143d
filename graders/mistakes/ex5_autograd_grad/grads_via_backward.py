"""Mistake: grads calls backward() and collects each input's .grad.

The values are right when the .grad attributes start as None, but backward()
accumulates into every input's .grad, which the task says must stay untouched
(and with pre-existing gradients the returned values are sums).
"""

from __future__ import annotations

from typing import Callable

import torch

LOSES = ("grads_grad_untouched",)


def vjp(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Return the vector-Jacobian product ``v^T J`` of ``f`` at ``x``, leaving ``x.grad`` untouched."""
    (g,) = torch.autograd.grad(f(x), x, grad_outputs=v)
    return g


def grads(f: Callable[..., torch.Tensor], inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Return the gradients of the scalar ``f(*inputs)`` w.r.t. each input, in order."""
    f(*inputs).backward()
    return tuple(t.grad for t in inputs)
