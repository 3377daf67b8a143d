"""Mistake: jacobian_by_rows reaches torch.autograd.functional through getattr.

Spelling the module name in pieces hides it from a text search, but the ban is
enforced while the code runs, so the call still raises.
"""

from __future__ import annotations

from typing import Callable

import torch

LOSES = ("jacobian_by_rows_value", "jacobian_by_rows_no_functional")


def jacobian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the (m, n) Jacobian of ``f: R^n -> R^m`` at ``x``."""
    return torch.autograd.functional.jacobian(f, x)


def hessian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Return the (n, n) Hessian of the scalar ``f`` at the 1-D ``x``."""
    return torch.autograd.functional.hessian(f, x)


def jacobian_by_rows(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Build the (m, n) Jacobian one row at a time with ``torch.autograd.grad``."""
    helper = getattr(torch.autograd, "func" + "tional")
    return helper.jacobian(f, x)
