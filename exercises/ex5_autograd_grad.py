"""Exercise 5 — custom gradients with ``torch.autograd.grad``.

You practise ``torch.autograd.grad``, which *returns* gradients instead of
accumulating them into ``.grad``: vector-Jacobian products of vector-valued
functions, and gradients with respect to several inputs at once. Replace each
``raise NotImplementedError`` with your code, then run
``tensorgrade check ex5_autograd_grad`` to test it.
"""

from __future__ import annotations

from typing import Callable

import torch


def vjp(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Return the vector-Jacobian product ``v^T . df/dx``.

    Args:
        f: a function mapping the 1-D tensor ``x`` (size n) to a 1-D tensor
            (size m, where m may differ from n).
        x: a leaf tensor with ``requires_grad=True``; its ``.grad`` may already
            hold something.
        v: a 1-D tensor of size m (the shape of ``f(x)``).

    Returns:
        A tensor shaped like ``x``: ``sum_k v[k] * d f(x)[k] / dx``. ``x.grad``
        must be left exactly as it was.

    Example:
        >>> a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> vjp(lambda t: t * torch.tensor([2.0, 3.0, 4.0]), a, torch.ones(3))
        tensor([2., 3., 4.])

    Hint: the seed notebook's section 6 uses the keyword that weights the outputs.
    """
    raise NotImplementedError("vjp: not implemented yet")


def grads(f: Callable[..., torch.Tensor], inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Return the gradients of a scalar function of several tensors.

    Args:
        f: a function taking ``len(inputs)`` tensors as positional arguments
            and returning a scalar tensor.
        inputs: a tuple of leaf tensors with ``requires_grad=True``.

    Returns:
        A tuple with one gradient per input, in the order of ``inputs``, each
        shaped like its input. No ``.grad`` attribute may change.

    Example:
        >>> a = torch.tensor([1.0, 2.0], requires_grad=True)
        >>> b = torch.tensor([3.0, 4.0], requires_grad=True)
        >>> grads(lambda p, q: (p * q).sum(), (a, b))
        (tensor([3., 4.]), tensor([1., 2.]))
    """
    raise NotImplementedError("grads: not implemented yet")
