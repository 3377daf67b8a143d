"""Exercise 2 — learning-rate schedules, on plain Python numbers.

Replace each ``raise NotImplementedError`` with your code, then run
``tensorgrade check ex2_lr_schedule`` to test it.
"""

from __future__ import annotations


def warmup_cosine(step: int, base_lr: float, warmup_steps: int, total_steps: int, min_lr: float) -> float:
    """The learning rate at ``step`` (counted from 0) of a linear warm-up followed by a cosine decay.

    Rises linearly from 0 over ``warmup_steps`` steps, then follows half a cosine from ``base_lr``
    at step ``warmup_steps`` to ``min_lr`` at step ``total_steps``, and stays at ``min_lr`` after.

    Example:
        >>> warmup_cosine(5, base_lr=0.1, warmup_steps=10, total_steps=100, min_lr=0.0)
        0.05
    """
    raise NotImplementedError("warmup_cosine: not implemented yet")


def step_decay(step: int, base_lr: float, gamma: float, step_size: int) -> float:
    """The learning rate at ``step``: ``base_lr`` multiplied by ``gamma`` once every ``step_size`` steps.

    Example:
        >>> step_decay(25, base_lr=0.1, gamma=0.5, step_size=10)   # two decays so far
        0.025
    """
    raise NotImplementedError("step_decay: not implemented yet")
