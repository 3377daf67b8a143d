"""Mistake: step_decay counts (step + 1) // step_size decays, so the rate drops one step before each multiple."""

from __future__ import annotations

import math

LOSES = ("step_decay_value",)


def warmup_cosine(step: int, base_lr: float, warmup_steps: int, total_steps: int, min_lr: float) -> float:
    if step < warmup_steps:
        return base_lr * step / warmup_steps
    if step > total_steps:
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + 0.5 * (base_lr - min_lr) * (1 + math.cos(math.pi * progress))


def step_decay(step: int, base_lr: float, gamma: float, step_size: int) -> float:
    return base_lr * gamma ** ((step + 1) // step_size)
