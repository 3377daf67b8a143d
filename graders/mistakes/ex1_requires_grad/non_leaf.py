"""Mistake: make_leaf returns a tensor computed from the leaf (`... * 1`).

`torch.tensor(values, requires_grad=True) * 1` requires grad but is the output
of a MulBackward node, not a leaf: is_leaf is False, and backward() does not
populate its .grad (only leaves get .grad), so it is useless as a parameter.
"""

from __future__ import annotations

from typing import Callable

import torch

LOSES = ("make_leaf_is_leaf", "make_leaf_values")


def make_leaf(values: list[float]) -> torch.Tensor:
    """Return a float32 leaf tensor holding ``values`` that autograd tracks."""
    return torch.tensor(values, dtype=torch.float32, requires_grad=True) * 1


def gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Backpropagate the scalar ``f(x)`` into ``x.grad`` and return that gradient."""
    f(x).backward()
    return x.grad
