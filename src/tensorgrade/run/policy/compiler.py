"""Compile a submission's source under the policy: RestrictedPython with our rules.

RestrictedPython rewrites attribute reads into `_getattr_(obj, name)`, writes
into `_write_(obj).name = value`, iteration, unpacking and `print` into calls
of hooks we provide (`guards`), and refuses at compile time every name and
attribute that starts with "_" and the frame/code/generator attributes.

Our transformer differs from RestrictedPython's default in what honest
autograd code needs: private helpers (`_helper`, `for _ in ...`) and the dunder
methods of `rules.ALLOWED_DUNDER_DEFS` may be defined, `__name__` read,
`super().__init__()` called, `nonlocal` and annotated assignments used. Names
of the hook protocol (`_getattr_`, `_write_`, `_print`, ...: "_" at both ends)
stay refused, so student code cannot rebind the guards. Attribute writes carry
their line number, so an ignored write can be reported where it happened.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer, copy_locations

from tensorgrade.run.policy import rules

RESERVED = frozenset({"_print", "_print_", "printed", "__metaclass__"})


def _name_allowed(name: str, *, definition: bool, load: bool) -> bool:
    if not name.startswith("_") or name == "_":
        return True
    if name.startswith("__"):
        return (load and name in rules.READABLE_DUNDERS) or (definition and name in rules.ALLOWED_DUNDER_DEFS)
    return not name.endswith("_") and name not in RESERVED


def _located(new: ast.AST, old: ast.AST) -> ast.AST:
    copy_locations(new, old)
    return new


class PolicyTransformer(RestrictingNodeTransformer):
    """RestrictedPython's transformer, fitted to autograd homework (see module docstring)."""

    def check_name(self, node, name, allow_magic_methods=False):
        if name is None:
            return
        if name in ("print", "printed", "builtins", "breakpoint"):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                return None  # `import builtins` binds a refusing stand-in at run time (guards.import_)
            if not isinstance(node, ast.Name):
                return super().check_name(node, name, allow_magic_methods)
        in_class_body = allow_magic_methods and getattr(node, "col_offset", 0) != 0
        load = isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)  # __name__ may be read, never bound
        if not _name_allowed(name, definition=in_class_body, load=load):
            what = "a method name" if allow_magic_methods else "a name"
            self.error(node, f'"{name}" is not allowed as {what} in submissions '
                             '(names starting with "__", or with "_" at both ends, are reserved)')

    def visit_Attribute(self, node):
        if (isinstance(node.ctx, ast.Load) and node.attr == "__init__" and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name) and node.value.func.id == "super"):
            node.value = self.visit(node.value)  # super().__init__(...): the one dunder method honest code calls
            return node
        if isinstance(node.ctx, ast.Load) and node.attr in rules.READABLE_ATTRIBUTES:
            node = self.node_contents_visit(node)  # a plain string (torch.__version__, f.__name__), through the guard
            call = ast.Call(func=ast.Name("_getattr_", ast.Load()),
                            args=[node.value, _located(ast.Constant(node.attr), node)], keywords=[])
            copy_locations(call, node)
            return call
        if node.attr in rules.DENIED_ATTRIBUTES and node.attr not in INSPECT_ATTRIBUTES:
            self.error(node, f'"{node.attr}" is not allowed in submissions')
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            node = self.node_contents_visit(node)
            call = ast.Call(func=ast.Name("_write_", ast.Load()),
                            args=[node.value, _located(ast.Constant(node.lineno), node.value)], keywords=[])
            copy_locations(call, node.value)
            node.value = call
            return node
        return super().visit_Attribute(node)

    def visit_Subscript(self, node):
        node = super().visit_Subscript(node)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call) and \
                getattr(node.value.func, "id", None) == "_write_" and len(node.value.args) == 1:
            node.value.args.append(_located(ast.Constant(node.lineno), node.value))
        return node

    def visit_Call(self, node):
        """exec(...) and eval(...) compile; the builtins of those names refuse when called (see guards)."""
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name in ("exec", "eval"):
            node.func.id = "refused_" + name  # skip RestrictedPython's compile-time error ...
            node = super().visit_Call(node)
            node.func.id = name  # ... and keep the call as written
            return node
        return super().visit_Call(node)

    def visit_AugAssign(self, node):
        """`x.data -= lr * x.grad`, `grads[i] += g`: the target goes through `_write_` like any other write."""
        if isinstance(node.target, (ast.Attribute, ast.Subscript)):
            return self.node_contents_visit(node)
        return super().visit_AugAssign(node)

    def inject_print_collector(self, node, position=0):
        """RestrictedPython puts `_print = _print_(...)` before a module docstring and its
        `from __future__` imports, which Python then refuses: put it after them."""
        if isinstance(node, ast.Module):
            position = 0
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                position = 1
            while position < len(body) and isinstance(body[position], ast.ImportFrom) and \
                    body[position].module == "__future__":
                position += 1
        return super().inject_print_collector(node, position)

    def visit_Nonlocal(self, node):
        return self.node_contents_visit(node)

    def visit_AnnAssign(self, node):
        return self.node_contents_visit(node)

    def visit_ImportFrom(self, node):
        if node.level:
            self.error(node, "relative imports are not allowed in submissions")
        return super().visit_ImportFrom(node)


