"""Mistake: make_leaf builds the leaf with dtype=torch.float64.

The tensor is a tracked leaf, but it is double precision, not the float32 the
task asks for (the default dtype of model parameters). A leaf's dtype is part
of what autograd tracks: its gradient will be float64 too.
"""

from __future__ import annotations

from typing import Callable

import torch

LOSES = ("make_leaf_is_leaf", "make_leaf_values")


def make_leaf(values: list[float]) -> torch.Tensor:
    """Return a float32 leaf tensor holding ``values`` that autograd tracks."""
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Backpropagate the scalar ``f(x)`` into ``x.grad`` and return that gradient."""
    f(x).backward()
    return x.grad
