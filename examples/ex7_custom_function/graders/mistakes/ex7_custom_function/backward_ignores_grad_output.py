"""Mistake: Softplus.backward returns the derivative σ(x) alone, ignoring grad_output.

That is the gradient only when softplus's output is the loss itself and the incoming gradient is all
ones; inside a longer computation (or for gradcheck's unit vectors) the chain rule needs grad_output · σ(x).
"""

from __future__ import annotations

import torch

LOSES = ("softplus_backward", "softplus_gradcheck", "softplus_hidden")


class Softplus(torch.autograd.Function):
    """softplus(x) = log(1 + exp(x)), elementwise, with a hand-written backward pass."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return torch.log1p(torch.exp(x))

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return torch.sigmoid(x)


def softplus(x: torch.Tensor) -> torch.Tensor:
    return Softplus.apply(x)


class RoundSTE(torch.autograd.Function):
    """Round to the nearest integer; let the gradient through unchanged (straight-through estimator)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        return grad_output


def round_ste(x: torch.Tensor) -> torch.Tensor:
    return RoundSTE.apply(x)
