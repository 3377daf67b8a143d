"""Kevin Mitnick -- Homework 3, ex3_stop_gradients."""

from __future__ import annotations

import torch


def scale_untracked(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Return ``x * factor`` computed without recording it in the autograd graph."""
    with torch.no_grad():
        return x * factor


def detached(x: torch.Tensor) -> torch.Tensor:
    """Return a tensor cut from the graph that shares ``x``'s storage."""
    return x.detach()


def frozen_input_loss(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Return ``sum(x * w)``; gradients flow to ``w`` but never to ``x``."""
    return (x.detach() * w).sum()
