"""The code that runs inside the sandboxed child: load the student's files under the policy, run the trials, report.

This is the zygote's payload (see run/sandbox). `prepare` runs once in the
zygote before any student code: it loads the graders' check functions (never
the reference solutions, never expected values), finds the banned APIs' code
and warms torch and the policy up. `run` executes in a fresh child per job:

1. compile every file of the submission under the policy (run/policy), then
   install the audit hook: from here on, student code runs;
2. per exercise: load the module (its top level runs), then per check run the
   trial; each student call is one step of the progress page (the zygote's
   deadline), and torch's global settings are put back after it;
3. send one event per import and per check, in order, over the authenticated
   channel; captured `print` output and policy refusals travel with them.

It decides nothing: verdicts are made in the grading process.
Imports allowed here: the standard library, torch, tensorgrade.rubric,
tensorgrade.run.policy, tensorgrade.run.sandbox.progress and tensorgrade.wire.
"""

from __future__ import annotations

import json
import sys
from typing import Callable

from tensorgrade.wire import WARM_AFTER_FIRST, WARM_BEFORE, Broken, ImportError_, Imported, Record, TrialRecord
from tensorgrade.rubric.ban import Banned, banned_code
from tensorgrade.rubric.registry import Rubric, rubric_from_source
from tensorgrade.rubric.trial import Trial, run_trial, student_location
from tensorgrade.run.policy import audit, torch_state
from tensorgrade.run.policy.guards import Policy, PrintSink
from tensorgrade.run.policy.loader import ImportFailed, StudentCode
from tensorgrade.run.policy.rules import DEFAULT_IMPORTS
from tensorgrade.run.sandbox.progress import CALLING, GRADER, IMPORTING, STARTING

RUBRICS: dict[str, Rubric] = {}
BANS: dict[str, dict[str, Banned]] = {}
ALLOWED: tuple[str, ...] = DEFAULT_IMPORTS
_FUNC_LATER = False  # torch.func's warm-up is still to come (WARM_AFTER_FIRST)
OUTPUT_PER_EVENT = 8 * 1024
MAX_REFUSALS = 50  # per event (wire.MAX_REFUSALS); the policy keeps at most 200 in all


def prepare(init: dict) -> None:
    """Load graders and warm torch up, once per zygote. `init` = {"graders": {id: {"source", "filename", "banned"}}}."""
    global ALLOWED, _FUNC_LATER
    import torch

    torch.set_num_threads(1)
    sys.dont_write_bytecode = True
    ALLOWED = tuple(init.get("allowed_imports") or DEFAULT_IMPORTS)
    for ex_id, grader in init["graders"].items():
        RUBRICS[ex_id] = rubric_from_source(grader.pop("source"), grader["filename"], ex_id)  # the text is not kept
        BANS[ex_id] = {fn: banned_code(mods) for fn, mods in grader.get("banned", {}).items()}
    when = init.get("warm_func", WARM_BEFORE)
    if when == WARM_BEFORE:
        _warm_func()
    _FUNC_LATER = when == WARM_AFTER_FIRST
    _warm_up()


def lean() -> bool:
    """Whether a child forked now lacks torch.func's machinery: its warm-up comes after the first child."""
    return _FUNC_LATER


def after_first_job() -> bool:
    """The warm-up a class's zygote leaves for after its first child (sandbox/layers.AFTER_FIRST_JOB)."""
    global _FUNC_LATER
    if not _FUNC_LATER:
        return False
    _warm_func()
    _FUNC_LATER = False
    return True


def _warm_func() -> None:
    """torch.func is an allowed means; its first use imports torch._dynamo (see run/init.py)."""
    import torch

    x = torch.tensor([0.5, -0.3, 0.8], dtype=torch.float64)
    torch.func.hessian(lambda t: (t**3).sum())(x)
    torch.func.jacfwd(lambda t: t**2)(x)


def _warm_up() -> None:
    """Pay torch's and the policy's lazy set-up once here instead of in every child."""
    import torch

    x = torch.tensor([0.5, -0.3, 0.8], dtype=torch.float64, requires_grad=True)
    y = (torch.sin(x) * x**3).sum() + torch.tanh(x).prod() + torch.exp(x).sum() + torch.log(1 + x**2).sum()
    g = torch.autograd.grad(y, x, create_graph=True)[0]
    torch.autograd.grad(g.sum(), x)
    torch.autograd.functional.jacobian(lambda t: torch.stack([t[0] * t[1], t.sum()]), x.detach())
    torch.autograd.functional.hessian(lambda t: (t**3).sum(), x.detach())
    # Lazy imports torch makes on first use, done here: in a child they would run under the audit hook
    # from a student's frame (a gradcheck failure formats tensors; autograd.grad with grad_outputs
    # reaches symbolic_shapes) and be refused there, misreporting the student's result.
    import torch.fx.experimental.symbolic_shapes  # noqa: F401
    repr(torch.zeros(2, requires_grad=True))
    torch.autograd.grad((x * 2).sum(), x, grad_outputs=torch.ones(()))
    z = torch.tensor([1.0, 2.0], requires_grad=True)
    (z * 2).sum().backward()
    z.grad.zero_()
    with torch.no_grad():
        z -= 0.1 * z.grad
    policy = Policy(ALLOWED)  # imports what the guards need (numpy, RestrictedPython's guards)
    warm = StudentCode(policy, {"warm.py": _WARM_SOURCE}, set(), PrintSink(lambda text: None))
    warm.load("warm")
    for rubric in RUBRICS.values():  # exercise the rubric's own code paths (draws, facts, encoding)
        for check in rubric.checks.values():
            run_trial(check, Trial({}, seed=0))


