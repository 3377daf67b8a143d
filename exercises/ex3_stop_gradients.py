"""Exercise 3 — stopping gradients with ``no_grad()`` and ``detach()``.

You practise computing values that autograd does not track, taking a view of a
tensor that is cut from the graph, and building a loss through which gradients
reach some inputs but not others. Replace each ``raise NotImplementedError``
with your code, then run ``tensorgrade check ex3_stop_gradients`` to test it.
"""

from __future__ import annotations

import torch


def scale_untracked(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Multiply ``x`` by ``factor`` without gradient tracking.

    Args:
        x: a leaf tensor with ``requires_grad=True``.
        factor: a Python float.

    Returns:
        ``x * factor`` as a tensor that does not require grad, has no
        ``grad_fn`` and is not connected to ``x`` in the autograd graph.

    Example:
        >>> x = torch.tensor([2.0, 3.0], requires_grad=True)
        >>> z = scale_untracked(x, 2.0)
        >>> z, z.requires_grad
        (tensor([4., 6.]), False)

    Hint: the seed notebook shows a context manager that switches recording off.
    """
    raise NotImplementedError("scale_untracked: not implemented yet")


def detached(x: torch.Tensor) -> torch.Tensor:
    """Return ``x`` cut from the autograd graph, without copying it.

    Args:
        x: a tensor that requires grad.

    Returns:
        A tensor with the same values that does not require grad and has no
        ``grad_fn``, and that *shares storage* with ``x``: writing into it in
        place changes ``x`` too. Copying the data is not what is asked.

    Example:
        >>> x = torch.tensor([2.0, 3.0], requires_grad=True)
        >>> d = detached(x)
        >>> d.requires_grad, d.data_ptr() == x.data_ptr()
        (False, True)
    """
    raise NotImplementedError("detached: not implemented yet")


def frozen_input_loss(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Build the scalar loss ``sum(x * w)`` with ``x`` frozen.

    Args:
        x: a leaf tensor with ``requires_grad=True`` (the "input").
        w: a leaf tensor with ``requires_grad=True`` and the shape of ``x``
            (the "weights").

    Returns:
        A 0-dim tensor equal to ``(x * w).sum()``. After ``loss.backward()``,
        ``w.grad`` must equal ``x`` while ``x.grad`` stays None: gradients
        reach ``w`` but never ``x``.

    Example:
        >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
        >>> w = torch.tensor([3.0, 4.0], requires_grad=True)
        >>> frozen_input_loss(x, w).backward()
        >>> w.grad, x.grad
        (tensor([1., 2.]), None)

    Hint: stop the gradient on one factor only; ``w`` must still be tracked.
    """
    raise NotImplementedError("frozen_input_loss: not implemented yet")
