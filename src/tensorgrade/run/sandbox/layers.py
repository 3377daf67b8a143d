"""Which protections exist and in what order: the only two lists that say so.

`ZYGOTE_LAYERS` run once, in the zygote (a fresh interpreter that never held a
solution, an expected value or a student's file). `CHILD_LAYERS` run in every
forked child, between fork and the payload, in the order the kernel requires.
Each layer returns whether it took effect; `probe` (run once per zygote in a
throw-away child) then *measures* from inside a contained child what the
layers achieved, and that measurement is the zygote's isolation report.
`AFTER_FIRST_JOB` holds no protection: speed-ups the zygote makes once its first
child has been answered for.
"""

from __future__ import annotations

import fcntl
import os
import resource
import signal
import socket
from dataclasses import dataclass
from typing import Callable

from tensorgrade.run.sandbox import linux, mounts, namespaces

CHANNEL_FD, OUTPUT_FD, JOB_FD = 3, 1, 4  # in the child: results out, stdout/stderr, the job in
NPROC, NOFILE, FSIZE = 64, 256, 16 * 1024**2
WORKDIR = "/tmp/work"


@dataclass
class ZygoteState:
    """What the zygote's layers set up and the server needs later."""

    spec: dict
    isolation: dict
    payload: object = None
    scratch_keep: dict | None = None
    pidns_fd: int | None = None
    uid: int | None = None


# -- zygote set-up, in order ------------------------------------------------------
def _namespaces(z: ZygoteState) -> bool:
    if linux.AVAILABLE:
        namespaces.enter_namespaces(z.isolation)  # before anything starts a thread
    return bool(z.isolation.get("mount_namespace"))


def _payload(z: ZygoteState) -> bool:
    import importlib
    import sys

    sys.path[:] = z.spec["sys_path"]
    namespaces.limit_threads()
    z.payload = importlib.import_module(z.spec["payload"])
    if hasattr(z.payload, "prepare"):
        z.payload.prepare(z.spec["init"])
    namespaces.limit_threads()  # in case prepare imported torch itself
    return True


def _mounted(fn: Callable[[ZygoteState], bool]) -> Callable[[ZygoteState], bool]:
    return lambda z: bool(z.isolation.get("mount_namespace")) and fn(z)


def _confine(z: ZygoteState) -> bool:
    z.scratch_keep = mounts.scratch_keep(mounts.import_roots())
    ok = mounts.confine(mounts.import_roots())
    mounts.expose_interpreter(_needed_paths())
    return ok


def _needed_paths() -> list[str]:
    import sys

    paths = [sys.executable, sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path]
    return sorted({os.path.realpath(p) for p in paths if p and os.path.exists(p)})


def _pid_namespace(z: ZygoteState) -> bool:
    z.pidns_fd = namespaces.open_pid_namespace(z.spec["pid_namespace"])
    if z.pidns_fd is None and linux.AVAILABLE:
        linux.prctl(linux.PR_SET_CHILD_SUBREAPER, 1)  # orphans come to us, see server.sweep
    return z.pidns_fd is not None


def _uid(z: ZygoteState) -> bool:
    if os.geteuid() == 0 and linux.AVAILABLE and not z.isolation.get("user_namespace"):
        z.uid = namespaces.pick_sandbox_uid()
    return z.uid is not None


def _freeze(z: ZygoteState) -> bool:
    import gc

    gc.collect()
    gc.freeze()  # keep forked children from dirtying (copying) every page with refcounts
    return True


def payload_lean(z: ZygoteState) -> bool:
    """Whether the payload left part of its set-up for after the first child (a child forked now lacks it)."""
    lean = getattr(z.payload, "lean", None)
    return bool(lean and lean())


def _late_warm_up(z: ZygoteState) -> bool:
    """The set-up the payload left for after its first child (run/child.after_first_job), frozen like the rest."""
    late = getattr(z.payload, "after_first_job", None)
    if late is None or not late():
        return False
    namespaces.limit_threads()
    return _freeze(z)


