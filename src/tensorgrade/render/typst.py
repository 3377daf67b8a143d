"""Typst source to PDF bytes, with the data passed as JSON (no escaping needed).

The template's Typst source reads `json(bytes(sys.inputs.data))`, so student
ids, feedback and titles never become Typst markup. One `typst.Compiler` is
kept per process and template folder: its caches (fonts, parsed source,
layout) make every later compile of the same source a few milliseconds.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

from tensorgrade.spec.errors import SpecError

_lock = threading.Lock()
_compilers: dict[str, object] = {}


class TypstUnavailable(SpecError):
    """The `typst` package is not installed (pip install 'tensorgrade[pdf]')."""


class TypstCompileError(SpecError):
    """Typst rejected the source; the message names the template."""


def _typst():
    try:
        import typst
    except ImportError:
        raise TypstUnavailable("PDF output needs the typst package: pip install 'typst>=0.12'") from None
    return typst


def available() -> bool:
    try:
        _typst()
        return True
    except TypstUnavailable:
        return False


def _compiler(root: Path | None):
    typst = _typst()
    key = str(root or "")
    with _lock:
        comp = _compilers.get(key)
        if comp is None:
            comp = typst.Compiler(root=str(root)) if root else typst.Compiler()
            _compilers[key] = comp
        return comp


def compile_pdf(source: str, data, *, root: Path | None = None, template: str = "template") -> bytes:
    """PDF bytes of Typst `source`, with `data` readable as `json(bytes(sys.inputs.data))`."""
    typst = _typst()
    comp = _compiler(root)
    payload = json.dumps(data, ensure_ascii=False, default=str)
    try:
        with _lock:  # one compiler per root; its methods are not documented as thread-safe
            return comp.compile(input=source.encode("utf-8"), format="pdf", sys_inputs={"data": payload})
    except typst.TypstError as exc:
        raise TypstCompileError(f"{template}: Typst error in the rendered template: {_describe(exc, source)}") from None


def _describe(exc, source: str) -> str:
    """The message, the line of the rendered source it points at, and Typst's hints."""
    msg = str(getattr(exc, "message", None) or exc).strip()
    text = msg.splitlines()[0] if msg else repr(exc)
    diag = str(getattr(exc, "diagnostic", "") or "")
    m = re.search(r"\.typ:(\d+):(\d+)", diag)
    if m:
        line = int(m.group(1))
        lines = source.splitlines()
        shown = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        text += f" (line {line} of the rendered Typst source: {shown[:160]})"
    hints = getattr(exc, "hints", None)
    if hints:
        text += " — hint: " + "; ".join(map(str, hints))
    return text
