"""Mistake: make_leaf forgets requires_grad=True.

The result is a plain float32 tensor: autograd does not track operations on it,
so nothing can ever be differentiated with respect to it and its .grad stays
None after backward().
"""

from __future__ import annotations

from typing import Callable

import torch

LOSES = ("make_leaf_is_leaf", "make_leaf_values")


def make_leaf(values: list[float]) -> torch.Tensor:
    """Return a float32 leaf tensor holding ``values`` that autograd tracks."""
    return torch.tensor(values, dtype=torch.float32)


def gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Backpropagate the scalar ``f(x)`` into ``x.grad`` and return that gradient."""
    f(x).backward()
    return x.grad
