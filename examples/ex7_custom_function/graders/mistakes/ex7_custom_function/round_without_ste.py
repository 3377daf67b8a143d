"""Mistake: round_ste rounds with torch.round directly, without the straight-through Function.

The values are right, but autograd's derivative of rounding is zero everywhere: nothing before the
rounding step would ever receive a gradient, which is the problem the estimator exists to solve.
"""

from __future__ import annotations

import torch

LOSES = ("round_ste_forward", "round_ste_gradient", "round_ste_hidden")


class Softplus(torch.autograd.Function):
    """softplus(x) = log(1 + exp(x)), elementwise, with a hand-written backward pass."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return torch.log1p(torch.exp(x))

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(x)


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
    return torch.round(x)