_WARM_SOURCE = """
import math
from typing import Callable
import torch
def _helper(x):
    return [v for v in x]
class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g
t = torch.tensor([1.0, 2.0], requires_grad=True)
Square.apply(t).sum().backward()
t.grad.zero_()
print(f"{math.pi:.2f}", _helper([1, 2]))
"""


def run(job: dict, emit: Callable[[dict], None], progress) -> None:
    """Grade one student's files. `job` = {"files": {name: source}, "notebooks": [name], "exercises": [...]}."""
    progress.step(STARTING)
    captured: list[str] = []
    sink = PrintSink(captured.append)
    policy = Policy(ALLOWED)
    code = StudentCode(policy, job["files"], set(job.get("notebooks", ())), sink)
    files = code.files
    audit.install(lambda event: policy.refuse(0, event, "event"), files)  # student code may run from here on
    state = torch_state.snapshot()
    sent_refusals = 0

    def news() -> dict:
        nonlocal sent_refusals
        text = "".join(captured)
        captured.clear()
        fresh = policy.refusals[sent_refusals:][:MAX_REFUSALS]
        sent_refusals = len(policy.refusals)
        return {"output": _cap(text), "refusals": [r.to_json() for r in fresh]}

    for ex_index, ex in enumerate(job["exercises"]):
        ex_id = ex["id"]
        progress.step(IMPORTING, ex_index)
        try:
            module = code.load(ex["module"])
            failure = None
        except ImportFailed as failed:
            failure = failed
        finally:
            if torch_state.restore(state):
                policy.refuse(0, "leaving torch's global settings changed (they were put back)", "state")
        if failure is not None:
            where = failure.where or (student_location(failure.exc.__traceback__, files) if failure.exc else "") or ""
            emit(ImportError_(ex_id, failure.kind, failure.message, where, **news()).to_json())
            continue
        emit(Imported(ex_id, **news()).to_json())
        for ch_index, check in enumerate(ex["checks"]):
            progress.step(GRADER, ex_index, ch_index)
            steps: list[tuple[str, tuple]] = []  # the student steps open now: (label, torch state to put back)

            def on_call(label: str, ex_index=ex_index, ch_index=ch_index, steps=steps) -> None:
                # a step inside a step (t.call inside t.run) puts back the settings it started with
                steps.append((label, torch_state.snapshot() if steps else state))
                progress.step(CALLING, ex_index, ch_index, label)

            def after_call(ex_index=ex_index, ch_index=ch_index, steps=steps) -> None:
                _, entry = steps.pop()
                if torch_state.restore(entry):
                    policy.refuse(0, "leaving torch's global settings changed (they were put back)", "state")
                if steps:  # back in the enclosing t.run: its own step again, with a fresh deadline
                    progress.step(CALLING, ex_index, ch_index, steps[-1][0])
                else:
                    progress.step(GRADER, ex_index, ch_index)

            trial = Trial(module, check["seed"], banned=BANS.get(ex_id), on_call=on_call, after_call=after_call,
                          student_files=files, tracebacks=False)
            record = run_trial(RUBRICS[ex_id].checks[check["id"]], trial)
            if torch_state.restore(state):  # student code the grader ran between steps (a hook, a backward)
                policy.refuse(0, "leaving torch's global settings changed (they were put back)", "state")
            emit(_record_event(ex_id, check["id"], record, news()))


def _record_event(exercise: str, check: str, record: TrialRecord, news: dict) -> dict:
    """The check's Record event, or one whose record says the check recorded something JSON cannot hold
    (a grader bug)."""
    try:
        event = Record(exercise, check, record, **news).to_json()
        json.dumps(event, allow_nan=True)
        return event
    except (TypeError, ValueError, RecursionError, AttributeError) as exc:  # AttributeError: not an Observation
        message = f"the check recorded a value that cannot be sent: {exc}"[:300]
        return Record(exercise, check, TrialRecord((Broken(type(exc).__name__, message, "grader"),)), **news).to_json()


def _cap(text: str) -> str:
    return text if len(text) <= OUTPUT_PER_EVENT else text[:OUTPUT_PER_EVENT] + f"\n[... {len(text) - OUTPUT_PER_EVENT} characters cut]"

