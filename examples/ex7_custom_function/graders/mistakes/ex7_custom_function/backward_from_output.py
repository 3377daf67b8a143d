"""Mistake: Softplus.backward takes the sigmoid of the saved *output* instead of the input.

forward saves y = softplus(x) and backward returns grad_output · σ(y): the derivative is σ(x), taken at
the input; saving the output works only with the formula in terms of y (σ(x) = 1 − e^(−y)).
"""

from __future__ import annotations

import torch

LOSES = ("softplus_backward", "softplus_gradcheck", "softplus_hidden")


class Softplus(torch.autograd.Function):
    """softplus(x) = log(1 + exp(x)), elementwise, with a hand-written backward pass."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        y = torch.log1p(torch.exp(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        (y,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(y)


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
