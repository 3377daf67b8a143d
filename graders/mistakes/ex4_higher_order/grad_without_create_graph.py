"""Mistake: grad_with_graph calls torch.autograd.grad without create_graph=True.

The gradient values are right, but autograd did not record the backward pass,
so the returned tensor has no grad_fn: it cannot be differentiated again.
This is the point of the exercise, so a public check (grad_with_graph_differentiable)
catches it before the student submits.
"""

from __future__ import annotations

from typing import Callable

import torch

LOSES = ("grad_with_graph_differentiable",)


def grad_with_graph(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the gradient of the scalar ``f(x)``, itself differentiable w.r.t. ``x``."""
    (g,) = torch.autograd.grad(f(x), x)
    return g


def hessian_row(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, i: int) -> torch.Tensor:
    """Return row ``i`` of the Hessian: the gradient of ``(grad f)[i]`` w.r.t. ``x``."""
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    if not g[i].requires_grad:  # f is at most linear: the row is zero
        return torch.zeros_like(x)
    (row,) = torch.autograd.grad(g[i], x, materialize_grads=True)
    return row


def nth_derivative(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, n: int) -> torch.Tensor:
    """Return the ``n``-th derivative of ``f`` at the 0-dim tensor ``x`` (``n >= 1``)."""
    d = f(x)
    for _ in range(n):
        if not d.requires_grad:  # d no longer depends on x: all further derivatives are 0
            return torch.zeros_like(x)
        (d,) = torch.autograd.grad(d, x, create_graph=True, materialize_grads=True)
    return d
