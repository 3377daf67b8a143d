"""Mistake: gradient uses torch.autograd.grad instead of backward().

The returned values are right, but torch.autograd.grad returns the gradient
without accumulating it into the leaf, so x.grad stays None, and the task asks
for the gradient to be left in x.grad as backward() does.
"""

from __future__ import annotations

from typing import Callable

import torch

LOSES = ("gradient_in_x_grad",)


def make_leaf(values: list[float]) -> torch.Tensor:
    """Return a float32 leaf tensor holding ``values`` that autograd tracks."""
    return torch.tensor(values, dtype=torch.float32, requires_grad=True)


def gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Backpropagate the scalar ``f(x)`` into ``x.grad`` and return that gradient."""
    (g,) = torch.autograd.grad(f(x), x)
    return g