def _huge_pages(z: ZygoteState) -> bool:
    """Fewer page-table entries to copy per fork and to unmap per exit (benchmarks/bench_breakdown.py:
    fork 11.0 -> 4.2 ms, a child's exit 15.8 -> 8.3 ms per student); the collapse costs about 0.3 s
    once, so only zygotes of many children ask for it, and only after their first child."""
    if z.spec.get("huge_pages"):
        linux.collapse_heap()
    return True


ZYGOTE_LAYERS: tuple[tuple[str, Callable[[ZygoteState], bool]], ...] = (
    ("mount_namespace", _namespaces),  # + network and IPC namespaces (and a user namespace when not root)
    ("payload_ready", _payload),  # not a protection: torch is imported here, after the namespaces
    ("confined_fs", _mounted(_confine)),  # only the OS and the interpreter's import roots stay visible
    ("hidden_dirs", _mounted(lambda z: mounts.hide(z.spec["hide"]))),
    ("readonly_fs", _mounted(lambda z: mounts.make_readonly())),
    ("proc_hidepid", _mounted(lambda z: mounts.mount_hidepid_proc())),
    ("scratch_tmpfs", _mounted(lambda z: mounts.reset_scratch(z.scratch_keep))),
    ("pid_namespace", _pid_namespace),  # a fresh one per child, see server.fork
    ("uid_drop", _uid),  # a private uid per zygote
    ("frozen_heap", _freeze),
)

# Not protections: speed-ups for the children after the first, done once the first child's reply is
# sent, so that a class's first result does not wait for them.
AFTER_FIRST_JOB: tuple[tuple[str, Callable[[ZygoteState], bool]], ...] = (
    ("late_warm_up", _late_warm_up),  # the first child sooner: a class's zygotes warm torch.func up after it
    ("huge_pages", _huge_pages),  # cheaper forks for a zygote of many children (after the late warm-up: it too)
)


# -- child containment, in order ------------------------------------------------
@dataclass
class ChildContext:
    zygote: ZygoteState
    limits: object
    job_r: int
    chan_w: int
    out_w: int
    workdir: str


def _session(c: ChildContext) -> bool:
    try:
        os.setsid()  # own process group: the fallback kill target
        return True
    except OSError:
        return False


def _fds(c: ChildContext) -> bool:
    """fd 0 = /dev/null, 1+2 = output pipe, 3 = result channel, 4 = the job; everything else closed.

    This also closes the zygote's control socket, so the child cannot talk to the client or the zygote.
    """
    job, chan, out = (fcntl.fcntl(fd, fcntl.F_DUPFD, 1000) for fd in (c.job_r, c.chan_w, c.out_w))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.dup2(chan, CHANNEL_FD)
    os.dup2(job, JOB_FD)
    os.closerange(JOB_FD + 1, _max_fd())
    for fd in (CHANNEL_FD, JOB_FD):
        os.set_inheritable(fd, False)  # a process the child starts does not get the channel
    return True


def _max_fd() -> int:
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return min(soft if soft > 0 else 1 << 20, 1 << 20)


def _workdir(c: ChildContext) -> bool:
    os.chdir(c.workdir)
    return True


def _environment(c: ChildContext) -> bool:
    os.environ.clear()
    os.environ.update(c.zygote.spec["child_env"])
    return True


def _ipc(c: ChildContext) -> bool:
    """A private IPC namespace per child: SysV shm, queues and semaphores die with it."""
    if not linux.AVAILABLE:
        return False
    try:
        linux.unshare(linux.CLONE_NEWIPC)
        return True
    except OSError:
        return False


