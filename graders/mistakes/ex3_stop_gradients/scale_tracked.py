"""Mistake: scale_untracked computes `x * factor` with autograd recording.

The values are right, but the product is recorded: it requires grad, has a
MulBackward grad_fn and is connected to x, so a backward() through it would
reach x.
"""

from __future__ import annotations

import torch

LOSES = ("scale_untracked_value", "scale_untracked_unconnected")


def scale_untracked(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Return ``x * factor`` computed without recording it in the autograd graph."""
    return x * factor


def detached(x: torch.Tensor) -> torch.Tensor:
    """Return a tensor cut from the graph that shares ``x``'s storage."""
    return x.detach()


def frozen_input_loss(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Return ``sum(x * w)``; gradients flow to ``w`` but never to ``x``."""
    return (x.detach() * w).sum()
