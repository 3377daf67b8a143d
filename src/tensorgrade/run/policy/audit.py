"""The second net: a CPython audit hook (PEP 578) that refuses what student code should never cause.

Installed in the sandboxed child after the submission is compiled and before
any of it runs; it cannot be removed from Python. The compiler and guards are
the boundary; this hook is what still holds if they had a hole: frames,
tracebacks, `gc` introspection, ctypes, sockets, subprocesses, `os` process and
file-changing calls, code objects made or changed at run time, and files
opened for writing. Events are allowed by name (`rules.ALLOWED_EVENTS`); the
code generators' events (`compile`, `exec`) only when raised by the standard
library's namedtuple and dataclasses (and our loader); the introspection events
(`sys._getframe`, frame and function attributes) whenever the calling frame is
not the submission's own code: libraries use them for their own bookkeeping
(typing, typing_extensions, warnings, torch), and student code cannot reach
them through the policy, so this net is for student frames. A refused event
raises `PolicyError` inside the operation.
"""

from __future__ import annotations

import os
import sys

from tensorgrade.run.policy import rules
from tensorgrade.run.policy.guards import PolicyError

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_installed = False


def _trusted_files() -> dict[str, tuple[str, ...]]:
    """event -> file name prefixes of the callers allowed to raise it."""
    import collections
    import dataclasses
    import enum
    import functools
    import inspect
    import linecache
    import traceback
    import typing
    import warnings

    def where(module) -> str:
        path = module.__file__
        return os.path.dirname(path) + os.sep if path.endswith("__init__.py") else path

    import torch

    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep  # tensorgrade/

    generators = (where(collections), where(dataclasses))
    frames = generators + (where(typing), where(enum), where(warnings), where(functools))
    internals = (where(inspect), where(traceback), where(linecache), os.path.dirname(torch.__file__) + os.sep,
                 package)
    from tensorgrade.run.policy import loader

    return {
        "compile": generators,
        "exec": generators + (loader.__file__,),  # the loader runs the submission's (restricted) code objects
        "sys._getframe": frames + internals,
        "object.__getattr__": internals + frames,
        "object.__setattr__": frames + internals,
    }


def install(on_refusal, student_files: set[str] = frozenset()) -> None:
    """Install the hook (once per process). `on_refusal(event)` records a refusal for the review column;
    `student_files` are the code file names of the submission (a live set: the loader fills it)."""
    global _installed
    if _installed:
        return
    trusted = _trusted_files()
    allowed, gated = rules.ALLOWED_EVENTS, rules.TRUSTED_CALLER_EVENTS
    introspection = frozenset({"sys._getframe", "object.__getattr__", "object.__setattr__"})
    getframe = sys._getframe
    busy = [False]

    def hook(event: str, args: tuple) -> None:
        if event in allowed:
            if event == "open" and not _read_only(args):
                _refuse(f"opening a file for writing ({event})")
            return
        if busy[0]:
            return  # our own frame inspection below
        if event in gated:
            busy[0] = True
            try:
                caller = getframe(1).f_code.co_filename
            finally:
                busy[0] = False
            if caller.startswith(trusted[event]):
                return
            if event in introspection and caller not in student_files and not caller.startswith("<"):
                return  # a library's own bookkeeping, not the submission's code
        if event == "sys.unraisablehook":
            return
        _refuse(event)

    def _refuse(what: str) -> None:
        try:
            on_refusal(what)
        finally:
            raise PolicyError(f"{what} is not allowed in submissions")

    sys.addaudithook(hook)
    _installed = True


def _read_only(args: tuple) -> bool:
    mode, flags = (args[1] if len(args) > 1 else "r"), (args[2] if len(args) > 2 else 0)
    if isinstance(mode, str):
        return not any(c in mode for c in "wax+")
    return not (int(flags or 0) & _WRITE_FLAGS)
