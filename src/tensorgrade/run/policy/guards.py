"""The runtime half of the policy: the hooks RestrictedPython's code calls, and the builtins it gets.

Every attribute read of student code goes through `Policy.getattr`, every
attribute or item write through `Policy.write`, every import through
`Policy.import_`. What they refuse is recorded in `Policy.refusals` (trusted:
student code can reach neither the Policy nor its list) so the review column
and the student's report name it even when the student caught the error.

How a refusal shows (docs/architecture.md, "What a student sees"):
- reading something refused raises `PolicyError` at that line;
- importing a module outside the allowlist binds a stand-in; using it raises
  `PolicyError` naming the import line (an unused leftover import costs nothing);
- changing an object the submission did not create (torch, a module, a class of
  torch's) is ignored: the object keeps its value, and the refusal is recorded.
"""

from __future__ import annotations

import builtins
import importlib
import operator
import string
import sys
import types
import weakref
from dataclasses import dataclass

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safe_builtins
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from tensorgrade.run.policy import rules

_ModuleType, _FunctionType, _type, _isinstance = types.ModuleType, types.FunctionType, builtins.type, builtins.isinstance
_getattr, _setattr, _delattr = builtins.getattr, builtins.setattr, builtins.delattr
SUBMISSION_PREFIX = "tensorgrade_submission_"  # student modules' names: no library module has them
STUDENT_MARK = "__tensorgrade_student__"  # in a student module's globals; student code cannot write dunder names


class PolicyError(Exception):
    """Student code used something the submission policy does not allow."""


@dataclass(frozen=True)
class Refusal:
    """One thing the policy refused, where, and in words a student understands."""

    file: str
    line: int
    what: str  # e.g. "importing 'sys'", "changing torch.allclose"
    kind: str  # "import" | "read" | "write" | "compile" | "event"

    def text(self, allowed: tuple[str, ...] = ()) -> str:
        where = f"{self.file}, line {self.line}: " if self.line else (f"{self.file}: " if self.file else "")
        tail = {"import": f"; allowed: {', '.join(allowed)}" if allowed else "",
                "write": " (the change was ignored)"}.get(self.kind, "")
        return f"{where}{self.what} is not allowed in submissions{tail}"

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "what": self.what, "kind": self.kind}


class Refused:
    """What a refused import binds: attribute access gives the stand-in again, any real use raises."""

    __slots__ = ("_tg_message",)

    def __init__(self, message: str):
        object.__setattr__(self, "_tg_message", message)

    def _tg_raise(self, *args, **kwargs):
        raise PolicyError(object.__getattribute__(self, "_tg_message"))

    def __getattr__(self, name):
        return self

    __call__ = __getitem__ = __iter__ = __bool__ = __len__ = __add__ = __mul__ = __eq__ = _tg_raise
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<refused: {object.__getattribute__(self, '_tg_message').split(';')[0]}>"


class _ReadOnlyView:
    """What `_write_` returns for an object the submission may not change: writes are ignored and recorded."""

    __slots__ = ("_tg_obj", "_tg_policy", "_tg_line", "_tg_label", "_tg_allowed")

    def __init__(self, obj, policy: "Policy", line: int, label: str, allowed: frozenset = frozenset()):
        for name, value in (("_tg_obj", obj), ("_tg_policy", policy), ("_tg_line", line), ("_tg_label", label),
                            ("_tg_allowed", allowed)):
            object.__setattr__(self, name, value)

    def _tg_refuse(self, what: str) -> None:
        policy = object.__getattribute__(self, "_tg_policy")
        policy.refuse(object.__getattribute__(self, "_tg_line"), what, "write")

    def __getattr__(self, name):
        return object.__getattribute__(self, "_tg_policy").getattr(object.__getattribute__(self, "_tg_obj"), name)

    def __setattr__(self, name, value):
        if name in object.__getattribute__(self, "_tg_allowed"):
            _setattr(object.__getattribute__(self, "_tg_obj"), name, value)
        else:
            self._tg_refuse(f"changing {object.__getattribute__(self, '_tg_label')}.{name}")

    def __delattr__(self, name):
        if name in object.__getattribute__(self, "_tg_allowed"):
            _delattr(object.__getattribute__(self, "_tg_obj"), name)
        else:
            self._tg_refuse(f"deleting {object.__getattribute__(self, '_tg_label')}.{name}")

    def __getitem__(self, key):
        return object.__getattribute__(self, "_tg_obj")[key]

    def __setitem__(self, key, value):
        obj = object.__getattribute__(self, "_tg_obj")
        if "[]" in object.__getattribute__(self, "_tg_allowed"):
            obj[key] = value
        else:
            self._tg_refuse(f"changing items of {object.__getattribute__(self, '_tg_label')}")

    def __delitem__(self, key):
        obj = object.__getattribute__(self, "_tg_obj")
        if "[]" in object.__getattribute__(self, "_tg_allowed"):
            del obj[key]
        else:
            self._tg_refuse(f"deleting items of {object.__getattribute__(self, '_tg_label')}")


