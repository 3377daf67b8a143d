"""Run untrusted code in forked, contained children of a warm "zygote" (see docs/architecture.md).

    client.py     the caller's side: Zygote.run(job, limits) -> Outcome
    server.py     the zygote: set-up, fork, supervise, reap
    child.py      the child: contain, hello, read the job, run the payload
    layers.py     the two ordered lists of protections (zygote set-up, child containment), and the probe
    framing.py    control frames (with fds) and authenticated result frames
    progress.py   the shared page the zygote's per-step deadlines are read from
    namespaces.py, mounts.py, linux.py   the Linux mechanisms behind the layers

Standard library only (the zygote imports this package before the namespaces are entered).
"""

from tensorgrade.run.sandbox.client import Zygote
from tensorgrade.run.sandbox.limits import STATUSES, Limits, Outcome

__all__ = ["Limits", "Outcome", "STATUSES", "Zygote"]
