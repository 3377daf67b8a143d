"""Mistake: the cosine decays from base_lr to 0, ignoring min_lr.

The shape is right, but the schedule ends below the floor it was given, and with min_lr > 0 every
rate of the decay is too low.
"""

from __future__ import annotations

import math

LOSES = ("cosine_decays", "schedule_endpoints")


def warmup_cosine(step: int, base_lr: float, warmup_steps: int, total_steps: int, min_lr: float) -> float:
    if step < warmup_steps:
        return base_lr * step / warmup_steps
    if step > total_steps:
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return 0.5 * base_lr * (1 + math.cos(math.pi * progress))


def step_decay(step: int, base_lr: float, gamma: float, step_size: int) -> float:
    return base_lr * gamma ** (step // step_size)
