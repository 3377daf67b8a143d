"""Idiom: numpy's cos and pi (numpy.float64 results), an interpolation written the other way round,
and step decay by repeated multiplication.

min_lr · (1 − c) + base_lr · c with c = (1 + cos)/2 is the same rate as min_lr + (base_lr − min_lr) · c;
multiplying by gamma k times is gamma ** k up to the last bits. Where a float is asked, a numpy scalar
is a number; floats are compared with the exercise's tolerance, never exactly.
"""

from __future__ import annotations

import numpy as np


def warmup_cosine(step: int, base_lr: float, warmup_steps: int, total_steps: int, min_lr: float) -> float:
    if step < warmup_steps:
        return np.float64(step) / warmup_steps * base_lr
    progress = min(step, total_steps) - warmup_steps
    c = (1 + np.cos(np.pi * progress / (total_steps - warmup_steps))) / 2
    return min_lr * (1 - c) + base_lr * c


def step_decay(step: int, base_lr: float, gamma: float, step_size: int) -> float:
    lr = base_lr
    for _ in range(step // step_size):
        lr *= gamma
    return lr
