"""The code to compare for one exercise: the student's definitions of that exercise's functions.

A student may hand in one file per exercise or one file for everything (a .py or a notebook); cutting
out the exercise's own functions (and the private helpers they sit with, in a per-exercise file) makes
both layouts comparable, and keeps other exercises' code out of the comparison.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from tensorgrade.intake.submission import SINGLE_MODULE, Submission
from tensorgrade.spec.course import Exercise


def functions_text(source: str, names: set[str]) -> str | None:
    """The source of the top-level functions in `names`, in file order; None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    return _cut(source, tree, names)


def _cut(source: str, tree: ast.Module, names: set[str]) -> str:
    parts = [ast.get_source_segment(source, node) or "" for node in tree.body
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names]
    return "\n\n".join(p for p in parts if p)


def exercise_sources(sub: Submission, ex: Exercise) -> str:
    """The text of `ex`'s functions in `sub` ('' when it has none); a file that does not parse counts whole."""
    module = sub.modules.get(ex.id)
    if module is None:
        return ""
    return exercise_text(sub.files.get(f"{module}.py", ""), frozenset(f.name for f in ex.spec.functions),
                         own_file=module != SINGLE_MODULE)


@lru_cache(maxsize=4096)  # a class hands in many identical files (untouched stubs, copies): each is cut once
def exercise_text(text: str, names: frozenset[str], *, own_file: bool) -> str:
    """The functions in `names` cut out of `text`, with every top-level function when the file is the
    exercise's own (its private helpers belong to it); the whole text when it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return text
    wanted = set(names)
    if own_file:
        wanted |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return _cut(text, tree, wanted)


def boilerplate_of(ex: Exercise) -> list[str]:
    """What the course gave or expects: the stub's and the reference solution's functions (and whole files)."""
    out = []
    for path in (ex.stub, ex.solution):
        if path is not None and path.is_file():
            text = path.read_text(encoding="utf-8")
            out.append(text)
            cut = functions_text(text, {f.name for f in ex.spec.functions})
            if cut:
                out.append(cut)
    return out
