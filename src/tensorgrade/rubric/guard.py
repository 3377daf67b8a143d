"""Undo monkeypatching by student code before the rubric inspects results.

A snapshot of the namespaces the rubric relies on (builtins, torch, Tensor,
the rubric's own modules) is taken before student code runs; after each
student call, entries that were replaced or deleted are put back and named,
so the submission can be flagged for review.
"""

from __future__ import annotations

import builtins
import operator
import sys

_items, _set, _del, _is = dict.items, setattr, delattr, operator.is_


def _namespace(obj) -> dict:
    return dict(obj.__dict__) if isinstance(obj.__dict__, dict) else dict(obj.__dict__.items())


class Guard:
    def __init__(self, targets: dict[str, object]):
        self.targets = targets
        self.snapshots = {name: _namespace(obj) for name, obj in targets.items()}
        self.values = {name: tuple(snap.values()) for name, snap in self.snapshots.items()}

    @classmethod
    def default(cls) -> "Guard":
        import torch

        names = ["builtins", "torch", "torch.autograd", "torch.autograd.functional"]
        names += [m for m in sys.modules if m.startswith("tensorgrade.rubric")]
        targets = {n: sys.modules[n] for n in names if n in sys.modules}
        targets["torch.Tensor"] = torch.Tensor
        targets["torch._C.TensorBase"] = torch._C.TensorBase
        return cls(targets)

    def restore(self) -> list[str]:
        """Put back every replaced or deleted entry; return their dotted names."""
        tampered = []
        for name, obj in self.targets.items():
            before = self.snapshots[name]
            now = obj.__dict__
            if len(now) == len(before) and all(map(_is, now.values(), self.values[name])):
                continue  # fast path, in C: nothing was added, replaced or deleted
            for key, value in _items(before):
                if key in now and now[key] is value:
                    continue
                if key in ("__doc__",) or (name == "builtins" and key in ("_", "__spec__")):
                    continue
                tampered.append(f"{name}.{key}")
                try:
                    if isinstance(now, dict):
                        now[key] = value
                    else:
                        _set(obj, key, value)
                except (AttributeError, TypeError):
                    pass
            if not isinstance(now, dict):  # a class: anything added (Tensor.__eq__ = ...) is tampering
                for key in [k for k in now if k not in before]:
                    tampered.append(f"{name}.{key}")
                    try:
                        _del(obj, key)
                    except (AttributeError, TypeError):
                        pass
        return tampered


__all__ = ["Guard", "builtins"]
