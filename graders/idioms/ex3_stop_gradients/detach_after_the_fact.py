"""Idiom: scale_untracked detaches the product; detached uses x.data; frozen_input_loss uses torch.dot.

(x * factor).detach() is as untracked as a product under no_grad(); x.data is a
view of x's storage that autograd does not track, as x.detach() is; torch.dot of
a detached x with w is the same scalar sum(x * w).
"""

from __future__ import annotations

import torch


def scale_untracked(x, factor):
    return (x * factor).detach()


def detached(x):
    return x.data


def frozen_input_loss(x, w):
    return torch.dot(x.detach(), w)
