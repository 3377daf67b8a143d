"""torch's process-wide settings, put back after every student call.

So that nothing one call leaves switched (grad mode, default dtype, anomaly
mode, ...) changes what the next check or another exercise observes. The
guards already refuse the setters that outlive a call; this catches what the
allowed APIs can still leave behind (`torch.set_grad_enabled(False)` as a plain
call, a `with torch.no_grad()` held open in a suspended generator).
"""

from __future__ import annotations

import torch

_get = (torch.is_grad_enabled, torch.get_default_dtype, torch.is_anomaly_enabled, torch.is_anomaly_check_nan_enabled,
        torch.get_num_threads, torch.are_deterministic_algorithms_enabled)


def snapshot() -> tuple:
    return tuple(get() for get in _get)


def restore(state: tuple) -> bool:
    """Put `state` back; True if anything had changed."""
    now = snapshot()
    if now == state:
        return False
    grad, dtype, anomaly, check_nan, threads, deterministic = state
    torch.set_grad_enabled(grad)
    torch.set_default_dtype(dtype)
    torch.set_anomaly_enabled(anomaly, check_nan)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)
    return True
