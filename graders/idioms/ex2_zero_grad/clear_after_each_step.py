"""Idiom: descend clears the gradient after each update; zero_grad_ fills with 0; accumulate retains one graph.

Clearing after the update still clears before every backward pass but the first
(when x.grad is None), as the task asks; afterwards x.grad holds zeros instead of
the last gradient, which the task does not ask about. fill_(0) clears in place
like zero_(). One graph kept alive with retain_graph=True serves every pass.
"""

from __future__ import annotations

import torch


def accumulate(f, x, times):
    y = f(x)
    for _ in range(times):
        y.backward(retain_graph=True)
    return x.grad


def zero_grad_(x):
    if x.grad is not None:
        x.grad.fill_(0)


def descend(f, x, lr, steps):
    for _ in range(steps):
        f(x).backward()
        with torch.no_grad():
            x.sub_(lr * x.grad)
        x.grad.zero_()
    return x
