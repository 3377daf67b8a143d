"""Mistake: the warm-up counts steps from 1: base_lr · (step + 1) / warmup_steps.

Step 0 then already trains at base_lr / warmup_steps, and the warm-up reaches base_lr one step early.
"""

from __future__ import annotations

import math

LOSES = ("warmup_rises",)


def warmup_cosine(step: int, base_lr: float, warmup_steps: int, total_steps: int, min_lr: float) -> float:
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    if step > total_steps:
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + 0.5 * (base_lr - min_lr) * (1 + math.cos(math.pi * progress))


def step_decay(step: int, base_lr: float, gamma: float, step_size: int) -> float:
    return base_lr * gamma ** (step // step_size)
