"""Exercise 6 — Jacobian and Hessian matrices.

You practise computing whole derivative matrices: the Jacobian of a
vector-valued function and the Hessian of a scalar one, first with any tool
you like, then building the Jacobian yourself one row at a time with
``torch.autograd.grad``. Replace each ``raise NotImplementedError`` with your
code, then run ``tensorgrade check ex6_jacobian_hessian`` to test it.
"""

from __future__ import annotations

from typing import Callable

import torch


def jacobian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the Jacobian matrix of ``f`` at ``x``.

    Args:
        f: a function mapping a 1-D tensor of size n to a 1-D tensor of size m.
        x: a 1-D tensor of size n.

    Returns:
        The (m, n) matrix ``J`` with ``J[i, j] = d f(x)[i] / d x[j]`` (one row
        per output, one column per input).

    Example:
        >>> x = torch.tensor([2.0, 3.0])
        >>> jacobian(lambda t: torch.stack([t[0] * t[1], t.sum(), t[0]]), x)
        tensor([[3., 2.],
                [1., 1.],
                [1., 0.]])

    Any method is accepted; the seed notebook's section 7 shows a ready-made one.
    """
    raise NotImplementedError("jacobian: not implemented yet")


def hessian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the Hessian matrix of a scalar ``f`` at ``x``.

    Args:
        f: a function mapping a 1-D tensor of size n to a scalar tensor.
        x: a 1-D tensor of size n.

    Returns:
        The (n, n) matrix ``H`` with ``H[i, j] = d^2 f / (dx_i dx_j)``.

    Example:
        >>> x = torch.tensor([2.0, 3.0])
        >>> hessian(lambda t: t[0] ** 3 + 2 * t[1] ** 2 + t[0] * t[1], x)
        tensor([[12.,  1.],
                [ 1.,  4.]])

    Any method is accepted: the Hessian is the Jacobian of the gradient.
    """
    raise NotImplementedError("hessian: not implemented yet")


def jacobian_by_rows(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Build the Jacobian of ``f`` at ``x`` one row at a time.

    Args:
        f: a function mapping a 1-D tensor of size n to a 1-D tensor of size m.
        x: a 1-D leaf tensor of size n with ``requires_grad=True``.

    Returns:
        The same (m, n) matrix as ``jacobian(f, x)``. Row ``i`` is the
        gradient of the output component ``f(x)[i]`` with respect to ``x``.

    Rules: use ``torch.autograd.grad`` for each row; ``torch.autograd.functional``
    and ``torch.func`` are disabled while this function is graded.

    Hint: evaluate ``f(x)`` once and differentiate each component of it; a
    graph is freed after it is used unless you ask autograd to keep it.
    """
    raise NotImplementedError("jacobian_by_rows: not implemented yet")
