"""The submission policy (run/policy), in-process: every honest idiom runs, every route to the grader is refused.

Attacks are written as a student would; each one ran against the previous engine (see
tests/attack_corpus.py for the whole-batch versions). The audit hook is irreversible, so it is
tested in a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch

from tensorgrade.run.policy import torch_state
from tensorgrade.run.policy.compiler import compile_source
from tensorgrade.run.policy.guards import Policy, PolicyError, PrintSink
from tensorgrade.run.policy.loader import ImportFailed, StudentCode


def load(source: str, name: str = "sub", extra: dict[str, str] | None = None) -> tuple[dict, Policy, str]:
    out: list[str] = []
    policy = Policy()
    files = {f"{name}.py": textwrap.dedent(source), **{f"{k}.py": textwrap.dedent(v) for k, v in (extra or {}).items()}}
    code = StudentCode(policy, files, set(), PrintSink(out.append))
    return code.load(name), policy, "".join(out)


# -- honest code runs unchanged --------------------------------------------------------------
IDIOMS = """
from __future__ import annotations
import math
from typing import Callable, TypeVar
from dataclasses import dataclass
from collections import namedtuple
from functools import reduce, partial
import itertools
import numpy as np
import torch
import torch.nn as nn
from torch.autograd import grad
from torch.autograd.functional import jacobian as fj

T = TypeVar("T")
Pair = namedtuple("Pair", "a b")

@dataclass
class Step:
    lr: float = 0.1

def _helper(xs: list[float]) -> list[float]:
    return [v * 1.0 for v in xs]

def make_leaf(values):
    return torch.tensor(_helper(values), dtype=torch.float32, requires_grad=True)

def descend(f, x, lr, steps):
    for _ in range(steps):
        if x.grad is not None:
            x.grad.zero_()
        f(x).backward()
        with torch.no_grad():
            x -= lr * x.grad
    return x

def descend_data(f, x, lr, steps):
    for _ in range(steps):
        x.grad = None
        f(x).backward()
        x.data -= lr * x.grad.data
    return x

class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.k = 2.0
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return ctx.k * x * g

class Counter:
    def __init__(self):
        self.n = 0
    def __call__(self):
        self.n += 1
        return self.n

def closure():
    count = 0
    def bump():
        nonlocal count
        count += 1
        return count
    return bump

def jac_rows(f, x):
    y = f(x)
    return torch.stack([grad(y[i], x, retain_graph=True)[0] for i in range(y.shape[0])])

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 1)

total: int = 0
label = f"{math.pi:.2f} {torch.__version__ != ''} {Square.__name__}"
print("ready", label, "{} {}".format(1, 2))
if __name__ == "__main__":
    print("never")