def _rlimits(c: ChildContext) -> bool:
    """CPU (hard = soft: SIGKILL), memory, file size, no cores, process and fd counts."""
    limits = c.limits
    cpu = max(1, int(limits.cpu_seconds + 0.999))
    settings = [(resource.RLIMIT_CPU, cpu), (resource.RLIMIT_FSIZE, FSIZE), (resource.RLIMIT_CORE, 0),
                (resource.RLIMIT_NOFILE, NOFILE)]
    if hasattr(resource, "RLIMIT_DATA"):
        settings.append((resource.RLIMIT_DATA, limits.memory_bytes))
    if c.zygote.uid is not None and hasattr(resource, "RLIMIT_NPROC"):
        settings.append((resource.RLIMIT_NPROC, NPROC))  # per uid: only meaningful after the uid drop
    ok = True
    for which, value in settings:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            ok = False
    return _limit_address_space(limits.memory_bytes) and ok


def _limit_address_space(memory_bytes: int) -> bool:
    """RLIMIT_AS = what is mapped already (torch: ~640 MB) + the memory budget."""
    try:
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (mapped + memory_bytes, mapped + memory_bytes))
        return True
    except (OSError, ValueError):
        return False


def _privileges(c: ChildContext) -> bool:
    """Become the unprivileged sandbox uid (or shed namespace capabilities), then no new privileges."""
    uid = c.zygote.uid
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    elif c.zygote.isolation.get("user_namespace"):
        # We are "root" of our user namespace and could unmount the hiding tmpfs;
        # a nested user namespace leaves us without those capabilities.
        linux.unshare(linux.CLONE_NEWUSER)
    if linux.AVAILABLE:
        linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
        linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)  # set after setuid, which clears it
    return uid is not None or bool(c.zygote.isolation.get("user_namespace"))


CHILD_LAYERS: tuple[tuple[str, Callable[[ChildContext], bool]], ...] = (
    ("own_session", _session),
    ("private_fds", _fds),
    ("private_workdir", _workdir),
    ("scrubbed_env", _environment),
    ("ipc_namespace", _ipc),  # before the uid drop: needs CAP_SYS_ADMIN
    ("rlimits", _rlimits),
    ("unprivileged", _privileges),  # last: after it nothing above could be undone
)


# -- measured, from inside a contained child ------------------------------------
def probe(hidden: list[str], zygote_ipc: str) -> dict[str, bool]:
    """What a contained child can actually do; run in a throw-away child by the server."""
    found: dict[str, bool] = {}
    found["pid_namespace"] = os.getpid() == 1
    found["uid_drop"] = os.getuid() != 0 and os.geteuid() != 0
    try:
        found["ipc_namespace"] = os.readlink("/proc/self/ns/ipc") != zygote_ipc
    except OSError:
        found["ipc_namespace"] = False
    try:
        found["network_namespace"] = [name for _, name in socket.if_nameindex()] in ([], ["lo"])
    except OSError:
        found["network_namespace"] = False
    try:
        with socket.create_connection(("127.0.0.1", 9), timeout=0.2):
            pass
        found["no_network"] = False
    except OSError as exc:
        found["no_network"] = exc.errno in (101, 111, 99, None) or isinstance(exc, TimeoutError)
    found["hidden_dirs"] = all(_unreadable(p) for p in hidden)
    found["readonly_fs"] = _cannot_write("/etc") and _cannot_write("/usr")
    found["scratch_writable"] = not _cannot_write("/tmp")
    try:
        with open("/proc/self/status") as f:
            found["no_new_privs"] = any(line.split() == ["NoNewPrivs:", "1"] for line in f)
    except OSError:
        found["no_new_privs"] = False
    found["rlimits"] = resource.getrlimit(resource.RLIMIT_CPU)[0] not in (resource.RLIM_INFINITY, -1)
    return found


def _unreadable(path: str) -> bool:
    try:
        return not os.listdir(path) if os.path.isdir(path) else not open(path, "rb").read(1)
    except OSError:
        return True


def _cannot_write(folder: str) -> bool:
    try:
        fd = os.open(os.path.join(folder, f".tg-probe-{os.getpid()}"), os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    except OSError:
        return True
    os.close(fd)
    try:
        os.unlink(os.path.join(folder, f".tg-probe-{os.getpid()}"))
    except OSError:
        pass
    return False
