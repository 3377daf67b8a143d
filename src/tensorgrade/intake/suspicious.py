"""Flag submissions for manual review: code that reaches for the grader's machinery.

Flags never change a grade. They point an instructor at submissions that
touch what a sandboxed process cannot fully protect from inside itself
(sys.modules, gc, ctypes, profile hooks, forking, signals, sockets).
"""

from __future__ import annotations

import ast
import re

MODULES = {"gc", "ctypes", "subprocess", "socket", "signal", "multiprocessing", "importlib", "builtins", "pty",
           "resource", "threading", "inspect"}
ATTRIBUTES = {"sys.modules", "sys.setprofile", "sys.settrace", "sys._getframe", "os.fork", "os.forkpty", "os.system",
              "os.kill", "os.killpg", "os._exit", "os.setsid", "os.exec", "os.spawn", "os.popen", "os.dup2",
              "sys.exit", "os.write", "os.fdopen", "os.dup", "os.open"}  # os.write(3, ...) could forge grader messages
NAMES = {"__builtins__", "__import__", "__subclasses__", "__globals__", "__code__"}
# Cheap pre-filter: ordinary autograd code mentions none of these words, so it is never parsed.
_WORDS = re.compile(r"\b(" + "|".join(sorted({*MODULES, *NAMES, "sys", "os"})) + r")\b")


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Name):
        return node.id
    return None


def suspicious(source: str) -> list[str]:
    """Sorted reasons this source deserves a look; [] for ordinary autograd code."""
    if not _WORDS.search(source):
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {f"imports {a.name}" for a in node.names if a.name.split(".")[0] in MODULES}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in MODULES:
            found.add(f"imports {node.module}")
        elif isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted and any(dotted == a or dotted.startswith(a) for a in ATTRIBUTES):
                found.add(f"uses {dotted}")
            if node.attr in NAMES:
                found.add(f"uses {node.attr}")
        elif isinstance(node, ast.Name) and node.id in NAMES:
            found.add(f"uses {node.id}")
    return sorted(found)