"""


def test_honest_idioms_run_and_compute_the_right_values():
    ns, policy, printed = load(IDIOMS)
    assert policy.refusals == []
    leaf = ns["make_leaf"]([1.0, 2.0])
    assert leaf.is_leaf and leaf.requires_grad and leaf.dtype == torch.float32
    f = lambda t: (t ** 2).sum()  # noqa: E731
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    assert torch.allclose(ns["descend"](f, x, 0.1, 3), torch.tensor([1.0, -2.0]) * 0.8 ** 3)
    x2 = torch.tensor([1.0, -2.0], requires_grad=True)
    assert torch.allclose(ns["descend_data"](f, x2, 0.1, 3), torch.tensor([1.0, -2.0]) * 0.8 ** 3)
    t = torch.tensor([1.5, 2.0], requires_grad=True)
    ns["Square"].apply(t).sum().backward()
    assert torch.allclose(t.grad, 2 * t.detach())
    c = ns["Counter"]()
    assert (c(), c()) == (1, 2)
    bump = ns["closure"]()
    assert (bump(), bump()) == (1, 2)
    z = torch.tensor([0.5, 1.0], requires_grad=True)
    assert torch.allclose(ns["jac_rows"](torch.sin, z), torch.diag(torch.cos(z.detach())))
    assert isinstance(ns["Net"]().lin, torch.nn.Linear)
    assert printed == f"ready {ns['label']} 1 2\n"


def test_a_submission_module_may_import_another_of_its_own():
    ns, policy, _ = load("from helpers import twice\nfour = twice(2)\n", extra={"helpers": "def twice(v):\n    return 2 * v\n"})
    assert ns["four"] == 4 and policy.refusals == []


# -- refused at compile time: the file does not load, with one line saying why ---------------------
@pytest.mark.parametrize("source, words", [
    ("def f():\n    try:\n        raise ValueError\n    except ValueError as e:\n        return e.__traceback__\n",
     ['line 5', '"__traceback__"']),
    ("def g():\n    yield 1\nframe = g().gi_frame\n", ["line 3", "gi_frame", "internals"]),
    ("import torch\nprint(torch.__dict__)\n", ["__dict__"]),
    ("x = ().__class__.__bases__[0].__subclasses__()\n", ["__class__"]),
    ("_getattr_ = getattr\n", ['"_getattr_"']),
    ("def f():\n    global _write_\n    _write_ = lambda o, line=0: o\n", ['"_write_"']),
    ("class Liar(torch.Tensor):\n    def __torch_function__(cls, *a):\n        return True\n", ["__torch_function__"]),
    ("class Ghost:\n    def __del__(self):\n        pass\n", ["__del__"]),
    ("from . import sibling\n", ["relative imports"]),
    ("import numpy\nnumpy.zeros(3).ctypes\n", ["ctypes"]),
    ("print(type(1).mro())\n", ["mro"]),
])
def test_routes_to_the_interpreter_internals_do_not_compile(source, words):
    compiled = compile_source(source, "sub.py")
    assert not compiled.ok
    text = " ".join(compiled.errors)
    for word in words:
        assert word in text, text
    with pytest.raises(ImportFailed) as info:
        load(source)
    assert info.value.kind == "policy" and info.value.where.startswith("sub.py, line")


def test_a_syntax_error_is_reported_as_such_not_as_a_refusal():
    with pytest.raises(ImportFailed) as info:
        load("def broken(:\n    pass\n")
    assert info.value.kind == "syntax" and info.value.where == "sub.py, line 1"


# -- refused at run time ----------------------------------------------------------------------
@pytest.mark.parametrize("module", ["sys", "os", "gc", "ctypes", "tensorgrade", "tensorgrade.rubric.trial",
                                    "threading", "_thread", "inspect", "builtins", "importlib", "pathlib",
                                    "torch.utils", "numpy.lib"])
def test_imports_outside_the_allowlist_bind_a_stand_in_that_refuses_every_use(module):
    ns, policy, _ = load(f"import {module} as m\n\ndef use():\n    return m.anything\n\ndef call():\n    return m()\n")
    assert any(r.kind == "import" and module in r.what for r in policy.refusals)
    with pytest.raises(PolicyError, match=f"line 1: importing '{module}' is not allowed in submissions; allowed: torch"):
        ns["call"]()


def test_an_unused_leftover_import_costs_nothing():
    ns, policy, _ = load("import os\n\ndef f(x):\n    return x + 1\n")
    assert ns["f"](1) == 2 and [r.what for r in policy.refusals] == ["importing 'os'"]


@pytest.mark.parametrize("expression, words", [
    ("torch.utils", "torch.utils"),
    ("torch.load", "torch.load"),
    ("torch.set_default_dtype", "torch.set_default_dtype"),
    ("numpy.ctypeslib", "numpy.ctypeslib"),
    ("typing.get_type_hints", "typing.get_type_hints"),
    ("typing.sys", "sys"),
    ("getattr(torch, '_C')", "'_C'"),
    ("getattr(f, '__globals__')", "__globals__"),
    ("getattr(g, 'gi_frame')", "gi_frame"),
    ("torch.ops", "torch.ops"),
    ("dataclasses.make_dataclass", "make_dataclass"),
    ("'{0.__class__}'.format(1)", "format field"),
    ("type('X', (), {})", "three arguments"),
    ("exec('1')", "exec()"),
    ("open('/etc/passwd')", "open()"),
])
def test_reads_that_reach_past_the_policy_raise_at_that_line(expression, words):
    ns, policy, _ = load(f"""
        import torch, numpy, typing, dataclasses

        def f():
            return 1

        def g():
            yield 1

        def probe():
            return {expression}
    """)
    with pytest.raises(PolicyError, match="not allowed in submissions") as info:
        ns["probe"]()
    assert words in str(info.value)
    assert policy.refusals, "a refusal the student catches is still recorded"


def test_setattr_with_a_computed_name_cannot_reach_what_the_compiler_refuses():
    ns, policy, _ = load("""
        import torch

        class Mine(torch.Tensor):
            pass

        def hook():
            setattr(Mine, "__torch_" + "function__", classmethod(lambda cls, *a, **k: True))
    """)
    with pytest.raises(PolicyError, match="setting the attribute '__torch_function__'"):
        ns["hook"]()
    assert "__torch_function__" not in vars(ns["Mine"])


def test_a_caught_refusal_is_still_recorded():
    ns, policy, _ = load("import torch\n\ndef sneaky():\n    try:\n        return torch.load\n    except Exception:\n        return None\n")
    assert ns["sneaky"]() is None
    assert [r.what for r in policy.refusals] == ["torch.load"]


@pytest.mark.parametrize("statement, target", [
    ("torch.allclose = lambda *a, **k: True", "torch.allclose"),
    ("torch.Tensor.add = lambda *a: 0", "torch.Tensor.add"),
    ("math.pi = 3", "math.pi"),
    ("setattr(torch, 'equal', None)", "torch.equal"),
    ("torch.nn.functional.relu = None", "torch.nn.functional.relu"),
    ("torch.autograd.Function.apply = None", "torch.autograd.function.Function.apply"),
    ("f.text = 'x'", "f.text"),
])
def test_changing_objects_the_submission_did_not_create_is_ignored_and_recorded(statement, target):
    class Formula:  # what the grader hands in as f
        text = "f(x) = x"

    before = (torch.allclose, torch.Tensor.add, torch.equal, torch.nn.functional.relu, torch.autograd.Function.apply)
    ns, policy, _ = load(f"import torch, math\n\ndef patch(f):\n    {statement}\n    return 'done'\n")
    f = Formula()
    assert ns["patch"](f) == "done"  # not a crash: the change is ignored
    after = (torch.allclose, torch.Tensor.add, torch.equal, torch.nn.functional.relu, torch.autograd.Function.apply)
    assert after == before and f.text == "f(x) = x"
    (refusal,) = policy.refusals
    assert refusal.kind == "write" and refusal.line == 4 and target.split(".")[-1] in refusal.what
    assert refusal.text().endswith("is not allowed in submissions (the change was ignored)")


def test_tensor_autograd_attributes_stay_writable_and_others_do_not():
    ns, policy, _ = load("""
        def clear(x):
            x[0] = 5.0
            x.grad = None
            x.requires_grad = True
            x.backward = None
    """)
    x = torch.ones(2)
    x.grad = torch.ones(2)
    ns["clear"](x)
    assert x.grad is None and x.requires_grad and x[0].item() == 5.0
    assert x.backward.__func__ is torch.Tensor.backward
    assert [r.what for r in policy.refusals] == ["changing a tensor.backward"]


def test_the_submissions_own_objects_are_writable():
    ns, policy, _ = load("""
        class Box:
            pass

        def fill():
            b = Box()
            b.value = 3
            Box.shared = 1
            d = {}
            d["k"] = [0]
            d["k"][0] += 2
            return b.value + Box.shared + d["k"][0]
    """)
    assert ns["fill"]() == 6 and policy.refusals == []


def test_torch_global_settings_are_put_back_after_a_call():
    state = torch_state.snapshot()
    ns, policy, _ = load("import torch\n\ndef leave_it_off():\n    torch.set_grad_enabled(False)\n")
    ns["leave_it_off"]()
    assert not torch.is_grad_enabled()
    assert torch_state.restore(state) is True
    assert torch.is_grad_enabled() and torch_state.snapshot() == state


# -- the second net ----------------------------------------------------------------------------
AUDIT_PROBE = r"""
import sys, torch
from tensorgrade.run.policy import audit
from tensorgrade.run.policy.guards import Policy, PolicyError, PrintSink
from tensorgrade.run.policy.loader import StudentCode
annotated = ("from typing import Callable\nimport torch\n"
             "def gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:\n"
             "    f(x).backward()\n    return x.grad\n")
