"""Forbid APIs while a student function runs, by watching calls, not source text.

A profile hook sees every call while the function under test runs. A call is
banned when its code object *is* one of the banned modules' code objects
(every function defined in their files, nested ones included: identity, not
file names, which a copy could change) or one of their C functions. Comments
cost nothing; `getattr(torch.autograd, "func" + "tional")` is still caught.
Starting a thread while the function runs is refused (a thread would run
outside the hook). A copy of torch's code under another name cannot be made in
a submission: exec and compile are refused and torch's source does not pass
the policy (it uses "_" internals). The hook's state lives in its closure, out
of reach of student code (run/policy refuses frames and internals).
"""

from __future__ import annotations

import _thread
import importlib
import inspect
import sys
import threading
import types
from dataclasses import dataclass, field

_setprofile, _getprofile = sys.setprofile, sys.getprofile
_SETTERS = (sys.setprofile, sys.settrace, threading.setprofile, threading.settrace)
_THREAD_STARTERS = tuple(getattr(_thread, n) for n in ("start_new_thread", "start_joinable_thread", "start_new")
                         if hasattr(_thread, n))


# How a banned module is named to the student when its name says nothing to them.
LABELS = {"torch._vmap_internals": "batched gradients (torch.autograd.grad with is_grads_batched=True)"}


class BannedCall(Exception):
    """Raised inside student code that calls a banned API."""


@dataclass(frozen=True)
class Banned:
    """The code objects and C functions of some banned modules, each with the name to report."""

    codes: dict = field(default_factory=dict)  # id(code object) -> "module.function"
    cfuncs: dict = field(default_factory=dict)  # id(builtin) -> "module.function"
    keep: tuple = ()  # the code objects and builtins themselves, so their ids stay theirs

    def __bool__(self) -> bool:
        return bool(self.codes or self.cfuncs)


def _codes_of(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes_of(const)


def banned_code(modules: list[str]) -> Banned:
    """Everything that counts as 'using' each banned module: the functions of its files, and its C functions.

    Includes the files that define the module's public functions, since
    `torch.func.jacrev` lives in `torch._functorch.eager_transforms`.
    """
    files: dict[str, str] = {}
    codes: dict = {}
    cfuncs: dict = {}
    keep = []
    for name in modules:
        mod = importlib.import_module(name)
        if getattr(mod, "__file__", None):
            files[mod.__file__] = name
        for attr in dir(mod):
            obj = getattr(mod, attr, None)
            if isinstance(obj, types.BuiltinFunctionType):
                cfuncs[id(obj)] = f"{name}.{attr}"
                keep.append(obj)
                continue
            if attr.startswith("_") or not callable(obj):
                continue
            try:
                src = inspect.getsourcefile(inspect.unwrap(obj))
            except (TypeError, ValueError):
                continue
            if src and "/torch/" in src.replace("\\", "/"):
                files.setdefault(src, name)
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path not in files:
            continue
        for value in list(vars(module).values()):
            for fn in _functions(value):
                if fn.__code__.co_filename != path:
                    continue  # imported into the banned module, defined elsewhere (torch.Tensor's methods, ...)
                for code in _codes_of(fn.__code__):
                    label = LABELS.get(files[path]) or f"{files[path]}.{code.co_name}"
                    codes.setdefault(id(code), label)
                    keep.append(code)
    return Banned(types.MappingProxyType(codes), types.MappingProxyType(cfuncs), tuple(keep))


def _functions(value):
    if isinstance(value, types.FunctionType):
        yield inspect.unwrap(value)
    elif isinstance(value, type):
        for member in vars(value).values():
            member = getattr(member, "__func__", member)
            if isinstance(member, types.FunctionType):
                yield member


class Ban:
    """Context manager: raise BannedCall if banned code runs inside the block (or a thread is started)."""

    def __init__(self, banned: Banned | None, running: str):
        """`running` names what runs, as the student reads it: "jacobian()", "SquarePlus.backward"."""
        self.banned, self.running = banned, running
        self.violation: str | None = None
        self.closing = False

    def __enter__(self):
        if not self.banned:
            return self
        codes, cfuncs, running = self.banned.codes, self.banned.cfuncs, self.running
        starters, setters = _THREAD_STARTERS, _SETTERS
        state = self

        def hook(frame, event, arg):
            if event == "call":
                hit = codes.get(id(frame.f_code))
                if hit is not None:
                    state.violation = state.violation or hit
                    raise BannedCall(f"{hit} may not be used in {running}")
            elif event == "c_call":
                hit = cfuncs.get(id(arg))
                if hit is None and arg in starters:
                    hit = "starting a thread"
                if hit is None and not state.closing and any(arg is setter for setter in setters):
                    hit = "switching off the check for banned APIs"
                if hit is not None:
                    state.violation = state.violation or hit
                    raise BannedCall(f"{hit} may not be used in {running}")

        self._hook = hook
        _setprofile(hook)
        return self

    def __exit__(self, *exc):
        if not self.banned:
            return False
        still_on = _getprofile() is self._hook
        self.closing = True
        _setprofile(None)
        if not still_on and self.violation is None:
            self.violation = "switching off the check for banned APIs"
        if self.violation is not None and exc[0] is None:
            # A caught BannedCall does not make the call legal: the violation sticks.
            raise BannedCall(f"{self.violation} may not be used in {self.running}")
        return False
