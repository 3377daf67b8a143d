"""The code that runs inside the sandboxed child: import the student's files, run the trials, report.

This is the zygote's payload (see run/sandbox.py). `prepare` runs once in the
zygote before any student code: it loads the graders' check functions (never
the reference solutions, never expected values), resolves banned APIs and
warms torch up. `run` executes in a fresh child per student and sends raw
observations back through `emit`; it decides nothing.

Imports allowed here: the standard library, torch and tensorgrade.rubric.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Callable

from tensorgrade.rubric.ban import banned_files
from tensorgrade.rubric.guard import Guard
from tensorgrade.rubric.registry import Rubric, rubric_from_source
from tensorgrade.rubric.trial import Trial, exception_message, run_trial, student_location

RUBRICS: dict[str, Rubric] = {}
BANS: dict[str, dict[str, dict[str, str]]] = {}
GUARD: Guard | None = None


def prepare(init: dict) -> None:
    """Load graders and warm torch up, once per zygote. `init` = {"graders": {id: {"source", "filename", "banned"}}}."""
    global GUARD
    import torch

    torch.set_num_threads(1)
    sys.dont_write_bytecode = True
    for ex_id, grader in init["graders"].items():
        RUBRICS[ex_id] = rubric_from_source(grader["source"], grader["filename"], ex_id)
        BANS[ex_id] = {fn: banned_files(mods) for fn, mods in grader.get("banned", {}).items()}
    _warm_up()
    GUARD = Guard.default()


def _warm_up() -> None:
    """Pay torch's lazy set-up (about 0.5 s) once here instead of in every child."""
    import torch

    x = torch.tensor([0.5, -0.3, 0.8], dtype=torch.float64, requires_grad=True)
    y = (torch.sin(x) * x**3).sum() + torch.tanh(x).prod() + torch.exp(x).sum() + torch.log(1 + x**2).sum()
    g = torch.autograd.grad(y, x, create_graph=True)[0]
    torch.autograd.grad(g.sum(), x)
    torch.autograd.functional.jacobian(lambda t: torch.stack([t[0] * t[1], t.sum()]), x.detach())
    torch.autograd.functional.hessian(lambda t: (t**3).sum(), x.detach())
    # torch.func is an allowed means ("by any means"). Its first use imports torch._dynamo (about 2 s), which
    # rebinds torch.manual_seed; done here, before GUARD's snapshot, so an honest torch.func user is neither
    # flagged as "patched torch.manual_seed" nor charged the import in every child.
    torch.func.hessian(lambda t: (t**3).sum())(x.detach())
    torch.func.jacfwd(lambda t: t**2)(x.detach())
    z = torch.tensor([1.0, 2.0], requires_grad=True)
    (z * 2).sum().backward()
    z.grad.zero_()
    with torch.no_grad():
        z -= 0.1 * z.grad
    for ex_id, rubric in RUBRICS.items():  # exercise the rubric's own code paths (draws, facts, encoding)
        for check in rubric.checks.values():
            run_trial(check, Trial({}, seed=0))


def _import_student(module: str) -> object:
    if module in sys.modules:
        return sys.modules[module]
    return importlib.import_module(module)


def _error(exc: BaseException, files: set[str]) -> dict:
    where, message = student_location(exc.__traceback__, files), exception_message(exc)
    if isinstance(exc, SyntaxError):
        where = f"{os.path.basename(exc.filename or '?')}, line {exc.lineno}"
        message = str(exc.msg)[:500]
    return {"error": type(exc).__name__, "message": message, "where": where}


def run(job: dict, emit: Callable[[dict], None]) -> None:
    """Grade one student's files. `job` = {"files": {name: source}, "exercises": [{"id", "module", "checks": [{"id", "seed"}]}]}."""
    workdir = os.getcwd()
    paths = set()
    for name, source in job["files"].items():
        path = os.path.join(workdir, name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(source)
        paths.add(path)
    sys.path.insert(0, workdir)
    tampered: list[str] = []

    def after_call() -> None:
        tampered.extend(GUARD.restore())

    for ex in job["exercises"]:
        ex_id = ex["id"]
        emit({"ev": "exercise", "exercise": ex_id})
        try:
            module = _import_student(ex["module"])
        except BaseException as exc:  # SyntaxError, SystemExit, anything at import
            after_call()
            emit({"ev": "import_error", "exercise": ex_id, **_error(exc, paths)})
            continue
        after_call()
        functions = vars(module)
        for check in ex["checks"]:
            emit({"ev": "check", "exercise": ex_id, "check": check["id"]})
            trial = Trial(
                functions,
                check["seed"],
                banned=BANS.get(ex_id),
                on_call=lambda fn: emit({"ev": "call", "function": fn}),
                after_call=after_call,
                student_files=paths,
            )
            record = run_trial(RUBRICS[ex_id].checks[check["id"]], trial)
            emit({"ev": "record", "exercise": ex_id, "check": check["id"], "record": record})
        if tampered:
            emit({"ev": "tampered", "names": sorted(set(tampered))[:50]})
            tampered.clear()
    emit({"ev": "done"})