def _label(obj) -> str:
    if _isinstance(obj, _ModuleType):
        return obj.__name__
    if _isinstance(obj, _type):
        return f"{obj.__module__}.{obj.__qualname__}".removeprefix("builtins.")
    return f"an object of type {_type(obj).__name__}"


def _format_field_refused(fmt) -> str | None:
    """str.format reads attributes and items with the real getattr ("{0.sys.modules}"), out of the
    guards' reach: a field may name an argument and a format spec, nothing more."""
    if _type(fmt) is not str:
        return None
    try:
        parsed = list(string.Formatter().parse(fmt))
    except ValueError:
        return None  # str.format itself will say what is wrong
    for _, field, spec, _ in parsed:
        if field is not None and ("." in field or "[" in field):
            return field
        inner = _format_field_refused(spec) if spec and "{" in spec else None
        if inner:
            return inner
    return None


class Policy:
    """The guards for one sandboxed child: one Policy, many student modules."""

    def __init__(self, allowed_imports: tuple[str, ...] = rules.DEFAULT_IMPORTS):
        self.allowed = tuple(allowed_imports)
        self.allowed_set = frozenset(allowed_imports) | frozenset(rules.ALWAYS_IMPORTS)
        self.refusals: list[Refusal] = []
        self.student_classes: weakref.WeakSet = weakref.WeakSet()
        self.student_module_objects: dict = {}  # module name -> its module object (what an import returns)
        self.loader = None  # callable(name) -> namespace | None, for a submission's own modules
        self.student_files: set[str] = set()  # file names the loader compiled (for refusals' line numbers)
        import torch

        self._tensor = torch.Tensor
        self._ctx = torch.autograd.function.FunctionCtx
        self._nn_module = torch.nn.Module
        try:
            import numpy

            self._ndarray = numpy.ndarray
        except ImportError:  # pragma: no cover - numpy ships with torch's wheels
            self._ndarray = ()
        self.builtins = self._builtins()

    # -- recording -------------------------------------------------------
    def refuse(self, line: int, what: str, kind: str, file: str | None = None) -> Refusal:
        if file is None:
            file, found = self._student_line()
            line = line or found
        refusal = Refusal(file, int(line or 0), what, kind)
        if len(self.refusals) < 200 and refusal not in self.refusals:
            self.refusals.append(refusal)
        return refusal

    def _student_line(self) -> tuple[str, int]:
        """The innermost line of student code on the stack (trusted code may look at frames; students may not)."""
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            if name in self.student_files:
                return name, frame.f_lineno
            frame = frame.f_back
        return "", 0

    def error(self, line: int, what: str, kind: str = "read") -> PolicyError:
        return PolicyError(self.refuse(line, what, kind).text(self.allowed if kind == "import" else ()))

    # -- reads -------------------------------------------------------------
    def module_allowed(self, module) -> bool:
        name = _getattr(module, "__name__", None)
        if name in self.allowed_set:
            return True
        return module in self.student_module_objects.values()

    def getattr(self, obj, name, *default):
        """`obj.name` for student code (RestrictedPython's `_getattr_`)."""
        if _type(name) is not str:
            raise TypeError("attribute name must be a string")
        if _type(obj) is Refused:
            return obj
        if (name.startswith("_") and name not in rules.READABLE_ATTRIBUTES) or name in INSPECT_ATTRIBUTES \
                or name in rules.DENIED_ATTRIBUTES:
            raise self.error(0, f"the attribute {name!r}")
        if name in ("format", "format_map") and (_isinstance(obj, str) or (_isinstance(obj, _type) and
                                                                               issubclass(obj, str))):
            return self._safe_format(obj, name)
        if _isinstance(obj, _ModuleType):
            module = obj.__name__
            if not self.module_allowed(obj):
                raise self.error(0, f"using the module {module!r}")
            if name in rules.DENIED_MODULE_ATTRIBUTES.get(module, ()) or (
                    module in ("torch", "numpy") and name.startswith("set_") and name != "set_grad_enabled"):
                raise self.error(0, f"{module}.{name}")
        value = _getattr(obj, name, *default)
        if _isinstance(value, _ModuleType) and not self.module_allowed(value):
            raise self.error(0, f"using the module {value.__name__!r}")
        return value

    def hasattr(self, obj, name) -> bool:
        try:
            self.getattr(obj, name)
            return True
        except (AttributeError, PolicyError):
            return False

    def _safe_format(self, text, method: str):
        bound = _getattr(text, method)
        unbound = _isinstance(text, _type)  # str.format(fmt, ...): the format string is the first argument

        def format_(*args, **kwargs):
            fmt = (args[0] if args else None) if unbound else text
            field = _format_field_refused(fmt)
            if field is not None:
                raise self.error(0, f"the format field {{{field}}} (fields may not read attributes or items; "
                                    "use an f-string)")
            return bound(*args, **kwargs)

        return format_

    def type(self, obj, *rest):
        if rest:
            raise self.error(0, "type() with three arguments (creating a class; use a class statement)")
        kind = _type(obj)
        if issubclass(kind, _type):  # type(SomeClass) is a metaclass: called with 3 arguments it makes any class
            raise self.error(0, "type() of a class")
        return kind

    # -- writes --------------------------------------------------------------
    def is_student_object(self, obj) -> bool:
        if _isinstance(obj, _type):
            return obj in self.student_classes
        if _type(obj) is _FunctionType:
            return bool(obj.__globals__.get(STUDENT_MARK))
        if _isinstance(obj, _ModuleType):
            return obj in self.student_module_objects.values()
        return any(cls in self.student_classes for cls in _type(obj).__mro__)

    def write(self, obj, line: int = 0):
        """The target of `obj.name = value` / `obj[key] = value` for student code (`_write_`)."""
        kind = _type(obj)
        if kind in (list, dict, set, bytearray) or self.is_student_object(obj):
            return obj
        if _isinstance(obj, (self._ctx, self._nn_module)):
            return obj
        if _isinstance(obj, self._tensor):
            return _ReadOnlyView(obj, self, line, "a tensor", rules.WRITABLE_TENSOR_ATTRIBUTES | {"[]"})
        if self._ndarray and _isinstance(obj, self._ndarray):
            return _ReadOnlyView(obj, self, line, "an array", frozenset({"[]"}))
        if _isinstance(obj, (list, dict, set)):
            return obj
        return _ReadOnlyView(obj, self, line, _label(obj))

    # -- imports -------------------------------------------------------------
    def import_(self, name, globals=None, locals=None, fromlist=(), level=0):
        """`import name` / `from name import ...` for student code.

        C code (torch's) that imports while a student frame is current reaches this hook too,
        through PyImport_Import, which passes a *list* as fromlist ([] or ['__doc__'], by Python
        version). Student code cannot: its import statements pass None or a tuple, and it cannot call
        this function itself (`__import__` does not compile, builtins are not importable). So those
        imports are the library's own.
        """
        if _type(fromlist) is list and not level:
            return importlib.import_module(name)
        if level:
            raise self.error(0, "a relative import", "import")
        own = self.loader(name) if self.loader else None
        if own is not None:
            return self.student_module_objects[name]
        top = name.partition(".")[0]
        if name not in self.allowed_set:  # the line is the import statement's, found on the stack
            return Refused(self.refuse(0, f"importing {name!r}", "import").text(self.allowed))
        module = importlib.import_module(name)
        if not fromlist:
            return importlib.import_module(top)
        picked = types.SimpleNamespace()
        for attr in fromlist:
            try:
                value = self.getattr(module, attr)
            except PolicyError as exc:
                value = Refused(str(exc))
            except AttributeError:
                try:
                    value = importlib.import_module(f"{name}.{attr}")
                except ImportError:
                    raise ImportError(f"cannot import name {attr!r} from {name!r}") from None
                if not self.module_allowed(value):
                    value = Refused(self.refuse(0, f"importing {name}.{attr}", "import").text(self.allowed))
            _setattr(picked, attr, value)
        return picked

    # -- classes -----------------------------------------------------------
    def build_class(self, func, name, *bases, **kwargs):
        cls = builtins.__build_class__(func, name, *bases, **kwargs)
        self.student_classes.add(cls)
        return cls

    def _settable(self, name):
        """setattr/delattr take the name as a string: the compiler never saw it, so check it here."""
        if _type(name) is not str:
            raise TypeError("attribute name must be a string")
        if name.startswith("_") or name in INSPECT_ATTRIBUTES or name in rules.DENIED_ATTRIBUTES:
            raise self.error(0, f"setting the attribute {name!r}", "write")
        return name

    def _refusing(self, name: str):
        def refused(*args, **kwargs):
            raise self.error(0, f"{name}()")

        return refused

    # -- the namespace student code runs in -----------------------------------
    def _builtins(self) -> dict:
        extra = {
            "__build_class__": self.build_class, "__import__": self.import_,
            "getattr": self.getattr, "hasattr": self.hasattr,
            "setattr": lambda obj, name, value: _setattr(self.write(obj), self._settable(name), value),
            "delattr": lambda obj, name: _delattr(self.write(obj), self._settable(name)),
            "type": self.type,
        }
        for name in ("exec", "eval", "compile", "open", "input", "globals", "locals", "vars", "breakpoint",
                     "memoryview", "help", "exit", "quit"):
            extra[name] = self._refusing(name)
        names = ("list", "dict", "tuple", "set", "frozenset", "enumerate", "zip", "map", "filter", "sorted",
                 "reversed", "min", "max", "sum", "any", "all", "iter", "next", "super", "property", "staticmethod",
                 "classmethod", "object", "format", "bytes", "NotImplemented", "ascii", "bin", "dir",
                 "StopAsyncIteration", "ExceptionGroup", "RecursionError", "TimeoutError", "ConnectionError")
        return {**safe_builtins, **{n: _getattr(builtins, n) for n in names if hasattr(builtins, n)}, **extra}

    def namespace(self, module_name: str, filename: str, sink) -> dict:
        """Fresh globals for one student module (its own builtins dict: nothing is shared between modules).

        The globals are a real module's dict, registered in sys.modules under a name no library
        module has (dataclasses and pickle look a class's module up there); student code never
        sees sys.modules, and its own imports go through the loader.
        """
        module = types.ModuleType(f"{SUBMISSION_PREFIX}{module_name}")
        sys.modules[module.__name__] = module
        self.student_module_objects[module_name] = module
        namespace = module.__dict__
        namespace.update({
            "__builtins__": dict(self.builtins),
            "__name__": module.__name__,
            "__file__": filename,
            STUDENT_MARK: True,
            "__metaclass__": type,
            "_getattr_": self.getattr,
            "_write_": self.write,
            "_getitem_": operator.getitem,
            "_getiter_": iter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_apply_": _apply,
            "_inplacevar_": _inplacevar,
            "_print_": lambda _getattr=None: sink,
        })
        return namespace


def _apply(func, *args, **kwargs):
    return func(*args, **kwargs)


_INPLACE = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
            "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
            ">>=": operator.irshift, "|=": operator.ior, "^=": operator.ixor, "&=": operator.iand,
            "@=": operator.imatmul}


def _inplacevar(op: str, x, y):
    return _INPLACE[op](x, y)


class PrintSink:
    """Where student `print` goes: `write` is given text; `_call_print` is what RestrictedPython calls."""

    def __init__(self, write):
        self.write = write

    def _call_print(self, *objects, sep=" ", end="\n", file=None, flush=False):
        self.write(sep.join(map(str, objects)) + end if _type(sep) is str and _type(end) is str else
                   " ".join(map(str, objects)) + "\n")
