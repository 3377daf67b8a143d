"""torch's process-wide settings, put back after every student call.

So that nothing one call leaves switched (grad mode, default dtype, anomaly
mode, autocast, a device or function mode held open, ...) changes what the next
check or another exercise observes. The guards already refuse the setters that
outlive a call; this catches what the allowed APIs can still leave behind
(`torch.set_grad_enabled(False)` as a plain call, `with torch.no_grad()` or
`with torch.device("meta")` held open in a suspended generator).
"""

from __future__ import annotations

import torch

_get = (torch.is_grad_enabled, torch.get_default_dtype, torch.is_anomaly_enabled, torch.is_anomaly_check_nan_enabled,
        torch.get_num_threads, torch.are_deterministic_algorithms_enabled,
        lambda: torch.is_autocast_enabled("cpu"), lambda: torch.get_autocast_dtype("cpu"),
        torch._C._len_torch_function_stack, torch._C._len_torch_dispatch_stack)


def snapshot() -> tuple:
    return tuple(get() for get in _get)


def restore(state: tuple) -> bool:
    """Put `state` back; True if anything had changed."""
    now = snapshot()
    if now == state:
        return False
    grad, dtype, anomaly, check_nan, threads, deterministic, autocast, autocast_dtype, modes, dispatch = state
    while torch._C._len_torch_function_stack() > modes:
        torch._C._pop_torch_function_stack()
    while torch._C._len_torch_dispatch_stack() > dispatch:
        torch._C._pop_torch_dispatch_stack()
    torch.set_grad_enabled(grad)
    torch.set_default_dtype(dtype)
    torch.set_anomaly_enabled(anomaly, check_nan)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)
    torch.set_autocast_enabled("cpu", autocast)
    torch.set_autocast_dtype("cpu", autocast_dtype)
    return True