code = StudentCode(Policy(), {"sub.py": annotated}, set(), PrintSink(lambda text: None))  # compiled first, as in the child
refused = []
audit.install(refused.append, code.files)
import gc, ctypes, socket, subprocess, os, collections, dataclasses, typing
results = {}
def attempt(name, fn):
    try:
        fn()
        results[name] = "allowed"
    except PolicyError:
        results[name] = "refused"
attempt("getframe", lambda: sys._getframe())
attempt("gc", lambda: gc.get_objects())
attempt("ctypes", lambda: ctypes.string_at(id(1), 8))
attempt("socket", lambda: socket.socket())
attempt("subprocess", lambda: subprocess.Popen(["true"]))
attempt("write", lambda: open("/tmp/tg-audit-probe", "w"))
attempt("system", lambda: os.system("true"))
attempt("tb_frame", lambda: (lambda e: e.__traceback__.tb_frame)(ValueError()) if False else sys.exc_info())
attempt("namedtuple", lambda: collections.namedtuple("P", "a b"))
attempt("dataclass", lambda: dataclasses.dataclass(type("D", (), {"__annotations__": {"a": int}})))
attempt("typevar", lambda: typing.TypeVar("T"))
attempt("read", lambda: open(torch.__file__).read(1))
attempt("autograd", lambda: torch.autograd.grad((torch.ones(2, requires_grad=True) * 2).sum(), []) if False else
        torch.autograd.functional.jacobian(torch.sin, torch.ones(2)))
