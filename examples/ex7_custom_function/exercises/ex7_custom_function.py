"""Exercise 7 — a custom ``torch.autograd.Function``.

You write the forward and the backward pass of an operation yourself: softplus,
whose gradient autograd could compute but which you define by hand, and a
rounding step with a straight-through gradient, which autograd would get
"right" (zero) and useless. Replace each ``raise NotImplementedError`` with
your code, then run ``tensorgrade check ex7_custom_function`` to test it.
"""

from __future__ import annotations

import torch


class Softplus(torch.autograd.Function):
    """softplus(x) = log(1 + exp(x)), elementwise, with a hand-written backward pass."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        """Return log(1 + exp(x)) elementwise; save what ``backward`` needs on ``ctx``.

        Example:
            >>> Softplus.apply(torch.tensor([0.0]))
            tensor([0.6931], grad_fn=<SoftplusBackward>)

        Hint: ``ctx.save_for_backward(t)`` keeps a tensor; ``ctx.saved_tensors`` gives it back.
        """
        raise NotImplementedError("Softplus.forward: not implemented yet")

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        """Return the gradient with respect to ``x``: ``grad_output`` times the derivative of softplus.

        ``grad_output`` is the gradient of the final loss with respect to forward's result.
        """
        raise NotImplementedError("Softplus.backward: not implemented yet")


def softplus(x: torch.Tensor) -> torch.Tensor:
    """Apply ``Softplus`` to ``x`` (with ``Softplus.apply``, never by calling ``forward`` yourself)."""
    raise NotImplementedError("softplus: not implemented yet")


class RoundSTE(torch.autograd.Function):
    """Round to the nearest integer; let the gradient through unchanged (straight-through estimator)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        """Return ``x`` rounded to the nearest integer, elementwise (same shape and dtype)."""
        raise NotImplementedError("RoundSTE.forward: not implemented yet")

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        """Return the gradient with respect to ``x``, as if the rounding were the identity."""
        raise NotImplementedError("RoundSTE.backward: not implemented yet")


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """Apply ``RoundSTE`` to ``x``."""
    raise NotImplementedError("round_ste: not implemented yet")
