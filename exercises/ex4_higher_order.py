"""Exercise 4 — higher-order gradients.

You practise differentiating a gradient again: keeping the graph of a gradient
computation so that the gradient is itself differentiable, taking one row of a
Hessian, and taking derivatives of any order. Replace each
``raise NotImplementedError`` with your code, then run
``tensorgrade check ex4_higher_order`` to test it.
"""

from __future__ import annotations

from typing import Callable

import torch


def grad_with_graph(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the gradient of ``f`` as a differentiable tensor.

    Args:
        f: a function mapping the 1-D tensor ``x`` to a scalar tensor.
        x: a leaf tensor with ``requires_grad=True``.

    Returns:
        ``df/dx`` at ``x`` (shape of ``x``) that is itself part of the autograd
        graph: it has a ``grad_fn`` and can be differentiated again w.r.t. ``x``.

    Example:
        >>> x = torch.tensor([2.0, 3.0], requires_grad=True)
        >>> g = grad_with_graph(lambda t: t[0] ** 3 + 2 * t[1] ** 2, x)
        >>> g
        tensor([12., 12.], grad_fn=...)

    Hint: ``torch.autograd.grad`` discards the graph of the gradient
    computation unless you ask it to build one.
    """
    raise NotImplementedError("grad_with_graph: not implemented yet")


def hessian_row(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, i: int) -> torch.Tensor:
    """Return row ``i`` of the Hessian of ``f`` at ``x``.

    Args:
        f: a function mapping the 1-D tensor ``x`` to a scalar tensor.
        x: a leaf tensor with ``requires_grad=True``.
        i: the row index, ``0 <= i < x.numel()``.

    Returns:
        The gradient, with respect to ``x``, of the ``i``-th component of the
        gradient of ``f``: a tensor shaped like ``x`` whose ``j``-th entry is
        ``d^2 f / (dx_i dx_j)``.

    Example:
        >>> x = torch.tensor([2.0, 3.0], requires_grad=True)
        >>> hessian_row(lambda t: t[0] ** 3 + 2 * t[1] ** 2, x, 0)
        tensor([12.,  0.])

    Hint: the seed notebook's "Higher-Order Gradients" section does this for ``i = 0``.
    """
    raise NotImplementedError("hessian_row: not implemented yet")


def nth_derivative(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, n: int) -> torch.Tensor:
    """Return the ``n``-th derivative of ``f`` at a scalar ``x``.

    Args:
        f: a function mapping a 0-dim tensor to a 0-dim tensor.
        x: a 0-dim leaf tensor with ``requires_grad=True``.
        n: the order of the derivative, ``n >= 1``.

    Returns:
        A 0-dim tensor holding ``d^n f / dx^n`` at ``x``.

    Example:
        >>> x = torch.tensor(2.0, requires_grad=True)
        >>> nth_derivative(lambda t: t ** 3, x, 2)   # 6 * x
        tensor(12., grad_fn=...)
        >>> nth_derivative(lambda t: t ** 2, x, 3)   # the third derivative of x**2
        tensor(0.)

    Hint: differentiate ``n`` times, keeping a graph each time. Once a
    derivative no longer depends on ``x`` (it is a constant), every further
    derivative is zero, but autograd may refuse to differentiate it or give
    ``None``: handle that case.
    """
    raise NotImplementedError("nth_derivative: not implemented yet")
