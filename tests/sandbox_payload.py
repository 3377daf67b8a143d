"""Test payload for tests/test_sandbox.py: runs ``job["code"]`` as Python source.

``prepare`` warms torch up (as a real grader payload would); ``run`` executes
the code with ``emit`` in its globals and reports the result or the
exception as a message.  Out-of-memory errors (MemoryError, torch's
"can't allocate memory") are re-raised so the sandbox reports
status "memory" (the documented contract for payloads).
"""

import torch


def prepare(init):
    x = torch.randn(8, requires_grad=True, dtype=torch.float64)
    (x.sin() * x).sum().backward()
    globals()["INIT"] = init


def run(job, emit, progress):
    progress.step(2, 0, 0, "code")  # CALLING: the zygote's per-step deadline starts now
    scope = {"emit": emit, "torch": torch, "progress": progress, "__name__": "__student__"}
    try:
        exec(compile(job["code"], "<student>", "exec"), scope)
    except Exception as exc:  # student exceptions are results, not crashes
        if isinstance(exc, MemoryError) or "can't allocate memory" in str(exc):
            raise  # let the sandbox report status "memory"
        emit({"error": f"{type(exc).__name__}: {exc}"})
        return
    emit({"result": scope.get("result")})
