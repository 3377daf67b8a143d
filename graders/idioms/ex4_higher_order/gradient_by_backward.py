"""Idiom: grad_with_graph through backward(create_graph=True); hessian_row from the full Hessian.

backward() with create_graph=True records the backward pass, so x.grad is a
differentiable gradient (the task does not ask to leave x.grad alone here).
Row i of torch.autograd.functional.hessian is row i of the Hessian.
"""

from __future__ import annotations

import torch


def grad_with_graph(f, x):
    f(x).backward(create_graph=True)
    return x.grad


def hessian_row(f, x, i):
    return torch.autograd.functional.hessian(f, x)[i]


def nth_derivative(f, x, n):
    d = f(x)
    for _ in range(n):
        d = torch.autograd.grad(d, x, create_graph=True)[0]
    return d