attempt("annotations", lambda: code.load("sub"))
print(results)
"""


def test_audit_hook_refuses_introspection_and_side_effects_but_not_the_libraries():
    out = subprocess.run([sys.executable, "-c", AUDIT_PROBE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    results = eval(out.stdout.strip().splitlines()[-1])  # noqa: S307 - our own probe's dict
    for name in ("getframe", "gc", "ctypes", "socket", "subprocess", "write", "system"):
        assert results[name] == "refused", (name, results)
    for name in ("namedtuple", "dataclass", "typevar", "read", "autograd", "annotations"):
        assert results[name] == "allowed", (name, results)


# -- holes found by the second, blind attack set (tests/attack_corpus_second.py), closed ---------------
def test_name_may_be_read_but_never_bound():
    for source in ('__name__ = "builtins"\n', 'import math as __name__\n', 'for __name__ in ["x"]:\n    pass\n',
                   'try:\n    pass\nexcept Exception as __name__:\n    pass\n'):
        assert not compile_source(source, "sub.py").ok, source
    ns, _, _ = load("label = __name__\n")
    assert ns["label"].endswith("sub")


def test_a_module_imports_its_siblings_by_the_loaders_table_not_by_name():
    ns, policy, _ = load("import helpers\nvalue = helpers.twice(3)\n", extra={"helpers": "def twice(v):\n    return 2 * v\n"})
    assert ns["value"] == 6


def test_type_of_a_class_is_refused_so_the_metaclass_cannot_make_classes():
    ns, policy, _ = load("def meta():\n    return type(int)\n\ndef plain(x):\n    return type(x).__name__\n")
    assert ns["plain"](torch.ones(1)) == "Tensor"
    with pytest.raises(PolicyError, match="type\\(\\) of a class"):
        ns["meta"]()


@pytest.mark.parametrize("call", ["'{0.sys}'.format(torch)", "str.format('{0.sys.modules}', torch)",
                                  "'{x[0]}'.format_map({'x': [1]})", "'{0:{1.real}}'.format(1, 2)"])
def test_format_fields_may_not_read_attributes_or_items(call):
    ns, policy, _ = load(f"import torch\n\ndef probe():\n    return {call}\n")
    with pytest.raises(PolicyError, match="format field"):
        ns["probe"]()
    plain, _, _ = load("def ok(x):\n    return '{} {:.2f} {name!r}'.format(1, x, name='n')\n")
    assert plain["ok"](0.5) == "1 0.50 'n'"


def test_torch_may_import_its_own_modules_while_student_code_runs():
    """C code calling PyImport_Import goes through the student's __import__: the library's imports are allowed."""
    ns, policy, _ = load("import torch\n\ndef on_cpu():\n    with torch.device('cpu'):\n        return torch.ones(2)\n")
    assert ns["on_cpu"]().device.type == "cpu"
    assert policy.refusals == []


def test_a_suspended_generator_cannot_leave_autocast_or_a_device_mode_on():
    state = torch_state.snapshot()
    ns, _, _ = load("""
        import torch
        held = []

        def hold():
            with torch.no_grad():
                yield

        def leave():
            held.append(hold())
            next(held[-1])
    """)
    ns["leave"]()
    assert not torch.is_grad_enabled()
    assert torch_state.restore(state) and torch.is_grad_enabled()
    ns["held"].clear()


def test_a_failing_sibling_module_reports_its_own_reason():
    with pytest.raises(ImportFailed) as info:
        load("import helpers\n", extra={"helpers": "raise ValueError('broken helper')\n"})
    assert info.value.kind == "error" and "ValueError: broken helper" in info.value.message
    assert "ImportFailed" not in info.value.message


def test_a_transformed_tree_with_a_node_missing_its_location_still_compiles():
    import ast

    from tensorgrade.run.policy.compiler import _compile

    tree = ast.parse("x = 1\n")
    tree.body.append(ast.Assign(targets=[ast.Name("y", ast.Store())], value=ast.Constant(2)))  # no location
    namespace: dict = {}
    exec(_compile(tree, "f.py"), namespace)
    assert (namespace["x"], namespace["y"]) == (1, 2)


def test_writes_through_the_guard_keep_the_line_they_were_written_on():
    source = "def f(x, grads):\n    x.grad = None\n    grads[0] += 1\n    raise ValueError('here')\n"
    compiled = compile_source(source, "ex.py")
    assert compiled.ok
    lines = {line for code in [compiled.code, *[c for c in compiled.code.co_consts if hasattr(c, "co_code")]]
             for _, _, line in code.co_lines() if line}
    assert {2, 3, 4} <= lines
