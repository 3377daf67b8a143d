"""Mistake: frozen_input_loss builds the whole loss under torch.no_grad().

This freezes too much: nothing is recorded, so the loss has no grad_fn and
gradients reach neither x nor w; calling backward() on it raises
"element 0 of tensors does not require grad".
"""

from __future__ import annotations

import torch

LOSES = ("frozen_input_loss_grads",)


def scale_untracked(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Return ``x * factor`` computed without recording it in the autograd graph."""
    with torch.no_grad():
        return x * factor


def detached(x: torch.Tensor) -> torch.Tensor:
    """Return a tensor cut from the graph that shares ``x``'s storage."""
    return x.detach()


def frozen_input_loss(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Return ``sum(x * w)``; gradients flow to ``w`` but never to ``x``."""
    with torch.no_grad():
        return (x * w).sum()
