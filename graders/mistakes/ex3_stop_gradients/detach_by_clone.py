"""Mistake: detached returns `x.clone().detach()`.

The result is cut from the graph, but clone() copied the data: it no longer
shares storage with x, so in-place writes to one are not seen by the other.
detach() alone returns a view of the same memory.
"""

from __future__ import annotations

import torch

LOSES = ("detached_shares_storage", "detached_cut")


def scale_untracked(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Return ``x * factor`` computed without recording it in the autograd graph."""
    with torch.no_grad():
        return x * factor


def detached(x: torch.Tensor) -> torch.Tensor:
    """Return a tensor cut from the graph that shares ``x``'s storage."""
    return x.clone().detach()


def frozen_input_loss(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Return ``sum(x * w)``; gradients flow to ``w`` but never to ``x``."""
    return (x.detach() * w).sum()
