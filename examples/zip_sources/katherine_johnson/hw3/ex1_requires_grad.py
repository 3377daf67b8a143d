"""Katherine Johnson -- Homework 3, ex1_requires_grad."""

from __future__ import annotations

from typing import Callable

import torch


def make_leaf(values: list[float]) -> torch.Tensor:
    """Return a float32 leaf tensor holding ``values`` that autograd tracks."""
    return torch.tensor(values, dtype=torch.float32, requires_grad=True)


def gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Backpropagate the scalar ``f(x)`` into ``x.grad`` and return that gradient."""
    f(x).backward()
    return x.grad
