"""Autograd facts about tensors: graph paths, storage sharing, gradient state.

Pure functions that never raise on odd input (a student may return a list, a
subclass or None); they read tensors only through `rubric.safe`.
"""

from __future__ import annotations

from tensorgrade.rubric import safe

MAX_NODES = 10_000


def node_name(node) -> str:
    name = type(node).__name__
    if name == "AccumulateGrad":
        return "AccumulateGrad"
    return name


def graph_path(y, x) -> list[str] | None:
    """The chain of autograd nodes from `y` back to the leaf `x`, or None if `y` does not reach `x`.

    Walks `grad_fn.next_functions` breadth-first; a leaf is reached at the
    AccumulateGrad node whose `.variable` is `x`. `y = x * 0` is connected.
    """
    if not safe.is_tensor(y) or not safe.is_tensor(x):
        return None
    if y is x:
        return ["(x itself)"]
    start = safe.grad_fn(y)
    if start is None:
        return None
    parents = {id(start): None}
    nodes = {id(start): start}
    queue = [start]
    while queue and len(nodes) < MAX_NODES:
        node = queue.pop(0)
        if type(node).__name__ == "AccumulateGrad" and getattr(node, "variable", None) is x:
            path = []
            key = id(node)
            while key is not None:
                path.append(node_name(nodes[key]))
                key = parents[key]
            return list(reversed(path))
        for nxt, _ in getattr(node, "next_functions", ()) or ():
            if nxt is not None and id(nxt) not in nodes:
                nodes[id(nxt)] = nxt
                parents[id(nxt)] = id(node)
                queue.append(nxt)
    return None


def show_path(path: list[str] | None) -> str:
    return "not connected" if path is None else "connected: " + " → ".join(path)


def shares_storage(a, b) -> bool:
    """Do `a` and `b` read and write the same memory (views, detach(), .data)?"""
    if not (safe.is_tensor(a) and safe.is_tensor(b)):
        return False
    ptr = safe.storage_ptr(a)
    return ptr != 0 and ptr == safe.storage_ptr(b)  # empty tensors have no storage to share


def requires_grad(t) -> bool | None:
    return safe.requires_grad(t) if safe.is_tensor(t) else None


def is_leaf(t) -> bool | None:
    return safe.is_leaf(t) if safe.is_tensor(t) else None


def grad_fn_name(t) -> str | None:
    """Name of the node that created `t` ('MulBackward0'), or None for leaves and untracked tensors."""
    if not safe.is_tensor(t):
        return None
    fn = safe.grad_fn(t)
    return None if fn is None else type(fn).__name__


def grad_of(t):
    """`t.grad` read without trusting Tensor's Python-level attributes."""
    return safe.grad(t) if safe.is_tensor(t) else None


def kind(obj) -> str:
    """'tensor', 'None', 'tuple or list', or the Python type name: what a function returned, in words."""
    if obj is None:
        return "None"
    if safe.is_plain_tensor(obj):
        return "tensor"
    if type(obj) in (tuple, list):
        return "tuple or list"
    return type(obj).__name__


def yes_no(flag) -> str:
    return {True: "yes", False: "no", None: "not a tensor"}[flag]
