"""Exercise 2 — gradient accumulation and zeroing.

You practise how ``backward()`` *adds* into ``.grad`` instead of overwriting
it, how to clear a gradient in place, and how to write a plain gradient-descent
loop that updates a tensor without recording the update in the graph. Replace
each ``raise NotImplementedError`` with your code, then run
``tensorgrade check ex2_zero_grad`` to test it.
"""

from __future__ import annotations

from typing import Callable

import torch


def accumulate(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, times: int) -> torch.Tensor:
    """Run ``backward()`` several times and let the gradients pile up.

    Args:
        f: a function mapping ``x`` to a scalar tensor.
        x: a leaf tensor with ``requires_grad=True`` and ``x.grad`` of None.
        times: how many times to evaluate ``f(x)`` and call ``backward()``.

    Returns:
        ``x.grad`` after the last call. Do not clear it in between: it should
        hold ``times`` times the gradient of ``f``.

    Example:
        >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
        >>> accumulate(lambda t: (t ** 2).sum(), x, 3)
        tensor([ 6., 12.])

    Hint: each ``backward()`` frees the graph it ran through, so build a fresh
    one (call ``f(x)`` again) every time.
    """
    raise NotImplementedError("accumulate: not implemented yet")


def zero_grad_(x: torch.Tensor) -> None:
    """Clear ``x.grad`` in place.

    Args:
        x: a tensor whose ``.grad`` is either a tensor or None.

    Returns:
        None. Afterwards ``x.grad`` must be the *same tensor object* as before,
        now holding zeros (so anything else holding a reference to it sees the
        zeros too). If ``x.grad`` is None, leave it None and do not fail.

    Example:
        >>> g = x.grad            # say tensor([4., 3.])
        >>> zero_grad_(x)
        >>> x.grad is g, x.grad
        (True, tensor([0., 0.]))

    Hint: methods whose names end in ``_`` modify a tensor in place.
    """
    raise NotImplementedError("zero_grad_: not implemented yet")


def descend(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    """Minimise ``f`` with plain gradient descent, updating ``x`` in place.

    Each step: clear the gradient left by the previous step, backpropagate
    ``f(x)``, then apply ``x <- x - lr * x.grad`` *in place* and without
    recording that update in the autograd graph, so that ``x`` stays a leaf
    that requires grad.

    Args:
        f: a function mapping ``x`` to a scalar loss.
        x: a leaf tensor with ``requires_grad=True``.
        lr: the learning rate.
        steps: the number of steps to take.

    Returns:
        ``x`` itself (the same object, now holding the updated values).

    Example:
        >>> x = torch.tensor([1.0], requires_grad=True)
        >>> descend(lambda t: (t ** 2).sum(), x, lr=0.25, steps=2)  # 1 -> 0.5 -> 0.25
        tensor([0.2500], requires_grad=True)

    Hint: an in-place update of a leaf that requires grad is only allowed
    where autograd is not recording.
    """
    raise NotImplementedError("descend: not implemented yet")
