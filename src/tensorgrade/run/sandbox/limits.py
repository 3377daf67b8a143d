"""Per-job limits and the outcome of a job: the records the client and the zygote exchange."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    """Per-job resource limits. Wall-clock limits are per step of the child (see progress.py)."""

    idle_seconds: float = 5.0  # one student call, one import, one stretch of grader code
    cpu_seconds: float = 30.0  # the whole child (RLIMIT_CPU)
    memory_bytes: int = 2 * 1024**3
    output_bytes: int = 64 * 1024
    message_bytes: int = 4 * 1024**2
    total_seconds: float = 120.0  # the whole child, wall clock
    start_seconds: float = 30.0  # set-up before any student code: containment, reading and compiling the job


@dataclass
class Outcome:
    """What happened to one job. `status` is one of STATUSES; `stopped` says where a killed child was."""

    messages: list[dict] = field(default_factory=list)
    status: str = "ok"
    detail: str = ""
    output: str = ""
    seconds: float = 0.0
    stopped: dict = field(default_factory=dict)  # {"phase", "exercise", "check", "function"} from the progress page
    lean: bool = False  # forked before the zygote's late warm-up (run/child.after_first_job): see grading.py


STATUSES = ("ok", "timeout", "cpu", "memory", "crashed", "exit", "protocol")
