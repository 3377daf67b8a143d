"""Exercise 1 — tensors that track gradients.

You practise creating a tensor that autograd tracks (a *leaf* with
``requires_grad=True``) and computing a gradient with ``backward()``, which
stores the result in the leaf's ``.grad``. Replace each
``raise NotImplementedError`` with your code, then run
``tensorgrade check ex1_requires_grad`` to test it.
"""

from __future__ import annotations

from typing import Callable

import torch


def make_leaf(values: list[float]) -> torch.Tensor:
    """Create a float32 leaf tensor that autograd tracks.

    Args:
        values: a list of Python floats, e.g. ``[2.0, 3.0]``.

    Returns:
        A 1-D ``torch.float32`` tensor holding ``values`` with
        ``requires_grad=True``. It must be a *leaf* (``is_leaf`` is True):
        create it with the flag set, rather than computing it from another
        tracked tensor.

    Example:
        >>> t = make_leaf([2.0, 3.0])
        >>> t.dtype, t.requires_grad, t.is_leaf
        (torch.float32, True, True)

    Hint: ``torch.tensor`` accepts ``dtype=`` and ``requires_grad=`` keywords.
    """
    raise NotImplementedError("make_leaf: not implemented yet")


def gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Compute the gradient of a scalar function with ``backward()``.

    Args:
        f: a function mapping ``x`` to a scalar (0-dim) tensor.
        x: a leaf tensor with ``requires_grad=True`` and ``x.grad`` of None.

    Returns:
        The gradient ``df/dx`` at ``x``, with the same shape as ``x``. It must
        also be left in ``x.grad``: use ``backward()``, which writes into
        ``.grad``, not a function that only returns gradients.

    Example:
        >>> x = torch.tensor([2.0, 3.0], requires_grad=True)
        >>> gradient(lambda t: t[0] ** 2 + 3 * t[1], x)
        tensor([4., 3.])
        >>> x.grad
        tensor([4., 3.])
    """
    raise NotImplementedError("gradient: not implemented yet")
