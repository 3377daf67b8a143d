"""Homework 3 (PyTorch autograd) -- Barbara Liskov.

All six exercises in one file, as the submission instructions allow.
"""

from __future__ import annotations

from typing import Callable

import torch


# ---------------------------------------------------------------- ex1_requires_grad

def make_leaf(values: list[float]) -> torch.Tensor:
    """Return a float32 leaf tensor holding ``values`` that autograd tracks."""
    return torch.tensor(values, dtype=torch.float32, requires_grad=True)


def gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Backpropagate the scalar ``f(x)`` into ``x.grad`` and return that gradient."""
    f(x).backward()
    return x.grad


# ---------------------------------------------------------------- ex2_zero_grad

def accumulate(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, times: int) -> torch.Tensor:
    """Call ``backward()`` on ``f(x)`` ``times`` times without clearing; return ``x.grad``."""
    for _ in range(times):
        f(x).backward()
    return x.grad


def zero_grad_(x: torch.Tensor) -> None:
    """Zero ``x.grad`` in place (same tensor object); leave a ``None`` gradient alone."""
    if x.grad is not None:
        x.grad.zero_()


def descend(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    """Run ``steps`` steps of gradient descent on ``f``, updating ``x`` in place; return ``x``."""
    for _ in range(steps):
        if x.grad is not None:
            x.grad.zero_()
        f(x).backward()
        with torch.no_grad():
            x -= lr * x.grad
    return x


# ---------------------------------------------------------------- ex3_stop_gradients

def scale_untracked(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Return ``x * factor`` computed without recording it in the autograd graph."""
    with torch.no_grad():
        return x * factor


def detached(x: torch.Tensor) -> torch.Tensor:
    """Return a tensor cut from the graph that shares ``x``'s storage."""
    return x.detach()


def frozen_input_loss(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Return ``sum(x * w)``; gradients flow to ``w`` but never to ``x``."""
    return (x.detach() * w).sum()


# ---------------------------------------------------------------- ex4_higher_order

def grad_with_graph(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the gradient of the scalar ``f(x)``, itself differentiable w.r.t. ``x``."""
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
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


# ---------------------------------------------------------------- ex5_autograd_grad

def vjp(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Return the vector-Jacobian product ``v^T J`` of ``f`` at ``x``, leaving ``x.grad`` untouched."""
    (g,) = torch.autograd.grad(f(x), x, grad_outputs=v)
    return g


def grads(f: Callable[..., torch.Tensor], inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Return the gradients of the scalar ``f(*inputs)`` w.r.t. each input, in order."""
    return tuple(torch.autograd.grad(f(*inputs), inputs))


# ---------------------------------------------------------------- ex6_jacobian_hessian

def jacobian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the (m, n) Jacobian of ``f: R^n -> R^m`` at ``x``."""
    return torch.autograd.functional.jacobian(f, x)


def hessian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the (n, n) Hessian of the scalar ``f`` at the 1-D ``x``."""
    return torch.autograd.functional.hessian(f, x)


def jacobian_by_rows(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Build the (m, n) Jacobian one row at a time with ``torch.autograd.grad``."""
    y = f(x)
    rows = [torch.autograd.grad(y[i], x, retain_graph=True)[0] for i in range(y.shape[0])]
    return torch.stack(rows)