@dataclass
class Compiled:
    """A compiled submission file, or the reasons it was refused."""

    filename: str
    code: object | None = None
    errors: list[str] = field(default_factory=list)  # "line N: why" for policy refusals
    syntax_error: tuple[int, str] | None = None  # (line, message) when the source is not Python

    @property
    def ok(self) -> bool:
        return self.code is not None


def compile_source(source: str, filename: str) -> Compiled:
    """Compile student source under the policy; never raises for bad source."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        return Compiled(filename, syntax_error=(exc.lineno or 0, str(exc.msg)[:300]))
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        return Compiled(filename, syntax_error=(0, f"{type(exc).__name__}: {str(exc)[:200]}"))
    errors: list[str] = []
    transformer = PolicyTransformer(errors, [], {})
    try:
        transformer.visit(tree)
        if errors:
            return Compiled(filename, errors=[_tidy(e) for e in errors])
        return Compiled(filename, code=_compile(tree, filename))
    except SyntaxError as exc:
        return Compiled(filename, syntax_error=(exc.lineno or 0, str(exc.msg)[:300]))
    except (RecursionError, MemoryError, ValueError) as exc:
        return Compiled(filename, syntax_error=(0, f"{type(exc).__name__}: {exc}"[:300]))


def _compile(tree: ast.Module, filename: str):
    """The transformer gives its new nodes locations (copy_locations): filling in missing ones over the
    whole tree first cost half of this module's time per submission. A node that still lacks one makes
    compile refuse the tree; then they are filled in and it is compiled again."""
    try:
        return compile(tree, filename, "exec", dont_inherit=True)
    except TypeError:  # 'required field "lineno" missing from stmt'
        ast.fix_missing_locations(tree)
        return compile(tree, filename, "exec", dont_inherit=True)


_WORDING = (  # RestrictedPython's messages, in words a student understands
    (re.compile(r'"(\w+)" is an invalid attribute name because it starts with "_"\.?'),
     r'the attribute "\1" is not allowed in submissions (attributes starting with "_" are internals)'),
    (re.compile(r'"(\w+)" is an invalid variable name because it starts with "_"\.?'),
     r'the name "\1" is not allowed in submissions'),
    (re.compile(r'"(\w+)" is a restricted name, that is forbidden to access in RestrictedPython\.?'),
     r'"\1" reaches the interpreter internals (frames, code) and is not allowed in submissions'),
    (re.compile(r"(Exec|Eval) calls are not allowed\.?"), lambda m: f"{m.group(1).lower()}() is not allowed in submissions"),
    (re.compile(r"(\w+) statements are not allowed\.?"), r"\1 statements are not allowed in submissions"),
)


def _tidy(message: str) -> str:
    """RestrictedPython's 'Line 3: <jargon>' as 'line 3: <plain words>'."""
    text = ("line" + message[4:]) if message.startswith("Line") else message
    for pattern, repl in _WORDING:
        text = pattern.sub(repl, text)
    return text
