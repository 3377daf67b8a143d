"""Mistake: detached rebuilds the tensor from Python numbers: `torch.tensor(x.tolist())`.

This goes through Python lists and creates a brand-new tensor: it is untracked,
but it is a copy with its own storage, not a detached view of x.
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
    return torch.tensor(x.tolist(), dtype=x.dtype)


def frozen_input_loss(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Return ``sum(x * w)``; gradients flow to ``w`` but never to ``x``."""
    return (x.detach() * w).sum()
