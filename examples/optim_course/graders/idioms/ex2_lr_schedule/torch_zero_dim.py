"""Idiom: both schedules computed with torch in float64, returning 0-dim tensors.

A 0-dim tensor of numbers stands for a number wherever a float is asked; the values are the
reference's up to rounding.
"""

from __future__ import annotations

import math

import torch


def warmup_cosine(step: int, base_lr: float, warmup_steps: int, total_steps: int, min_lr: float) -> float:
    s = torch.tensor(float(step), dtype=torch.float64)
    if step < warmup_steps:
        return base_lr * s / warmup_steps
    progress = (s.clamp(max=total_steps) - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * (1 + torch.cos(math.pi * progress)) / 2


def step_decay(step: int, base_lr: float, gamma: float, step_size: int) -> float:
    return base_lr * torch.tensor(gamma, dtype=torch.float64) ** (step // step_size)
