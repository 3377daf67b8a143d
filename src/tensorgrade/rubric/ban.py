"""Forbid APIs while a student function runs, by watching calls, not source text.

A profile hook (installed for this thread and for threads the code starts)
sees every Python-level call. When the called code lives in a banned module,
the hook raises `BannedCall` inside the student's code. Comments cost nothing;
`getattr(torch.autograd, "func" + "tional")` is still caught. Switching the
hook off from inside the student's code is detected after the call.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import threading

_setprofile, _getprofile = sys.setprofile, sys.getprofile
_thread_setprofile = threading.setprofile
_SETTERS = (sys.setprofile, sys.settrace, threading.setprofile, threading.settrace)


class BannedCall(Exception):
    """Raised inside student code that calls a banned API."""


def banned_files(modules: list[str]) -> dict[str, str]:
    """Source files whose code counts as 'using' each banned module, mapped to the module name.

    Includes the files that define the module's public functions, since
    `torch.func.jacrev` lives in `torch._functorch.eager_transforms`.
    """
    files: dict[str, str] = {}
    for name in modules:
        mod = importlib.import_module(name)
        if getattr(mod, "__file__", None):
            files[mod.__file__] = name
        for attr in dir(mod):
            if attr.startswith("_"):
                continue
            obj = getattr(mod, attr, None)
            if not callable(obj):
                continue
            try:
                src = inspect.getsourcefile(inspect.unwrap(obj))
            except (TypeError, ValueError):
                continue
            if src and "/torch/" in src.replace("\\", "/"):
                files.setdefault(src, name)
    return files


class Ban:
    """Context manager: raise BannedCall if code from `files` runs inside the block."""

    def __init__(self, files: dict[str, str], function: str):
        self.files, self.function = files, function
        self.violation: str | None = None
        self._closing = False

    def _hook(self, frame, event, arg):
        if event == "call":
            module = self.files.get(frame.f_code.co_filename)
            if module is not None:
                self.violation = self.violation or f"{module}.{frame.f_code.co_name}"
                raise BannedCall(f"{module}.{frame.f_code.co_name} may not be used in {self.function}()")
        elif event == "c_call" and not self._closing and any(arg is setter for setter in _SETTERS):
            self.violation = self.violation or "sys.setprofile (the ban was switched off)"
            raise BannedCall(f"{self.function}() switched off the check for banned APIs")

    def __enter__(self):
        if self.files:
            _setprofile(self._hook)
            _thread_setprofile(self._hook)
        return self

    def __exit__(self, *exc):
        if not self.files:
            return False
        still_on = _getprofile() == self._hook
        self._closing = True
        _setprofile(None)
        _thread_setprofile(None)
        if not still_on and self.violation is None:
            self.violation = "sys.setprofile (the ban was switched off)"
        if self.violation is not None and exc[0] is None:
            # A caught BannedCall does not make the call legal: the violation sticks.
            raise BannedCall(f"{self.violation} may not be used in {self.function}()"
                             if "switched off" not in self.violation
                             else f"{self.function}() switched off the check for banned APIs")
        return False
